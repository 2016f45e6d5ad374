"""Ultralytics YOLO detection exports (``*_openvino_model`` folders, FP32 or INT8) run by
OpenVINO directly, without Ultralytics' predictor.

The same preprocessing and decoding as ``ultralytics.YOLO.predict`` on a dynamic export
(minimal-rectangle letterbox centred and padded with 114, RGB scaled to 0-1; output
(N, 4 + classes, anchors) of centre-size boxes and class scores; class-aware NMS), so the
boxes are Ultralytics' own (tested on real val images). What it adds: every frame of a batch
runs on its own OpenVINO stream in parallel (``openvino_pool``), where Ultralytics runs one
synchronous LATENCY request at a time, and no torch tensors on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import yaml

from vision.detectors.base import ModelFileError, check_class_map, map_classes
from vision.detectors.openvino_pool import Infer, OpenVinoPool
from vision.detectors.yolox_onnx import class_aware_nms
from vision.types import Detections

PAD_VALUE = 114
MAX_DETECTIONS = 300


class OpenVinoYoloDetector:
    """An Ultralytics detection export in OpenVINO IR, batched across frames and cores."""

    def __init__(
        self,
        folder: str | Path,
        class_map: Mapping[str, str],
        *,
        name: str = "yolo",
        input_size: int = 640,
        conf: float = 0.25,
        iou: float = 0.45,
        threads: int | None = None,
    ) -> None:
        folder = Path(folder)
        xml = next(iter(sorted(folder.glob("*.xml"))), None)
        meta_file = folder / "metadata.yaml"
        if xml is None or not meta_file.is_file():
            raise ModelFileError(f"{folder}: not an Ultralytics OpenVINO export (.xml, metadata)")
        try:
            meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ModelFileError(f"{meta_file}: unreadable ({exc})") from None
        if meta.get("task", "detect") != "detect" or meta.get("end2end"):
            raise ModelFileError(f"{folder}: a {meta.get('task')} export, not a detection model")
        names = meta.get("names") or {}
        self.class_names = [str(names[i]) for i in sorted(names)]
        check_class_map(folder, class_map, self.class_names)
        self.folder = folder
        self.name = name
        self.class_map = dict(class_map)
        self.labels = frozenset(self.class_map.values())
        self.input_size = input_size
        self.stride = int(meta.get("stride", 32))
        self.conf = conf
        self.iou = iou
        self.pool = OpenVinoPool(xml, threads=threads, what="OpenVINO model")
        shape = self.pool.model.inputs[0].get_partial_shape()
        self.fixed = (  # a static export: letterbox to its own square
            None if shape.is_dynamic else (shape[2].get_length(), shape[3].get_length())
        )
        outputs = self.pool.model.outputs[0].get_partial_shape()
        if outputs.rank.get_length() != 3 or (
            outputs[1].is_static and outputs[1].get_length() != 4 + len(self.class_names)
        ):
            raise ModelFileError(
                f"{xml}: output {outputs} is not a YOLO detection head "
                f"(batch, 4 + {len(self.class_names)} classes, anchors)"
            )

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        return self.pool.map(self._detect_one, images)

    def _detect_one(self, infer: Infer, image: np.ndarray) -> Detections:
        blob, gain, pad = self._letterbox(image)
        return self._decode(infer(blob)[0], gain, pad, image.shape[:2])

    def _letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        """Ultralytics' LetterBox (auto for dynamic exports): (blob, gain, (pad_x, pad_y))."""
        height, width = image.shape[:2]
        target_h, target_w = self.fixed or (self.input_size, self.input_size)
        gain = min(target_h / height, target_w / width)
        new_w, new_h = round(width * gain), round(height * gain)
        pad_w, pad_h = target_w - new_w, target_h - new_h
        if self.fixed is None:
            pad_w, pad_h = pad_w % self.stride, pad_h % self.stride
        pad_w, pad_h = pad_w / 2, pad_h / 2
        if (new_w, new_h) != (width, height):
            image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
        left, right = round(pad_w - 0.1), round(pad_w + 0.1)
        image = cv2.copyMakeBorder(
            image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
        )
        # one pass: BGR -> RGB, HWC -> NCHW, 0-255 -> 0-1 float32
        blob = cv2.dnn.blobFromImage(image, 1 / 255.0, swapRB=True)
        return blob, gain, (left, top)

    def _decode(
        self, raw: np.ndarray, gain: float, pad: tuple[float, float], shape: tuple[int, int]
    ) -> Detections:
        scores_all = raw[4:].T  # (anchors, classes)
        class_ids = scores_all.argmax(axis=1)
        scores = scores_all[np.arange(len(class_ids)), class_ids]
        keep = scores > self.conf
        if not keep.any():
            return Detections.empty()
        boxes, scores, class_ids = raw[:4].T[keep], scores[keep], class_ids[keep]
        mapped, labels = map_classes(class_ids, self.class_names, self.class_map)
        boxes, scores, class_ids = boxes[mapped], scores[mapped], class_ids[mapped]
        xyxy = np.concatenate([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1)
        chosen = class_aware_nms(xyxy, scores, class_ids, self.iou)[:MAX_DETECTIONS]
        xyxy = (xyxy[chosen] - np.array([pad[0], pad[1], pad[0], pad[1]], np.float32)) / gain
        height, width = shape
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
        return Detections(xyxy, labels[chosen], scores[chosen])
