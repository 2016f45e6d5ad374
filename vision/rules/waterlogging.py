"""The waterlogging rule: standing water covers >= ``min_coverage`` of a road zone for >=
``min_duration_s``.

No model: the rule runs the reference-frame ``WaterDetector`` (vision/detectors/water.py) on
the frame itself, with the zone's polygon as the road, and thresholds the share of the zone
under water over time.

Limits, honestly:

- The rule inherits every limit of the detector (see its docstring): it sees *change against a
  dry reference*, not water. Shadows not in the reference, a new dark patch, oil stains, or a
  road wet all over after rain can read as water; a puddle already in the reference is
  invisible; night, headlights, rain on the lens and camera shake break the comparison. Its
  thresholds were set on one clip with painted puddles; there is no measured precision or
  recall on real floods. The duration requirement removes what moves (people, vehicles), not
  what stays (a parked car's shadow).
- With no configured ``reference`` image, the rule learns one from the first
  ``reference_frames`` frames it analyses (per-pixel median): this assumes the road is dry
  when the camera starts. A camera started during a flood learns the flood as dry and never
  reports it; configure a reference taken on a dry day (at a similar hour) where that matters.
  Frames outside the zone's active hours are neither learned from nor analysed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from vision.detectors.water import WaterAnalysis, WaterDetector, work_size
from vision.rules.base import EventKind, FiniteFloat, RuleSettings, RuleSpec
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

logger = logging.getLogger(__name__)

TYPE = "waterlogging"


class WaterloggingSettings(RuleSettings):
    """Water covers >= ``min_coverage`` of the zone (a road) for >= ``min_duration_s``; found by
    comparison with a dry reference frame of the camera."""

    min_coverage: FiniteFloat = Field(0.15, gt=0, le=1, description="Share of the zone under water")
    min_duration_s: FiniteFloat = Field(
        60.0, ge=0, description="How long the water must stay before an event opens"
    )
    max_gap_s: FiniteFloat = Field(
        10.0, ge=0, description="Coverage may dip this long without restarting the duration"
    )
    reference: str | None = Field(
        None,
        description="Dry reference image of this camera (path, relative to the config file); "
        "unset: the median of the first frames, so the road must be dry at start",
    )
    reference_frames: int = Field(
        5, ge=1, le=100, description="Frames whose median is the learned reference"
    )

    def resolved(self, resolve: Callable[[str], str]) -> WaterloggingSettings:
        if self.reference is None:
            return self
        return self.model_copy(update={"reference": resolve(self.reference)})


class WaterloggingRule:
    """Measures the water coverage of one road zone on each frame it is given; reports a
    candidate (the water regions' boxes) on every frame where the coverage has held at least
    ``min_coverage`` for at least ``min_duration_s``. Dips no longer than ``max_gap_s`` (a bus
    parked over the puddle, a missed frame) do not restart the clock."""

    type = TYPE
    needs = frozenset({"water"})

    def __init__(self, camera_id: str, zone: Zone, thresholds: WaterloggingSettings) -> None:
        if thresholds.reference is None and thresholds.reference_frames < 1:
            raise ValueError(
                f"{camera_id}: waterlogging in zone {zone.name!r}: reference_frames must be "
                f"at least 1, got {thresholds.reference_frames}"
            )
        self.camera_id = camera_id
        self.zone = zone
        self.thresholds = thresholds
        self._reference = (
            None
            if thresholds.reference is None
            else _read_reference(camera_id, thresholds.reference)
        )
        self._learning: list[np.ndarray] = []
        self._detector: WaterDetector | None = None
        self._scale = 1.0
        self._since: float | None = None
        self._last_wet: float | None = None

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]:
        if not self.zone.is_active(frame.wall):
            self._since = self._last_wet = None
            return []
        analysis = self._analyse(frame)
        if analysis is None:
            return []  # still learning the dry reference
        t = self.thresholds
        logger.debug(
            "%s: zone %s water coverage %.3f at %.1fs",
            self.camera_id,
            self.zone.name,
            analysis.coverage,
            frame.pts,
        )
        wet = analysis.coverage >= t.min_coverage
        if wet:
            gap_broken = self._last_wet is None or frame.pts - self._last_wet > t.max_gap_s
            if self._since is None or gap_broken:
                self._since = frame.pts
            self._last_wet = frame.pts
        elif self._last_wet is not None and frame.pts - self._last_wet > t.max_gap_s:
            self._since = self._last_wet = None
        if not wet or self._since is None or frame.pts - self._since < t.min_duration_s:
            return []
        water = analysis.detections
        boxes = water.xyxy * self._scale
        return [
            Candidate(
                type=TYPE,
                camera_id=self.camera_id,
                zone=self.zone.name,
                pts=frame.pts,
                wall=frame.wall,
                score=float(water.score.mean()) if len(water) else analysis.coverage,
                boxes=[[round(float(v), 1) for v in box] for box in boxes],
                count=None,
                started_pts=self._since,
            )
        ]

    def _analyse(self, frame: Frame) -> WaterAnalysis | None:
        """The frame's water analysis, or None while the reference is being learned."""
        image = frame.image
        size = (int(image.shape[1]), int(image.shape[0]))
        if self._detector is not None and self._detector.size != size:
            if self.thresholds.reference is not None:
                raise ValueError(self._wrong_size(size))
            logger.warning(
                "%s: zone %s: frames changed from %dx%d to %dx%d, learning a new dry reference",
                self.camera_id,
                self.zone.name,
                *self._detector.size,
                *size,
            )
            self._detector = None
            self._since = self._last_wet = None
        if self._detector is None:
            reference = self._reference
            if reference is None:  # learnt at the working size: a ninth of the work at 1080p
                small = cv2.resize(image, work_size(size), interpolation=cv2.INTER_AREA)
                self._learning.append(small)
                if len(self._learning) < self.thresholds.reference_frames:
                    return None
                reference = np.median(np.stack(self._learning), axis=0).astype(np.uint8)
                self._learning = []
                logger.info(
                    "%s: zone %s: learned the dry reference from %d frames up to %.1fs",
                    self.camera_id,
                    self.zone.name,
                    self.thresholds.reference_frames,
                    frame.pts,
                )
                self._build(reference, frame.scale, size)
                return None
            if (reference.shape[1], reference.shape[0]) != size:
                raise ValueError(self._wrong_size(size))
            self._build(reference, frame.scale, size)
        assert self._detector is not None
        return self._detector.analyse(image)

    def _build(self, reference: np.ndarray, scale: float, size: tuple[int, int]) -> None:
        """The detector on the zone for frames of ``size``, the polygon (source pixels) taken to
        image pixels."""
        self._scale = scale
        road = self.zone.polygon / scale
        try:
            self._detector = WaterDetector(
                reference, road, name=f"{self.camera_id}/water", frame_size=size
            )
        except ValueError as error:
            raise ValueError(
                f"{self.camera_id}: waterlogging zone {self.zone.name!r}: {error}"
            ) from None

    def _wrong_size(self, size: tuple[int, int]) -> str:
        assert self._reference is not None
        height, width = self._reference.shape[:2]
        return (
            f"{self.camera_id}: waterlogging reference {self.thresholds.reference} is "
            f"{width}x{height} but the frames are {size[0]}x{size[1]}: take the reference "
            f"from this camera at its decoded size"
        )


def _read_reference(camera_id: str, path: str) -> np.ndarray:
    file = Path(path)
    if not file.is_file():
        raise ValueError(
            f"{camera_id}: waterlogging reference {path}: no such file (give the path of a "
            f"dry image of this camera, or leave reference unset to learn one)"
        )
    image = cv2.imread(str(file), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(
            f"{camera_id}: waterlogging reference {path}: cannot be read as an image "
            f"(use PNG or JPEG)"
        )
    return image


def _build(
    camera_id: str, zone: Zone, settings: WaterloggingSettings, needs: frozenset[str]
) -> WaterloggingRule:
    return WaterloggingRule(camera_id, zone, settings)


SPEC = RuleSpec(
    name=TYPE,
    settings=WaterloggingSettings,
    events=(EventKind(TYPE, "积水", "Waterlogging", "water_affairs", 60, "high", "water"),),
    build=_build,
    roles=WaterloggingRule.needs,
)
