"""Ultralytics YOLO models (.pt, .onnx, .engine, OpenVINO) with a canonical class map."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from vision.detectors.base import ModelFileError, check_class_map, map_classes
from vision.types import Detections

logger = logging.getLogger(__name__)


class UltralyticsDetector:
    """Batched predict through ``ultralytics.YOLO``; one call per batch of frames."""

    def __init__(
        self,
        path: str | Path,
        class_map: Mapping[str, str],
        *,
        name: str = "yolo",
        input_size: int = 640,
        conf: float = 0.25,
        iou: float = 0.45,
        device: str = "cpu",
        half: bool = False,
    ) -> None:
        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics import YOLO

        self.name = name
        self.class_map = dict(class_map)
        self.labels = frozenset(self.class_map.values())
        self.input_size = input_size
        self.conf = conf
        self.iou = iou
        self.device = device
        self.half = half and device.startswith("cuda")
        try:
            self.model = YOLO(str(path), task="detect")
        except Exception as exc:  # ultralytics raises many kinds on a bad file
            raise ModelFileError(f"{path}: not a loadable Ultralytics YOLO model ({exc})") from None
        names = self.model.names
        self.class_names = (
            [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
        )
        check_class_map(path, self.class_map, self.class_names)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        options = {"imgsz": self.input_size, "conf": self.conf, "iou": self.iou}
        if self.half:  # only passed when set: newer Ultralytics warns on every call otherwise
            options["half"] = True
        results = self.model.predict(list(images), device=self.device, verbose=False, **options)
        return [self._convert(result) for result in results]

    def _convert(self, result) -> Detections:  # noqa: ANN001 - ultralytics Results
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return Detections.empty()
        xyxy = boxes.xyxy.cpu().numpy()
        scores = boxes.conf.cpu().numpy()
        class_ids = boxes.cls.cpu().numpy().astype(np.int64)
        keep, labels = map_classes(class_ids, self.class_names, self.class_map)
        return Detections(xyxy[keep], labels, scores[keep])
