"""People counting in dense scenes: who is there, as one point per person, and how many stand
in a zone.

Two layers:

- pure functions on Detections that the pipeline already has (no model runs here):
  ``body_people`` (person boxes, point = box bottom-centre: where the person stands),
  ``head_people`` (head boxes, ``helmet`` and ``no_helmet`` of the helmet model, point = box
  centre; one head seen as both classes counts once), and ``fuse_people`` (bodies, plus the
  heads that no body box accounts for: in a crowd, heads stay visible where bodies are hidden
  behind each other). Each returns ``People`` (points, boxes, scores, kind), and
  ``people.in_zone(zone)`` / ``people.count(zone)`` count them in a zone by their points;
- ``PeopleCounter`` objects that also run the detectors: ``count(image, zone=None) -> int`` and
  ``locate(image) -> People``; ``BodyCounter``, ``HeadCounter`` (any Detector, tiled or not:
  wrap it in ``vision.tiling.TiledDetector`` for small people) and ``FusionCounter``.
  ``models.eval_count.evaluate_count`` measures any of them on a points-annotated folder.

Counts on the crowd-mall clip (640x480, 13-53 people) are in ``benchmarks/crowd_count.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from vision.detectors.base import Detector
from vision.detectors.yolox_onnx import class_aware_nms
from vision.geometry import points_in_polygon
from vision.tiling import Tile, TiledDetector, tile_grid
from vision.types import Detections
from vision.zones import Zone

BODY_LABELS = ("person",)
HEAD_LABELS = ("head", "helmet", "no_helmet")
"""Canonical labels that are a person's head (the helmet model's two head classes)."""

Kind = Literal["body", "head"]


@dataclass(frozen=True, slots=True)
class People:
    """The people found in one frame: one point per person (where it is counted against a
    zone), the box that supports it (a body or a head box), its score and which kind it is."""

    points: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    kinds: np.ndarray

    @classmethod
    def empty(cls) -> People:
        return cls(np.zeros((0, 2)), np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, "U4"))

    @classmethod
    def concat(cls, parts: Sequence[People]) -> People:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.points for p in parts]).reshape(-1, 2),
            np.concatenate([p.boxes for p in parts]).reshape(-1, 4),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.kinds for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: np.ndarray | slice) -> People:
        return People(self.points[index], self.boxes[index], self.scores[index], self.kinds[index])

    def in_zone(self, zone: Zone | None) -> People:
        """The people whose point lies in ``zone`` (all of them when ``zone`` is None)."""
        if zone is None or len(self) == 0:
            return self
        return self[points_in_polygon(self.points, zone.polygon)]

    def count(self, zone: Zone | None = None) -> int:
        return len(self.in_zone(zone))

    def as_detections(self) -> Detections:
        """The supporting boxes, labelled ``person`` (for evidence and candidates)."""
        return Detections(self.boxes, np.full(len(self), "person", object), self.scores)


def body_people(dets: Detections, min_score: float = 0.25) -> People:
    """Person boxes at or above ``min_score``; each person's point is the box bottom-centre."""
    bodies = dets.with_label(*BODY_LABELS)
    bodies = bodies[bodies.score >= min_score]
    return People(
        bodies.bottom_center.astype(np.float64),
        bodies.xyxy,
        bodies.score.astype(np.float64),
        np.full(len(bodies), "body", "U4"),
    )


def head_people(dets: Detections, min_score: float = 0.25, nms_iou: float = 0.5) -> People:
    """Head boxes (``HEAD_LABELS``) at or above ``min_score``, one per head: the same head
    found as ``helmet`` and as ``no_helmet`` (NMS is per class in the detectors) counts once.
    Each person's point is the head box's centre."""
    heads = dets.with_label(*HEAD_LABELS)
    heads = heads[heads.score >= min_score]
    if len(heads) > 1:
        order = np.argsort(-heads.score, kind="stable")
        kept = order[
            class_aware_nms(heads.xyxy[order], heads.score[order], np.zeros(len(order)), nms_iou)
        ]
        heads = heads[np.sort(kept)]
    centres = (heads.xyxy[:, :2] + heads.xyxy[:, 2:]) / 2
    return People(
        centres.astype(np.float64),
        heads.xyxy,
        heads.score.astype(np.float64),
        np.full(len(heads), "head", "U4"),
    )


