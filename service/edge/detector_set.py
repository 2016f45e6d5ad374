"""The detectors a deployment needs, one per role, loaded once and shared by its cameras."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from models.files import first_available
from models.loader import load_detector
from service.config import Config
from vision.counting import ScaledTiledDetector
from vision.detectors.base import Detector
from vision.rules.base import ROLES
from vision.tiling import TiledDetector
from vision.types import Detections, Frame

logger = logging.getLogger(__name__)

MODEL_ROLES = tuple(role for role in ROLES if role != "water")
"""Roles served by a model (``water`` is analysed by the waterlogging rule itself)."""

EAGLE_EYE_TILE = 640
"""Eagle-eye frames are bigger than the vendor model's training chips: tiles this wide."""


class DetectorSet:
    """Role -> Detector for ``config``'s models, loaded on first use (``preload`` to fail at
    startup instead). Detectors already loaded may be given per role (``person=...``: tests,
    benchmarks, a model shared with another component)."""

    def __init__(self, config: Config, **loaded: Detector | None) -> None:
        self.config = config
        self._detectors: dict[str, Detector] = {}
        self.names: dict[str, str] = {}
        self.seconds: Counter[str] = Counter()
        """Inference seconds per role."""
        self.batches = 0
        self._tiled_cameras = frozenset(c.id for c in config.cameras if c.tiled_people)
        self._tiled_person: Detector | None = None
        for role, detector in loaded.items():
            if role not in MODEL_ROLES:
                raise KeyError(f"no detector role '{role}' (roles: {', '.join(MODEL_ROLES)})")
            if detector is not None:
                self._detectors[role] = detector
                self.names[role] = getattr(detector, "name", "custom")

    def get(self, role: str) -> Detector:
        if role not in MODEL_ROLES:
            raise KeyError(f"no detector role '{role}' (roles: {', '.join(MODEL_ROLES)})")
        if role not in self._detectors:
            models = self.config.models
            name = first_available(getattr(models, role))
            logger.info("%s detector: %s on %s", role, name, models.device)
            detector = load_detector(
                name,
                device=models.device,
                conf=models.conf,
                runtime=models.resolved_runtime,
                precision=models.precision,
            )
            if role == "vendor":
                detector = TiledDetector(detector, tile_size=EAGLE_EYE_TILE, overlap=128)
            self._detectors[role] = detector
            self.names[role] = name
        return self._detectors[role]

    def preload(self, roles: Iterable[str]) -> None:
        for role in sorted(set(roles) & set(MODEL_ROLES)):
            self.get(role)

    def detect(
        self, frames: Sequence[Frame], due: Sequence[frozenset[str]], max_batch: int = 16
    ) -> list[Detections]:
        """Each frame through the detectors of its due roles, batched across frames per role;
        one Detections per frame (boxes in the frame's own pixels)."""
        parts: list[list[Detections]] = [[] for _ in frames]
        for role in MODEL_ROLES:
            chosen = [i for i, roles in enumerate(due) if role in roles]
            if not chosen:
                continue
            groups = {False: chosen}
            if role == "person":
                tiled = [frames[i].camera_id in self._tiled_cameras for i in chosen]
                groups = {
                    False: [i for i, t in zip(chosen, tiled, strict=True) if not t],
                    True: [i for i, t in zip(chosen, tiled, strict=True) if t],
                }
            for tiles, indices in groups.items():
                detector = self.tiled_people() if tiles else self.get(role)
                for start in range(0, len(indices), max_batch):
                    batch = indices[start : start + max_batch]
                    began = time.perf_counter()
                    results = detector.detect([frames[i].image for i in batch])
                    self.seconds[role] += time.perf_counter() - began
                    self.batches += 1
                    for i, dets in zip(batch, results, strict=True):
                        parts[i].append(dets)
        return [Detections.concat(p) for p in parts]

    def tiled_people(self) -> Detector:
        """The person detector on tiles scaled to each frame (cameras with ``tiling`` on): the
        same loaded model, so tiled and whole-frame cameras share it."""
        if self._tiled_person is None:
            self._tiled_person = ScaledTiledDetector(self.get("person"))
        return self._tiled_person
