"""The garbage rule: a garbage pile or overflowing bin lying in a zone for a dwell time.

A pile that appears where the zone had been watched clean is reported as ``illegal_dumping``.
"""

from __future__ import annotations

from pydantic import Field

from vision.rules.base import EventKind, FiniteFloat, RuleSettings, RuleSpec
from vision.stationary import StaticObject, StationaryMemory, objects_candidate
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

TYPE = "garbage"
DUMPING = "illegal_dumping"


class GarbageSettings(RuleSettings):
    """A garbage pile or overflowing bin in a zone for >= ``dwell_s``; a pile that appears where
    the zone was seen clean is reported as ``illegal_dumping``."""

    dwell_s: FiniteFloat = Field(60.0, ge=0, description="How long a pile must stay")
    min_score: FiniteFloat = Field(
        0.4, ge=0, le=1, description="Garbage detections below this are ignored"
    )
    labels: list[str] = Field(
        default_factory=lambda: ["garbage", "bin_overflow"],
        min_length=1,
        description="Canonical labels that are violations",
    )
    min_observations: int = Field(3, ge=1, description="Sightings before a pile can count")
    iou: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Box overlap that makes two sightings one pile"
    )
    hide_s: FiniteFloat = Field(
        120.0, ge=0, description="A pile hidden (by people, vehicles) this long is still there"
    )
    min_overlap: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Share of a pile's box that must lie in the zone"
    )
    clean_before_s: FiniteFloat = Field(
        30.0,
        ge=0,
        description="A pile where the zone was watched clean this long is illegal dumping",
    )


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
        self, camera_id: str, zone: Zone, thresholds: GarbageSettings | None = None
    ) -> None:
        thresholds = thresholds or GarbageSettings()
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


def _build(
    camera_id: str, zone: Zone, settings: GarbageSettings, needs: frozenset[str]
) -> GarbageRule:
    return GarbageRule(camera_id, zone, settings)


SPEC = RuleSpec(
    name=TYPE,
    settings=GarbageSettings,
    events=(
        EventKind(TYPE, "暴露垃圾", "Exposed garbage", "sanitation", 240, box_class="garbage"),
        EventKind(DUMPING, "偷倒垃圾", "Illegal dumping", "sanitation", 120, "high", "garbage"),
    ),
    build=_build,
    roles=GarbageRule.needs,
)
