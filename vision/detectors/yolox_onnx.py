"""YOLOX ONNX models (e.g. the COCO YOLOX-Nano in ../shared/models), run by OpenVINO or ONNX
Runtime.

- ``runtime="openvino"`` (CPU): the model is reshaped to the letterboxed frame's own rectangle
  (longest side ``input_size``, the other rounded up to a multiple of 32), one compiled model
  per shape, batch of one, so a 16:9 camera costs 416x256, not a padded 416x416 square; the
  frames of a batch run in parallel, one per OpenVINO stream (``openvino_pool``).
  Measured on the 2-core test machine (YOLOX-Nano, one 1080p frame, network only): ONNX
  Runtime 0.052 CPU s, OpenVINO square 0.033, OpenVINO rectangle 0.022.
- ``runtime="onnxruntime"``: the model's own fixed square input; the CUDA provider on ``cuda``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np

from vision.detectors.base import ModelFileError, map_classes
from vision.detectors.openvino_pool import Infer
from vision.types import Detections

logger = logging.getLogger(__name__)

STRIDES = (8, 16, 32)
PAD_VALUE = 114
YoloxRuntime = Literal["openvino", "onnxruntime"]


class _Runner(Protocol):
    """Runs the network on a float32 NCHW batch of one shape; raw (N, anchors, 5 + classes)."""

    outputs: int | None
    """Values per anchor (5 + classes), when the model says."""

    def shape_for(self, height: int, width: int) -> tuple[int, int]: ...

    def run(self, batch: np.ndarray) -> np.ndarray: ...


class _OnnxRuntimeRunner:
    def __init__(self, path: Path, size: int, device: str, threads: int | None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers: list = ["CPUExecutionProvider"]
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
        last = self.session.get_outputs()[0].shape
        self.outputs = last[2] if len(last) == 3 and isinstance(last[2], int) else None
        self.output_rank = len(last)
        self.size = size

    def shape_for(self, height: int, width: int) -> tuple[int, int]:
        return self.size, self.size  # the exported square: ONNX Runtime cannot reshape it

    def run(self, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is None and len(batch) > 1:
            return self.session.run(None, {self.input_name: batch})[0]
        step = self.fixed_batch or 1
        return np.concatenate(
            [self._run_padded(batch[i : i + step], step) for i in range(0, len(batch), step)]
        )

    def _run_padded(self, chunk: np.ndarray, step: int) -> np.ndarray:
        missing = step - len(chunk)
        if missing:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], missing, axis=0)])
        return self.session.run(None, {self.input_name: chunk})[0][: step - missing]


class _OpenVinoRunner:
    def __init__(self, path: Path, size: int, threads: int | None) -> None:
        from vision.detectors.openvino_pool import OpenVinoPool

        self.pool = OpenVinoPool(path, threads=threads, reshape=True, what="ONNX model")
        last = self.pool.model.outputs[0].get_partial_shape()
        self.outputs = (
            last[2].get_length() if last.rank.get_length() == 3 and last[2].is_static else None
        )
        self.output_rank = last.rank.get_length()
        self.size = size

    def shape_for(self, height: int, width: int) -> tuple[int, int]:
        ratio = min(self.size / height, self.size / width)
        return _round_up(int(height * ratio)), _round_up(int(width * ratio))

    def run(self, batch: np.ndarray) -> np.ndarray:
        # one image a request: YOLOX's ONNX graphs fold the batch into the anchors (their final
        # reshape has a batch of 1 baked in); the pool runs the requests on every core
        return np.concatenate(self.pool.run([image[None] for image in batch]))


def _round_up(value: int) -> int:
    return max(STRIDES[-1], math.ceil(value / STRIDES[-1]) * STRIDES[-1])


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
        runtime: YoloxRuntime = "onnxruntime",
    ) -> None:
        if runtime == "openvino" and device != "cpu":
            raise ValueError(f"runtime openvino runs on the CPU only, not on {device}")
        self.name = name
        self.class_names = list(class_names)
        self.class_map = dict(class_map)
        self.labels = frozenset(self.class_map.values())
        self.input_size = input_size
        self.conf = conf
        self.iou = iou
        self.runtime = runtime
        path = Path(path)
        self._runner: _Runner = (
            _OpenVinoRunner(path, input_size, threads)
            if runtime == "openvino"
            else _OnnxRuntimeRunner(path, input_size, device, threads)
        )
        outputs = self._runner.outputs
        if self._runner.output_rank != 3 or (
            outputs is not None and outputs != 5 + len(class_names)
        ):
            raise ModelFileError(
                f"{path}: output is not YOLOX's (batch, anchors, 5 + {len(class_names)} classes)"
            )
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One Detections per image; images of one input shape run as one batch (ONNX
        Runtime), or each in an OpenVINO lane of its own (see openvino_pool)."""
        if isinstance(self._runner, _OpenVinoRunner):
            return self._runner.pool.map(self._detect_one, images, self._blob_shape)
        results: list[Detections | None] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        shapes = [self._runner.shape_for(*image.shape[:2]) for image in images]
        for i, shape in enumerate(shapes):
            groups.setdefault(shape, []).append(i)
        for shape, members in groups.items():
            blobs, ratios = zip(*(self._letterbox(images[i], shape) for i in members), strict=True)
            raw = self._runner.run(np.stack(blobs))
            for row, i in enumerate(members):
                results[i] = self._decode(raw[row], ratios[row], shape)
        return [r for r in results if r is not None]

    def _blob_shape(self, image: np.ndarray) -> tuple[int, ...]:
        return (1, 3, *self._runner.shape_for(*image.shape[:2]))

    def _detect_one(self, infer: Infer, image: np.ndarray) -> Detections:
        shape = self._runner.shape_for(*image.shape[:2])
        blob, ratio = self._letterbox(image, shape)
        return self._decode(infer(blob[None])[0], ratio, shape)

    def _letterbox(self, image: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
        height, width = image.shape[:2]
        ratio = min(self.input_size / height, self.input_size / width)
        new_w, new_h = int(width * ratio), int(height * ratio)
        padded = np.full((*shape, 3), PAD_VALUE, dtype=np.uint8)
        padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        return np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32), ratio

    def _grid_for(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        if shape not in self._grids:
            self._grids[shape] = _grid(*shape)
        return self._grids[shape]

    def _decode(self, raw: np.ndarray, ratio: float, shape: tuple[int, int]) -> Detections:
        grids, strides = self._grid_for(shape)
        if len(raw) != len(grids):
            raise ModelFileError(
                f"model '{self.name}': {len(raw)} anchors for a {shape[1]}x{shape[0]} input, "
                f"expected {len(grids)} (strides {STRIDES})"
            )
        xy = (raw[:, :2] + grids) * strides
        wh = np.exp(np.clip(raw[:, 2:4], -20, 20)) * strides
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


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    grids, strides = [], []
    for stride in STRIDES:
        ys, xs = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((grids[-1].shape[0], 1), stride))
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
