"""Stationary memory: static things (stalls, garbage piles) remembered across observations.

Static things do not move, and trackers lose them whenever a passer-by walks in front, so they
are matched by box IoU from one observation to the next, not by tracker ids. One memory serves
one rule in one zone; observations come on the rule's own (often slow) cadence and time is
measured in ``pts`` seconds only.

Semantics:

- ``observe(pts, dets)`` matches the detections to the remembered objects greedily by IoU
  (highest first, same-label pairs before cross-label ones, IoU >= ``iou``). A matched object
  gains a hit, its box moves towards the detection, its ``last_pts`` becomes ``pts``. An
  unmatched detection becomes a new object (``first_pts = pts``).
- Static things do not travel: when a matched detection no longer overlaps the box where its
  object was first seen (a pedestrian walking slowly with an umbrella, matched step by step),
  the object is forgotten and the detection starts a new one, so its dwell starts over. A
  pile that grows still overlaps where it began and keeps its dwell.
- An object not matched is *hidden* (someone stands in front of it): it stays alive, keeping
  its ``first_pts`` so its dwell goes on, until it has been unseen for more than ``hide_s``;
  then it is *forgotten* (moved to a short history of past objects).
- ``watching_since`` is the pts of the first observation of the current unbroken run of
  observations. A gap between observations longer than ``hide_s`` (camera offline, rule
  paused) breaks the run: every object is forgotten and watching starts over, because nothing
  is known about what happened in the gap.
- A place "had been observed empty" from ``start`` to ``end`` when watching covered that span
  and no object (alive or forgotten) overlapping the box was remembered in it (see
  ``was_empty``). An object counts as there from its first sight until it is forgotten
  (``last_pts + hide_s``), not only until its last sight: unseen, it may have been hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.geometry import box_iou
from vision.types import Candidate, Detections, Frame


@dataclass(slots=True, eq=False)
class StaticObject:
    """One remembered static thing. Owned by its memory: read it, do not change it."""

    id: int
    """Small int, stable while the object is remembered, never reused by the same memory."""
    label: str
    """Label of its best-scoring detection."""
    box: np.ndarray
    """(4,) xyxy, smoothed over the observations that matched it."""
    first_box: np.ndarray
    """(4,) xyxy where it was first seen."""
    score: float
    """Best detection score so far."""
    first_pts: float
    last_pts: float
    """The last time it was seen (matched)."""
    hits: int
    """Observations where it was matched."""
    det_index: int | None = None
    """Index of its detection in the latest ``observe`` call's ``dets``; None when hidden."""

    def dwell(self, pts: float) -> float:
        """Seconds since it was first seen."""
        return pts - self.first_pts

    @property
    def seen(self) -> bool:
        """Whether it was matched on the latest observation."""
        return self.det_index is not None


