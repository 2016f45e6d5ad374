"""Plane geometry on image pixels: points in polygons, box IoU, polygon area, box overlap."""

from __future__ import annotations

import numpy as np


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) bool: which (N, 2) points lie inside the (M, 2) polygon (even-odd rule).

    Points exactly on the left/bottom edges count as inside, on the right/top edges as outside,
    so a point on the shared edge of two adjacent zones belongs to exactly one of them.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x, y = points[:, 0:1], points[:, 1:2]
    x1, y1 = polygon[:, 0][None, :], polygon[:, 1][None, :]
    x2, y2 = np.roll(polygon[:, 0], -1)[None, :], np.roll(polygon[:, 1], -1)[None, :]
    straddles = (y1 <= y) != (y2 <= y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddles & (x < x_cross)
    return (crossings.sum(axis=1) % 2) == 1


def polygon_area(polygon: np.ndarray) -> float:
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x, y = polygon[:, 0], polygon[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of (N, 4) and (M, 4) xyxy boxes."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _clip_half_plane(polygon: np.ndarray, axis: int, bound: float, keep_below: bool) -> np.ndarray:
    """One Sutherland-Hodgman step: the part of ``polygon`` where ``coord <= bound``
    (``keep_below``) or ``coord >= bound``. A concave polygon may come out with zero-width
    bridges along the clip line; they add nothing to its shoelace area."""
    if len(polygon) == 0:
        return polygon
    coord = polygon[:, axis]
    inside = coord <= bound if keep_below else coord >= bound
    prev = np.roll(polygon, 1, axis=0)
    prev_inside = np.roll(inside, 1)
    crossing = inside != prev_inside
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (bound - prev[:, axis]) / (coord - prev[:, axis])
        cross = prev + t[:, None] * (polygon - prev)
    cross[:, axis] = bound
    # each edge prev -> cur emits its crossing point (if any), then cur (if kept)
    points = np.stack([cross, polygon], axis=1)
    keep = np.stack([crossing, inside], axis=1)
    return points[keep]


def box_overlap_fraction(boxes: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) share of each (N, 4) xyxy box's area that lies inside the (M, 2) polygon.

    The polygon may be concave (it is clipped against each box, which is convex, with
    Sutherland-Hodgman). Degenerate boxes (no area) and polygons with fewer than 3 vertices
    give 0.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    fractions = np.zeros(len(boxes), dtype=np.float64)
    if len(polygon) < 3:
        return fractions
    (px1, py1), (px2, py2) = polygon.min(axis=0), polygon.max(axis=0)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        if not (x2 > x1 and y2 > y1):
            continue
        if x2 <= px1 or x1 >= px2 or y2 <= py1 or y1 >= py2:
            continue
        clipped = polygon
        sides = ((0, x1, False), (0, x2, True), (1, y1, False), (1, y2, True))
        for axis, bound, keep_below in sides:
            clipped = _clip_half_plane(clipped, axis, bound, keep_below)
        if len(clipped) >= 3:
            fractions[i] = min(polygon_area(clipped) / ((x2 - x1) * (y2 - y1)), 1.0)
    return fractions
