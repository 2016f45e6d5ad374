"""Standing water on a road, found without a trained model, by comparison with a dry reference.

No labelled water data exists here, so this detector compares each frame with a *dry
reference* of the same camera (the per-pixel median of frames of a dry day, which removes
passers-by) inside a road region, and marks pixels that look like standing water:

- **tone change**: wet asphalt and puddles are darker than the dry road, or brighter where they
  mirror the sky. Measured as the pixel's brightness ratio to the reference, divided by the
  frame-wide median ratio, so a global lighting change (a cloud, the camera's exposure) cancels;
  near-black pixels (below ``darkest`` of the dry road: dark clothing, tyres) are not water;
- **specular highlights**: small new near-white, unsaturated spots (glints of the sky or of
  lamps) count as water only beside wet-looking road; on their own they are white clothes,
  paper or car paint;
- **texture loss**: a water film smooths the surface, so the local detail (median absolute
  Laplacian over 9x9 pixels, robust to the sharp edges of glints) must not grow beyond the dry
  road's; people, bags and vehicles add edges;
- **shape**: connected regions smaller than ``min_area`` (share of the road), taller than
  wide by more than ``max_aspect`` (people are upright; puddles on the ground look flat from
  an elevated camera: raise it for top-down eagle-eye views), filling less than ``min_fill``
  of their box, or with less than ``min_core`` of their pixels changed-and-smooth (rather than
  glints and their surroundings) are dropped.

Each region is a ``water`` detection (box, score = mean cue strength in [0, 1]); ``analyse``
also returns the water mask and its ``coverage`` (share of the road region under water), which
the waterlogging rule thresholds over time. A segmentation model can replace this class later:
anything with ``detect(images)`` and ``analyse(image) -> WaterAnalysis`` fits.

Limits, honestly:

- It sees *change against the reference*, not water. Shadows of parked vehicles or buildings
  that were not in the reference, a newly laid dark patch, oil stains, snow melt, or a road
  that is wet all over after rain (darker but not standing water) can all read as water; a
  puddle already in the "dry" reference is invisible. The reference must come from the same
  camera position and should be refreshed (e.g. on every dry day at a similar hour).
- Global gain compensation assumes most of the frame is not water; a frame that is mostly
  flooded (not just the road) weakens the tone cue.
- Night, headlights, rain drops on the lens, camera shake (any misalignment with the
  reference) and strong compression noise break the per-pixel comparison.
- Stationary people or objects wider than tall and without texture (a tarpaulin, a dark car
  roof) pass the shape test. Persistence over minutes belongs to the rule, which should
  require the coverage to hold for a duration; moving things do not persist.
- Thresholds were set on one real clip (PETS 2009, 768x576, a light concrete road, overcast)
  with synthetic puddles painted on it (darkened, blurred, glints; or brighter, mirroring the
  sky); there is no measured precision or recall on real floods. It found every painted
  puddle and no water in the clip's 160 untouched frames (2 fps), people walking included.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vision.types import Detections

logger = logging.getLogger(__name__)

_WINDOW = 9
"""Texture window side (pixels at the working scale)."""


WORK_WIDTH = 640
"""Frames are analysed at most this wide."""


def work_size(frame_size: tuple[int, int], work_width: int = WORK_WIDTH) -> tuple[int, int]:
    """(width, height) at which a frame of ``frame_size`` is analysed."""
    scale = min(1.0, work_width / frame_size[0])
    return round(frame_size[0] * scale), round(frame_size[1] * scale)


@dataclass(frozen=True)
class WaterAnalysis:
    """One frame: the water mask at the working scale, its share of the road region, boxes
    (frame pixels). ``mask`` gives the mask in frame pixels (made on demand: the rule needs
    only the coverage and the boxes)."""

    work_mask: np.ndarray
    frame_size: tuple[int, int]
    coverage: float
    detections: Detections

    @property
    def mask(self) -> np.ndarray:
        """The water mask (bool) in frame pixels."""
        return cv2.resize(
            self.work_mask.astype(np.uint8), self.frame_size, interpolation=cv2.INTER_NEAREST
        ).astype(bool)


@dataclass(frozen=True)
class _Surface:
    """Per-pixel measures of an image at the working scale."""

    brightness: np.ndarray
    """HSV value, smoothed (5x5 Gaussian) against noise."""
    saturation: np.ndarray
    peak: np.ndarray
    """HSV value, not smoothed: small highlights keep their brightness."""
    texture: np.ndarray
    """Median of the absolute Laplacian over a 9x9 window: the surface's detail, robust to
    the sparse sharp edges of highlights on water."""


class WaterDetector:
    """Standing water on a road region, by comparison with a dry reference frame.

    ``reference``: a dry BGR frame of this camera (see ``from_frames``), at the frames' size or
    already at the working size of ``frame_size`` (the frames' size, default the reference's).
    ``road``: polygon ``[[x, y], ...]`` in frame pixels (default: the whole frame).
    ``tone``: minimum relative brightness change.
    ``darkest``: pixels darker than this share of the dry road are not water (dark clothing,
    tyres).
    ``min_area``: smallest region as a share of the road.
    ``max_aspect``: largest height/width of a region's box.
    ``min_fill``: smallest share of its box a region fills.
    ``min_core``: smallest share of a region that must be core pixels (see ``_cues``), not
    highlights and their surroundings.
    ``work_width``: frames are analysed at most this wide.
    """

    def __init__(
        self,
        reference: np.ndarray,
        road: Sequence[Sequence[float]] | None = None,
        *,
        name: str = "water-reference",
        tone: float = 0.18,
        darkest: float = 0.3,
        min_area: float = 0.004,
        max_aspect: float = 1.2,
        min_fill: float = 0.35,
        min_core: float = 0.3,
        work_width: int = WORK_WIDTH,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        if reference.ndim != 3 or reference.shape[2] != 3:
            raise ValueError(f"reference must be a BGR image, got shape {reference.shape}")
        self.name = name
        self.labels = frozenset({"water"})
        self.tone = tone
        self.darkest = darkest
        self.min_area = min_area
        self.max_aspect = max_aspect
        self.min_fill = min_fill
        self.min_core = min_core
        self.size = frame_size or (int(reference.shape[1]), int(reference.shape[0]))
        self.scale = min(1.0, work_width / self.size[0])
        work = work_size(self.size, work_width)
        self.work_size = work
        road_mask = np.zeros((work[1], work[0]), np.uint8)
        if road is None:
            road_mask[:] = 1
        else:
            polygon = np.asarray(road, dtype=np.float64).reshape(-1, 2) * self.scale
            cv2.fillPoly(road_mask, [np.round(polygon).astype(np.int32)], 1)
        self.road = road_mask.astype(bool)
        self.road_area = float(self.road.sum())
        if not self.road_area:
            raise ValueError(f"road polygon covers no pixel of the {self.size} frame")
        self.reference = _surface(self._resize(reference))

    @classmethod
    def from_frames(
        cls, frames: Sequence[np.ndarray], road: Sequence[Sequence[float]] | None = None, **kw
    ) -> WaterDetector:
        """Use the per-pixel median of dry frames as the reference (passers-by vanish)."""
        if not frames:
            raise ValueError("no frames for the dry reference")
        return cls(np.median(np.stack(frames), axis=0).astype(np.uint8), road, **kw)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return [self.analyse(image).detections for image in images]

    def analyse(self, image: np.ndarray) -> WaterAnalysis:
        if (image.shape[1], image.shape[0]) != self.size:
            raise ValueError(
                f"{self.name}: frame is {image.shape[1]}x{image.shape[0]}, the reference "
                f"{self.size[0]}x{self.size[1]} (one detector per camera view)"
            )
        current = _surface(self._resize(image))
        strength, core = self._cues(current)
        candidate = (strength > 0) & self.road
        candidate = cv2.morphologyEx(
            candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
        )
        candidate = cv2.morphologyEx(
            candidate, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))
        )
        candidate = _fill_holes(candidate) & self.road.astype(np.uint8)
        mask, boxes, scores = self._regions(candidate, strength, core)
        coverage = float(mask.sum() / self.road_area)
        dets = Detections(
            np.array(boxes, np.float32).reshape(-1, 4) / self.scale,
            np.array(["water"] * len(boxes), dtype=object),
            np.array(scores, np.float32),
        )
        return WaterAnalysis(mask, self.size, coverage, dets)

    def _resize(self, image: np.ndarray) -> np.ndarray:
        if (image.shape[1], image.shape[0]) == self.work_size:
            return image
        return cv2.resize(image, self.work_size, interpolation=cv2.INTER_AREA)

    def _cues(self, current: _Surface) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel water strength in [0, 1] (0: not water), and the *core* pixels: changed
        tone on a surface no more detailed than the dry road, away from any highlight."""
        ref = self.reference
        ratio = (current.brightness + 4.0) / (ref.brightness + 4.0)
        gain = float(np.median(ratio))  # the light of the whole view changed this much
        relative = ratio / gain
        change = np.abs(np.log(relative))
        toned = (change >= np.log(1 + self.tone)) & (relative >= self.darkest)
        smoother = current.texture <= ref.texture * gain * 1.15 + 4.0
        glare = _small_regions(
            (current.peak >= 200)
            & (current.saturation <= 40)
            & (current.peak >= 1.1 * gain * ref.brightness),
            max_area=2 * _WINDOW * _WINDOW,
        )  # glints; a wide bright mirror of the sky is a change of tone instead
        # highlights' own sharp edges raise the detail around them: do not hold that against
        # the darkened surface next to them
        beside_glare = cv2.dilate(glare.astype(np.uint8), _square(_WINDOW + 2)).astype(bool)
        seed = toned & (smoother | beside_glare) & ~glare
        # highlights count only beside wet-looking road: on their own they are white clothes,
        # paper or car paint
        near_seed = cv2.dilate(seed.astype(np.uint8), _square(9)).astype(bool)
        specular = glare & near_seed
        tone = np.clip(change / np.log(1 + 2 * self.tone), 0, 1)
        texture_loss = np.clip(1 - current.texture / (ref.texture * gain + 1.0), 0, 1)
        strength = 0.6 * np.maximum(tone, specular) + 0.4 * texture_loss
        core = toned & smoother & ~glare
        return np.where(seed | specular, np.clip(strength, 0.05, 1), 0.0), core

    def _regions(
        self, candidate: np.ndarray, strength: np.ndarray, core: np.ndarray
    ) -> tuple[np.ndarray, list[list[float]], list[float]]:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
        mask = np.zeros(candidate.shape, bool)
        boxes, scores = [], []
        for index in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[index])
            if area < self.min_area * self.road_area:
                continue
            if h > self.max_aspect * w or area < self.min_fill * w * h:
                continue
            region = labels == index
            if core[region].mean() < self.min_core:
                continue  # mostly highlights and their surroundings: white clothes, paper
            mask |= region
            boxes.append([x, y, x + w, y + h])
            scores.append(float(np.clip(strength[region].mean(), 0, 1)))
        return mask, boxes, scores


