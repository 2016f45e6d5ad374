"""Tiled inference for eagle-eye frames, where people are a few pixels tall.

``TiledDetector`` wraps any Detector: each frame is cut into overlapping tiles (plus, optionally,
the whole frame, which the wrapped detector downscales as usual, for objects larger than a
tile), every tile of every frame goes to the wrapped detector as ONE batch, boxes are shifted
back to frame pixels, and duplicates are merged:

1. edge merge: a box cut by an inner tile edge (its side lies on the edge) and a box of the
   same label from another tile that reaches across that edge, with the two overlapping well
   along the edge (1-D IoU of their extents along it), are one object; they become the union
   of the two boxes (score: the higher one). This joins halves of an object split between two
   tiles, and replaces a truncated view by the whole view from the neighbouring tile;
2. class-aware non-maximum suppression over everything that is left (tiles + whole frame).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision.detectors.base import Detector
from vision.detectors.yolox_onnx import class_aware_nms
from vision.types import Detections

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tile:
    """A window of a frame in pixels: ``x0 <= x < x1``, ``y0 <= y < y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along one axis: evenly spread, first at 0, last ending at ``length``,
    neighbours sharing at least ``overlap`` pixels."""
    if length <= tile:
        return [0]
    count = int(np.ceil((length - overlap) / (tile - overlap)))
    return [int(round(s)) for s in np.linspace(0, length - tile, count)]


def tile_grid(
    width: int, height: int, tile_size: int | tuple[int, int], overlap: int
) -> list[Tile]:
    """Overlapping tiles that cover a ``width`` x ``height`` frame exactly, row by row.

    ``tile_size`` is a side or ``(width, height)``; tiles are that size, or the whole axis where
    the frame is smaller. Neighbouring tiles share at least ``overlap`` pixels.
    """
    tile_w, tile_h = (tile_size, tile_size) if isinstance(tile_size, int) else tile_size
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    if tile_w <= 0 or tile_h <= 0:
        raise ValueError(f"tile size must be positive, got {tile_w}x{tile_h}")
    if not 0 <= overlap < min(tile_w, tile_h):
        raise ValueError(f"overlap must be >= 0 and smaller than the tile, got {overlap}")
    tiles = []
    for y0 in _starts(height, tile_h, overlap):
        for x0 in _starts(width, tile_w, overlap):
            tiles.append(Tile(x0, y0, min(x0 + tile_w, width), min(y0 + tile_h, height)))
    return tiles


def _interval_iou(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    inter = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None)
    union = np.maximum(a1, b1) - np.minimum(a0, b0)
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


_SIDES = ((2, +1), (0, -1), (3, +1), (1, -1))
"""(xyxy index of a box side, +1 for a right/bottom side that a tile's right/bottom edge cuts)."""


def merge_edge_cuts(
    xyxy: np.ndarray,
    labels: np.ndarray,
    tile_ids: np.ndarray,
    tiles: Sequence[Tile],
    frame_size: tuple[int, int],
    *,
    edge_iou: float = 0.5,
    tolerance: float = 3.0,
) -> np.ndarray:
    """Group ids (N,): boxes of one object cut by tile edges share a group id.

    Box ``i`` from tile ``t`` is *cut* at an inner edge of ``t`` (one that is not the frame
    border) when its side lies within ``tolerance`` pixels of it. It joins box ``j`` (same label,
    another tile) when ``j`` reaches across that edge (beyond it by more than ``tolerance``, and
    starting at most ``tolerance`` past it) and their extents along the edge have a 1-D IoU of
    at least ``edge_iou``.
    """
    n = len(xyxy)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    boxes = xyxy.astype(np.float64)
    edges = np.array([[t.x0, t.y0, t.x1, t.y1] for t in tiles], dtype=np.float64)[tile_ids]
    for side, sign in _SIDES:
        axis = side % 2  # 0: the box's left/right side on a vertical edge; 1: top/bottom
        low, high = boxes[:, axis], boxes[:, axis + 2]
        along_low, along_high = boxes[:, 1 - axis], boxes[:, 3 - axis]
        edge = edges[:, side]
        inner = edge < frame_size[axis] if sign > 0 else edge > 0
        for i in np.flatnonzero(inner & (np.abs(boxes[:, side] - edge) <= tolerance)):
            others = np.flatnonzero((labels == labels[i]) & (tile_ids != tile_ids[i]))
            e = edge[i]
            if sign > 0:
                reaches = (high[others] > e + tolerance) & (low[others] <= e + tolerance)
            else:
                reaches = (low[others] < e - tolerance) & (high[others] >= e - tolerance)
            along = _interval_iou(
                along_low[i], along_high[i], along_low[others], along_high[others]
            )
            for j in others[reaches & (along >= edge_iou)]:
                parent[find(int(j))] = find(int(i))
    return np.array([find(i) for i in range(n)], dtype=np.int64)


class TiledDetector:
    """A Detector that runs ``detector`` on overlapping tiles of each frame and merges the boxes.

    ``tile_size`` (pixels, a side or ``(width, height)``) and ``overlap`` (pixels shared by
    neighbouring tiles) set the grid; ``full_frame`` adds the whole frame to the batch for
    objects bigger than a tile. ``nms_iou`` is the class-aware NMS threshold, ``edge_iou`` and
    ``edge_tolerance`` tune the merge of boxes cut at tile edges (see ``merge_edge_cuts``).
    """

    def __init__(
        self,
        detector: Detector,
        *,
        tile_size: int | tuple[int, int] = 640,
        overlap: int = 128,
        full_frame: bool = True,
        nms_iou: float = 0.5,
        edge_iou: float = 0.5,
        edge_tolerance: float = 3.0,
    ) -> None:
        self.detector = detector
        self.name = f"{detector.name}+tiled"
        self.labels = detector.labels
        self.tile_size = tile_size
        self.overlap = overlap
        self.full_frame = full_frame
        self.nms_iou = nms_iou
        self.edge_iou = edge_iou
        self.edge_tolerance = edge_tolerance
        tile_grid(1, 1, tile_size, overlap)  # validate the settings now, not on the first frame

    def tiles(self, image: np.ndarray) -> list[Tile]:
        height, width = image.shape[:2]
        return tile_grid(width, height, self.tile_size, self.overlap)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if not images:
            return []
        crops: list[np.ndarray] = []
        plan: list[tuple[int, list[Tile], bool]] = []  # per image: first crop, tiles, +full
        for image in images:
            grid = self.tiles(image)
            whole = self.full_frame and len(grid) > 1
            plan.append((len(crops), grid, whole))
            crops += [np.ascontiguousarray(image[t.y0 : t.y1, t.x0 : t.x1]) for t in grid]
            if whole:
                crops.append(image)
        results = self.detector.detect(crops)
        if len(results) != len(crops):
            raise RuntimeError(
                f"{self.detector.name}: {len(results)} results for a batch of {len(crops)} tiles"
            )
        merged = []
        for image, (first, grid, whole) in zip(images, plan, strict=True):
            per_tile = results[first : first + len(grid)]
            full = results[first + len(grid)] if whole else None
            height, width = image.shape[:2]
            merged.append(self._merge(per_tile, grid, full, (width, height)))
        return merged

    def _merge(
        self,
        per_tile: Sequence[Detections],
        grid: Sequence[Tile],
        full: Detections | None,
        frame_size: tuple[int, int],
    ) -> Detections:
        boxes, labels, scores, tile_ids = [], [], [], []
        for index, (dets, tile) in enumerate(zip(per_tile, grid, strict=True)):
            if len(dets) == 0:
                continue
            shift = np.array([tile.x0, tile.y0, tile.x0, tile.y0], dtype=np.float32)
            boxes.append(dets.xyxy + shift)
            labels.append(dets.label)
            scores.append(dets.score)
            tile_ids.append(np.full(len(dets), index))
        if boxes:
            xyxy, label = np.concatenate(boxes), np.concatenate(labels)
            score, tile_id = np.concatenate(scores), np.concatenate(tile_ids)
            groups = merge_edge_cuts(
                xyxy,
                label,
                tile_id,
                grid,
                frame_size,
                edge_iou=self.edge_iou,
                tolerance=self.edge_tolerance,
            )
            xyxy, label, score = _union_groups(xyxy, label, score, groups)
        else:
            xyxy, label, score = (np.zeros((0, 4), np.float32), np.zeros(0, object), np.zeros(0))
        if full is not None and len(full):
            xyxy = np.concatenate([xyxy, full.xyxy])
            label = np.concatenate([label, full.label])
            score = np.concatenate([score, full.score])
        if len(xyxy) == 0:
            return Detections.empty()
        width, height = frame_size
        xyxy = np.clip(xyxy, 0, [width, height, width, height])
        _, class_ids = np.unique(label.astype(str), return_inverse=True)
        order = np.argsort(-score, kind="stable")
        kept = order[class_aware_nms(xyxy[order], score[order], class_ids[order], self.nms_iou)]
        kept = kept[np.argsort(-score[kept], kind="stable")]
        return Detections(xyxy[kept], label[kept], score[kept])


def _union_groups(
    xyxy: np.ndarray, label: np.ndarray, score: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One box per group: the union of its boxes, the best score, the (shared) label."""
    ids, first = np.unique(groups, return_index=True)
    if len(ids) == len(groups):
        return xyxy, label, score
    out = np.empty((len(ids), 4), np.float32)
    best = np.empty(len(ids), np.float32)
    for k, group in enumerate(ids):
        members = groups == group
        out[k, :2] = xyxy[members, :2].min(axis=0)
        out[k, 2:] = xyxy[members, 2:].max(axis=0)
        best[k] = score[members].max()
    return out, label[first], best
