"""The street-vending rule: stall objects standing in a no-vending zone, attended by a person,
for a dwell time, inside the zone's active hours."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from vision.rules.base import EventKind, FiniteFloat, RuleSettings, RuleSpec
from vision.stationary import StaticObject, StationaryMemory, objects_candidate
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

TYPE = "street_vending"


class StreetVendingSettings(RuleSettings):
    """Stall objects (umbrella, table, chair, cart; the eagle-eye vendor model's stalls) kept in
    one place by people for >= ``dwell_s`` in a no-vending zone, within its active hours."""

    dwell_s: FiniteFloat = Field(
        300.0, ge=0, description="How long a stall must stay before an event opens"
    )
    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Stall and person detections below this are ignored"
    )
    stall_labels: list[str] = Field(
        default_factory=lambda: ["umbrella", "table", "chair", "cart", "street_vendor"],
        min_length=1,
        description="Canonical labels that are stall objects",
    )
    standalone_labels: list[str] = Field(
        default_factory=lambda: ["street_vendor"],
        description="Stall labels that need no person beside them (the eagle-eye vendor "
        "model's boxes already hold the vendor)",
    )
    person_radius: FiniteFloat = Field(
        1.5,
        gt=0,
        description="A person attends a stall within this many stall sizes of its centre",
    )
    min_observations: int = Field(3, ge=1, description="Sightings before a stall can count")
    iou: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Box overlap that makes two sightings one stall"
    )
    hide_s: FiniteFloat = Field(
        60.0, ge=0, description="A stall hidden (by passers-by) this long is still there"
    )


class StreetVendingRule:
    """Remembers the stall objects standing in one zone (bottom-centre inside, matched across
    observations by box IoU) and reports one candidate per frame covering every stall object
    that has stood there for the dwell time and was attended (a person near it, or a standalone
    stall label) on at least half of the observations where it was seen.

    A pedestrian carrying an umbrella never fires: the umbrella's box does not match itself
    across observations, so it never accumulates dwell. Outside active hours the rule reports
    nothing and forgets everything, so an event needs a full dwell inside the hours."""

    type = TYPE

    def __init__(
        self,
        camera_id: str,
        zone: Zone,
        thresholds: StreetVendingSettings | None = None,
        needs: frozenset[str] = frozenset({"person"}),
    ) -> None:
        thresholds = thresholds or StreetVendingSettings()
        self.camera_id = camera_id
        self.zone = zone
        self.thresholds = thresholds
        self.needs = frozenset(needs)
        self.memory = StationaryMemory(iou=thresholds.iou, hide_s=thresholds.hide_s)
        self._attended: dict[int, int] = {}

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]:
        t = self.thresholds
        if not self.zone.is_active(frame.wall):
            self.memory.reset()
            self._attended.clear()
            return []
        stalls = dets.with_label(*t.stall_labels)
        stalls = stalls[stalls.score >= t.min_score]
        stalls = stalls[self.zone.contains(stalls)]
        people = dets.with_label("person")
        people = people[people.score >= t.min_score]
        centres = (people.xyxy[:, :2] + people.xyxy[:, 2:]) / 2

        objects = self.memory.observe(frame.pts, stalls)
        attended = {obj.id: self._attended.get(obj.id, 0) for obj in objects}
        for obj in objects:
            if obj.det_index is not None and self._is_attended(stalls, obj.det_index, centres):
                attended[obj.id] += 1
        self._attended = attended

        ready = [
            obj
            for obj in objects
            if obj.hits >= t.min_observations
            and obj.dwell(frame.pts) >= t.dwell_s
            and 2 * attended[obj.id] >= obj.hits
        ]
        if not ready:
            return []
        return [self._candidate(frame, ready)]

    def _is_attended(self, stalls: Detections, index: int, centres: np.ndarray) -> bool:
        if stalls.label[index] in self.thresholds.standalone_labels:
            return True
        if len(centres) == 0:
            return False
        x1, y1, x2, y2 = stalls.xyxy[index].astype(np.float64)
        reach = self.thresholds.person_radius * max(x2 - x1, y2 - y1)
        distance = np.hypot(centres[:, 0] - (x1 + x2) / 2, centres[:, 1] - (y1 + y2) / 2)
        return bool((distance <= reach).any())

    def _candidate(self, frame: Frame, stalls: list[StaticObject]) -> Candidate:
        return objects_candidate(TYPE, self.camera_id, self.zone.name, frame, stalls)


def _build(
    camera_id: str, zone: Zone, settings: StreetVendingSettings, needs: frozenset[str]
) -> StreetVendingRule:
    return StreetVendingRule(camera_id, zone, settings, needs)


SPEC = RuleSpec(
    name=TYPE,
    settings=StreetVendingSettings,
    events=(
        EventKind(TYPE, "占道经营", "Street vending", "city_management", 120, box_class="stall"),
    ),
    build=_build,
    roles=frozenset({"person"}),
    roles_by_camera_kind={"eagle_eye": frozenset({"vendor"})},
)