def _surface(image: np.ndarray) -> _Surface:
    smooth = cv2.GaussianBlur(image, (5, 5), 0)
    hsv = cv2.cvtColor(smooth, cv2.COLOR_BGR2HSV)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    blue, green, red = cv2.split(image)
    detail = cv2.convertScaleAbs(cv2.Laplacian(gray, cv2.CV_16S, ksize=3))
    return _Surface(
        brightness=hsv[:, :, 2].astype(np.float32),
        saturation=hsv[:, :, 1].astype(np.float32),
        peak=cv2.max(cv2.max(blue, green), red).astype(np.float32),
        texture=cv2.medianBlur(detail, _WINDOW).astype(np.float32),
    )


def _small_regions(mask: np.ndarray, max_area: int) -> np.ndarray:
    """The connected regions of ``mask`` no larger than ``max_area`` pixels."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    small = np.zeros(count, bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] <= max_area
    return small[labels]


def _square(side: int) -> np.ndarray:
    return np.ones((side, side), np.uint8)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (uint8 0/1) with enclosed holes filled (highlights inside a puddle)."""
    padded = np.pad(mask, 1)
    outside = padded.copy()
    flood = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 1)
    holes = (outside == 0)[1:-1, 1:-1]
    return (mask.astype(bool) | holes).astype(np.uint8)