class StationaryMemory:
    """Remembers static objects across observations by box IoU (see the module docstring)."""

    def __init__(
        self,
        iou: float = 0.3,
        hide_s: float = 60.0,
        smoothing: float = 0.5,
        history_s: float = 600.0,
        max_history: int = 256,
    ) -> None:
        """``smoothing``: how far a box moves towards each new matching detection (1: latest
        box); ``history_s``/``max_history``: how long (after being forgotten) and how many
        forgotten objects are kept for ``was_empty``."""
        self.iou = iou
        self.hide_s = hide_s
        self.smoothing = smoothing
        self.history_s = history_s
        self.max_history = max_history
        self.watching_since: float | None = None
        self.last_observed: float | None = None
        self._objects: list[StaticObject] = []
        self._history: list[StaticObject] = []
        self._next_id = 1

    @property
    def objects(self) -> list[StaticObject]:
        """The objects alive now, seen or hidden."""
        return list(self._objects)

    def reset(self) -> None:
        """Forget every object and stop watching (the next observation starts a new run)."""
        self._forget(self._objects)
        self._objects = []
        self.watching_since = self.last_observed = None

    def observe(self, pts: float, dets: Detections) -> list[StaticObject]:
        """Take one observation (call it even when ``dets`` is empty: it proves the place was
        watched); return the objects alive now, seen or hidden."""
        if self.last_observed is not None and not (0 <= pts - self.last_observed <= self.hide_s):
            self.reset()
        if self.watching_since is None:
            self.watching_since = pts
        self.last_observed = pts

        for obj in self._objects:
            obj.det_index = None
        matched = self._match(dets)
        taken: set[int] = set()
        moved: set[int] = set()
        for obj_index, det_index in matched.items():
            obj = self._objects[obj_index]
            if _intersects(obj.first_box, dets.xyxy[det_index : det_index + 1])[0]:
                self._update(obj, pts, dets, det_index)
                taken.add(det_index)
            else:
                moved.add(obj.id)
        if moved:
            self._forget([obj for obj in self._objects if obj.id in moved])
            self._objects = [obj for obj in self._objects if obj.id not in moved]
        for det_index in range(len(dets)):
            if det_index not in taken:
                self._objects.append(self._new(pts, dets, det_index))

        expired = [obj for obj in self._objects if pts - obj.last_pts > self.hide_s]
        if expired:
            self._forget(expired)
            self._objects = [obj for obj in self._objects if pts - obj.last_pts <= self.hide_s]
        horizon = pts - self.hide_s - self.history_s
        recent = [obj for obj in self._history if obj.last_pts >= horizon]
        self._history = recent[-self.max_history :]
        return self.objects

    def present(
        self, pts: float, min_hits: int = 1, min_dwell_s: float = 0.0
    ) -> list[StaticObject]:
        """Alive objects matched at least ``min_hits`` times and first seen >= ``min_dwell_s``
        before ``pts``."""
        return [
            obj for obj in self._objects if obj.hits >= min_hits and obj.dwell(pts) >= min_dwell_s
        ]

    def was_empty(
        self, box: np.ndarray, start: float, end: float, exclude_id: int | None = None
    ) -> bool:
        """Whether the region ``box`` had been observed empty from ``start`` up to ``end``:
        watching had begun by ``start`` and no object overlapping ``box`` (positive
        intersection), other than ``exclude_id``, was remembered at any time in [start, end)
        (from its ``first_pts`` to ``last_pts + hide_s``).

        Forgotten objects are kept for ``history_s`` only: ask about recent spans."""
        if self.watching_since is None or self.watching_since > start:
            return False
        others = [
            obj
            for obj in (*self._history, *self._objects)
            if obj.id != exclude_id and obj.first_pts < end and obj.last_pts + self.hide_s >= start
        ]
        if not others:
            return True
        boxes = np.stack([obj.box for obj in others])
        return not bool(_intersects(np.asarray(box, np.float64), boxes).any())

    def clean_before(self, obj: StaticObject, clean_s: float) -> bool:
        """Whether ``obj`` appeared where the place had been observed empty for at least
        ``clean_s`` seconds: it was not there on the first observation of the run, watching
        began >= ``clean_s`` before its ``first_pts``, and nothing overlapping it was present
        in the ``clean_s`` before it appeared."""
        if self.watching_since is None or obj.first_pts <= self.watching_since:
            return False
        return self.was_empty(obj.box, obj.first_pts - clean_s, obj.first_pts, obj.id)

    def _match(self, dets: Detections) -> dict[int, int]:
        """Greedy one-to-one matching: {object index: detection index}."""
        if not self._objects or len(dets) == 0:
            return {}
        boxes = np.stack([obj.box for obj in self._objects])
        iou = box_iou(boxes, dets.xyxy)
        labels = np.array([obj.label for obj in self._objects], dtype=object)
        same = labels[:, None] == dets.label[None, :]
        eligible = (iou >= self.iou) & (iou > 0)
        rows, cols = np.nonzero(eligible)
        order = np.argsort(-(iou[rows, cols] + same[rows, cols]), kind="stable")
        matched: dict[int, int] = {}
        taken: set[int] = set()
        for k in order:
            row, col = int(rows[k]), int(cols[k])
            if row not in matched and col not in taken:
                matched[row] = col
                taken.add(col)
        return matched

    def _new(self, pts: float, dets: Detections, det_index: int) -> StaticObject:
        obj = StaticObject(
            id=self._next_id,
            label=str(dets.label[det_index]),
            box=dets.xyxy[det_index].astype(np.float64),
            first_box=dets.xyxy[det_index].astype(np.float64),
            score=float(dets.score[det_index]),
            first_pts=pts,
            last_pts=pts,
            hits=1,
            det_index=det_index,
        )
        self._next_id += 1
        return obj

    def _update(self, obj: StaticObject, pts: float, dets: Detections, det_index: int) -> None:
        obj.box = obj.box + self.smoothing * (dets.xyxy[det_index].astype(np.float64) - obj.box)
        score = float(dets.score[det_index])
        if score > obj.score:
            obj.score = score
            obj.label = str(dets.label[det_index])
        obj.last_pts = pts
        obj.hits += 1
        obj.det_index = det_index

    def _forget(self, objects: list[StaticObject]) -> None:
        for obj in objects:
            obj.det_index = None
            self._history.append(obj)


def _intersects(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(M,) bool: which xyxy ``boxes`` share a positive area with ``box``."""
    width = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    height = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return (width > 0) & (height > 0)


def objects_candidate(
    type_: str, camera_id: str, zone: str, frame: Frame, objects: list[StaticObject]
) -> Candidate:
    """One candidate for the static objects a rule reports in a zone on ``frame``: best score,
    every box, how many, and since the earliest of them."""
    return Candidate(
        type=type_,
        camera_id=camera_id,
        zone=zone,
        pts=frame.pts,
        wall=frame.wall,
        score=max(obj.score for obj in objects),
        boxes=[[round(float(v), 1) for v in obj.box] for obj in objects],
        count=len(objects),
        started_pts=min(obj.first_pts for obj in objects),
    )