def head_region(boxes: np.ndarray, top: float = 0.3, margin: float = 0.15) -> np.ndarray:
    """(N, 4) where the head of each (N, 4) body box should be: the box's top ``top`` of its
    height, widened and raised by ``margin`` of its width/height (a head box may overhang)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return np.stack(
        [
            boxes[:, 0] - margin * width,
            boxes[:, 1] - margin * height,
            boxes[:, 2] + margin * width,
            boxes[:, 1] + top * height,
        ],
        axis=1,
    )


def match_heads(bodies: People, heads: People, top: float = 0.3) -> np.ndarray:
    """(H,) bool: heads that belong to a body box, at most one head per body.

    A head may belong to a body when its centre lies in the body's ``head_region``; pairs are
    taken greedily, nearest first (distance from the head centre to the top-centre of the body
    box, in body heights), so in a crowd a body claims its own head and the heads of the
    people hidden behind it stay unclaimed.
    """
    matched = np.zeros(len(heads), dtype=bool)
    if len(bodies) == 0 or len(heads) == 0:
        return matched
    boxes = bodies.boxes.astype(np.float64)
    region = head_region(boxes, top)
    centres = (heads.boxes[:, :2] + heads.boxes[:, 2:]).astype(np.float64) / 2
    hx, hy = centres[:, 0][None, :], centres[:, 1][None, :]
    inside = (
        (hx >= region[:, 0:1])
        & (hx <= region[:, 2:3])
        & (hy >= region[:, 1:2])
        & (hy <= region[:, 3:4])
    )
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)[:, None]
    anchor_x = ((boxes[:, 0] + boxes[:, 2]) / 2)[:, None]
    anchor_y = (boxes[:, 1] + 0.1 * (boxes[:, 3] - boxes[:, 1]))[:, None]
    distance = np.hypot(hx - anchor_x, hy - anchor_y) / height
    distance = np.where(inside, distance, np.inf)
    used = np.zeros(len(bodies), dtype=bool)
    for flat in np.argsort(distance, axis=None, kind="stable"):
        body, head = divmod(int(flat), len(heads))
        if not np.isfinite(distance[body, head]):
            break
        if used[body] or matched[head]:
            continue
        used[body] = matched[head] = True
    return matched


def fuse_people(bodies: People, heads: People, mode: Literal["union", "max"] = "union") -> People:
    """Bodies and heads as one set of people.

    ``union``: every body, plus each head that no body claims (``match_heads``); ``max``:
    whichever of the two sets is larger (no matching: robust when one model sees nothing).
    """
    if mode == "max":
        return heads if len(heads) > len(bodies) else bodies
    if mode != "union":
        raise ValueError(f"unknown fusion mode '{mode}' (use union or max)")
    return People.concat([bodies, heads[~match_heads(bodies, heads)]])


class ScaledTiledDetector(TiledDetector):
    """A TiledDetector whose tiles are a ``fraction`` of each frame's width (square, at least
    ``min_tile`` pixels), neighbours sharing ``overlap`` of a tile: the same grid, relative to
    the people, on a 640x480 mall camera (256-px tiles) and a 1080p street (768-px tiles).

    Fixed tiles do not carry across cameras: tiles much smaller than a person cut every body
    into fragments that count as extra people, tiles much bigger than the model's input shrink
    small people away. ``edge_iou`` defaults to above 1, no merge of boxes cut at tile edges:
    in a crowd the union of two cut boxes is most often two people side by side (measured on
    crowd-mall, see benchmarks/crowd_count.py).
    """

    def __init__(
        self,
        detector: Detector,
        *,
        fraction: float = 0.4,
        overlap: float = 0.2,
        min_tile: int = 160,
        full_frame: bool = True,
        nms_iou: float = 0.5,
        edge_iou: float = 1.1,
    ) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        if not 0 <= overlap < 1:
            raise ValueError(f"overlap must be in [0, 1), got {overlap}")
        super().__init__(
            detector,
            tile_size=min_tile,
            overlap=int(min_tile * overlap),
            full_frame=full_frame,
            nms_iou=nms_iou,
            edge_iou=edge_iou,
        )
        self.fraction = fraction
        self.overlap_fraction = overlap
        self.min_tile = min_tile
        self.name = f"{detector.name}+tiles{fraction:g}"

    def tiles(self, image: np.ndarray) -> list[Tile]:
        height, width = image.shape[:2]
        side = max(self.min_tile, round(width * self.fraction))
        return tile_grid(width, height, side, int(side * self.overlap_fraction))


@runtime_checkable
class PeopleCounter(Protocol):
    """Counts people: ``locate`` finds them all, ``count`` counts those in a zone."""

    name: str

    def locate(self, image: np.ndarray) -> People: ...

    def count(self, image: np.ndarray, zone: Zone | None = None) -> int: ...


class _CounterBase:
    name = "counter"

    def locate(self, image: np.ndarray) -> People:
        return self.locate_batch([image])[0]

    def locate_batch(self, images: Sequence[np.ndarray]) -> list[People]:
        raise NotImplementedError

    def count(self, image: np.ndarray, zone: Zone | None = None) -> int:
        return self.locate(image).count(zone)


class BodyCounter(_CounterBase):
    """People as the person boxes of ``detector`` (plain, or a TiledDetector)."""

    def __init__(self, detector: Detector, min_score: float = 0.25) -> None:
        self.detector = detector
        self.min_score = min_score
        self.name = f"body:{detector.name}@{min_score:g}"

    def locate_batch(self, images: Sequence[np.ndarray]) -> list[People]:
        return [body_people(d, self.min_score) for d in self.detector.detect(images)]


class HeadCounter(_CounterBase):
    """People as the head boxes of ``detector`` (the helmet model: helmet + no_helmet)."""

    def __init__(self, detector: Detector, min_score: float = 0.25, nms_iou: float = 0.5) -> None:
        self.detector = detector
        self.min_score = min_score
        self.nms_iou = nms_iou
        self.name = f"head:{detector.name}@{min_score:g}"

    def locate_batch(self, images: Sequence[np.ndarray]) -> list[People]:
        return [head_people(d, self.min_score, self.nms_iou) for d in self.detector.detect(images)]


class FusionCounter(_CounterBase):
    """Bodies from one counter and heads from another, fused (``fuse_people``)."""

    def __init__(
        self,
        bodies: BodyCounter,
        heads: HeadCounter,
        mode: Literal["union", "max"] = "union",
    ) -> None:
        if mode not in ("union", "max"):
            raise ValueError(f"unknown fusion mode '{mode}' (use union or max)")
        self.bodies = bodies
        self.heads = heads
        self.mode = mode
        self.name = f"{mode}({bodies.name}, {heads.name})"

    def locate_batch(self, images: Sequence[np.ndarray]) -> list[People]:
        bodies = self.bodies.locate_batch(images)
        heads = self.heads.locate_batch(images)
        return [fuse_people(b, h, self.mode) for b, h in zip(bodies, heads, strict=True)]
