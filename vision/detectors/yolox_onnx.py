"""YOLOX ONNX models through onnxruntime (e.g. the COCO YOLOX-Nano in ../shared/models)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from vision.detectors.base import ModelFileError, map_classes
from vision.types import Detections

logger = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
PAD_VALUE = 114


class YoloxOnnxDetector:
    """YOLOX exported to ONNX: BGR input, no normalisation, top-left letterbox padded with 114,
    raw grid-encoded outputs (cx, cy, w, h, objectness, class scores) decoded here."""

    def __init__(
        self,
        path: str | Path,
        class_names: Sequence[str],
        class_map: Mapping[str, str],
        *,
        name: str = "yolox",
        input_size: int = 416,
        conf: float = 0.25,
        iou: float = 0.45,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.name = name
        self.class_names = list(class_names)
        self.class_map = dict(class_map)
        self.labels = frozenset(self.class_map.values())
        self.input_size = input_size
        self.conf = conf
        self.iou = iou
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            index = int(device.partition(":")[2] or 0)
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelFileError(f"{path}: not a loadable ONNX model ({exc})") from None
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        batch = model_input.shape[0]
        self.fixed_batch = batch if isinstance(batch, int) else None
        shape = self.session.get_outputs()[0].shape
        if len(shape) != 3 or (isinstance(shape[2], int) and shape[2] != 5 + len(class_names)):
            raise ModelFileError(
                f"{path}: output shape {shape} is not YOLOX's (batch, anchors, 5 + "
                f"{len(class_names)} classes)"
            )
        self._grids, self._strides = _grid(input_size)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        blobs, ratios = zip(*(self._letterbox(image) for image in images), strict=True)
        batch = np.stack(blobs)
        if self.fixed_batch == 1 or self.fixed_batch is None and len(images) == 1:
            raw = np.concatenate(
                [self.session.run(None, {self.input_name: b[None]})[0] for b in batch]
            )
        elif self.fixed_batch is None:
            raw = self.session.run(None, {self.input_name: batch})[0]
        else:
            raw = np.concatenate(
                [
                    self._run_padded(batch[i : i + self.fixed_batch])
                    for i in range(0, len(batch), self.fixed_batch)
                ]
            )
        return [self._decode(raw[i], ratios[i]) for i in range(len(images))]

    def _run_padded(self, chunk: np.ndarray) -> np.ndarray:
        assert self.fixed_batch is not None
        missing = self.fixed_batch - len(chunk)
        if missing:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], missing, axis=0)])
        return self.session.run(None, {self.input_name: chunk})[0][: self.fixed_batch - missing]

    def _letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        size = self.input_size
        height, width = image.shape[:2]
        ratio = min(size / height, size / width)
        new_w, new_h = int(width * ratio), int(height * ratio)
        padded = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
        padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        return np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32), ratio

    def _decode(self, raw: np.ndarray, ratio: float) -> Detections:
        xy = (raw[:, :2] + self._grids) * self._strides
        wh = np.exp(np.clip(raw[:, 2:4], -20, 20)) * self._strides
        class_scores = raw[:, 5:] * raw[:, 4:5]
        class_ids = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(class_ids)), class_ids]
        keep = scores >= self.conf
        xy, wh, class_ids, scores = xy[keep], wh[keep], class_ids[keep], scores[keep]
        mapped, labels = map_classes(class_ids, self.class_names, self.class_map)
        xy, wh, class_ids, scores = xy[mapped], wh[mapped], class_ids[mapped], scores[mapped]
        boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1) / ratio
        chosen = class_aware_nms(boxes, scores, class_ids, self.iou)
        return Detections(boxes[chosen], labels[chosen], scores[chosen])


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    grids, strides = [], []
    for stride in STRIDES:
        cells = size // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((cells * cells, 1), stride))
    return (
        np.concatenate(grids).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )


def class_aware_nms(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float
) -> np.ndarray:
    """Indices kept by non-maximum suppression done separately per class, best first."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    offset = class_ids.astype(np.float32)[:, None] * (float(boxes.max()) + 1.0)
    shifted = boxes + offset
    xywh = np.concatenate([shifted[:, :2], shifted[:, 2:] - shifted[:, :2]], axis=1)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, iou)
    return np.asarray(kept, dtype=np.int64).reshape(-1)
