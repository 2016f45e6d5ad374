"""The garbage rule: a garbage pile or overflowing bin lying in a zone for a dwell time.

A pile that appears where the zone had been watched clean is reported as ``illegal_dumping``.
"""

from __future__ import annotations

from dataclasses import dataclass

from vision.stationary import StaticObject, StationaryMemory, objects_candidate
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

TYPE = "garbage"
DUMPING = "illegal_dumping"


@dataclass(frozen=True, slots=True)
class GarbageThresholds:
    dwell_s: float = 60.0
    """A pile must be present at least this long (since first seen) before an event."""
    min_score: float = 0.4
    labels: tuple[str, ...] = ("garbage", "bin_overflow")
    min_observations: int = 3
    """Observations on which a pile must have been detected before it is reported."""
    iou: float = 0.3
    """Box IoU that matches a detection to a remembered pile."""
    hide_s: float = 120.0
    """How long a pile unseen (hidden by passers-by, missed) is still remembered."""
    min_overlap: float = 0.3
    """Share of a detection's box area that must lie inside the zone."""
    clean_before_s: float = 30.0
    """A pile is dumping when the place had been watched clean this long before it appeared."""


class GarbageRule:
    """Remembers the piles lying on one zone (by box IoU, not tracker ids) and reports one
    candidate per frame, covering every pile present for the dwell time, while the zone is
    active. The candidate is ``illegal_dumping`` when one of those piles appeared where the
    zone had been watched clean for ``clean_before_s``, else ``garbage``; a pile classed as
    dumping when it first appeared stays so while it is remembered. The memory keeps observing
    outside active hours, so a pile left overnight is reported when the hours begin."""

    type = TYPE
    needs = frozenset({"garbage"})

    def __init__(
        self, camera_id: str, zone: Zone, thresholds: GarbageThresholds | None = None
    ) -> None:
        thresholds = thresholds or GarbageThresholds()
        self.camera_id = camera_id
        self.zone = zone
        self.thresholds = thresholds
        self.memory = StationaryMemory(iou=thresholds.iou, hide_s=thresholds.hide_s)
        self._dumped: dict[int, bool] = {}

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]:
        t = self.thresholds
        piles = dets.with_label(*t.labels)
        piles = piles[piles.score >= t.min_score]
        piles = piles[self.zone.overlaps(piles, t.min_overlap)]
        objects = self.memory.observe(frame.pts, piles)
        # classify each pile once, when it first appears (the history it needs is fresh then)
        for obj in objects:
            if obj.id not in self._dumped:
                self._dumped[obj.id] = self.memory.clean_before(obj, t.clean_before_s)
        self._dumped = {obj.id: self._dumped[obj.id] for obj in objects}
        if not self.zone.is_active(frame.wall):
            return []
        ready = [
            obj
            for obj in objects
            if obj.hits >= t.min_observations and obj.dwell(frame.pts) >= t.dwell_s
        ]
        if not ready:
            return []
        return [self._candidate(frame, ready)]

    def _candidate(self, frame: Frame, piles: list[StaticObject]) -> Candidate:
        dumping = any(self._dumped.get(obj.id, False) for obj in piles)
        kind = DUMPING if dumping else TYPE
        return objects_candidate(kind, self.camera_id, self.zone.name, frame, piles)
