"""The crowding rule: people in a zone >= ``min_people`` for >= ``min_duration_s``."""

from __future__ import annotations

from pydantic import Field

from vision.rules.base import EventKind, FiniteFloat, RuleSettings, RuleSpec
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

TYPE = "crowding"


class CrowdingSettings(RuleSettings):
    """People count inside a zone >= ``min_people`` for >= ``min_duration_s``."""

    min_people: int = Field(5, ge=1, description="People in the zone that make a crowd")
    min_duration_s: FiniteFloat = Field(
        30.0, ge=0, description="How long the crowd must persist before an event opens"
    )
    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Person detections below this confidence are not counted"
    )
    max_gap_s: FiniteFloat = Field(
        2.0,
        ge=0,
        description="The count may dip below the threshold this long (occlusion, a missed "
        "detection) without restarting the duration",
    )


class CrowdingRule:
    """Counts people standing in one zone; reports a candidate on every frame where the zone has
    held a crowd for at least the duration. Short dips below the threshold (no longer than
    ``max_gap_s``: an occlusion, a missed detection) do not restart the clock."""

    type = TYPE
    needs = frozenset({"person"})

    def __init__(self, camera_id: str, zone: Zone, thresholds: CrowdingSettings) -> None:
        self.camera_id = camera_id
        self.zone = zone
        self.thresholds = thresholds
        self._since: float | None = None
        self._last_crowded: float | None = None

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]:
        people = dets.with_label("person")
        people = people[people.score >= self.thresholds.min_score]
        inside = people[self.zone.contains(people)]
        count = len(inside)
        if not self.zone.is_active(frame.wall):
            self._since = self._last_crowded = None
            return []
        if count >= self.thresholds.min_people:
            gap_broken = (
                self._last_crowded is None
                or frame.pts - self._last_crowded > self.thresholds.max_gap_s
            )
            if self._since is None or gap_broken:
                self._since = frame.pts
            self._last_crowded = frame.pts
        elif (
            self._last_crowded is not None
            and frame.pts - self._last_crowded > self.thresholds.max_gap_s
        ):
            self._since = self._last_crowded = None
        if count < self.thresholds.min_people or self._since is None:
            return []
        if frame.pts - self._since < self.thresholds.min_duration_s:
            return []
        return [
            Candidate(
                type=TYPE,
                camera_id=self.camera_id,
                zone=self.zone.name,
                pts=frame.pts,
                wall=frame.wall,
                score=float(inside.score.mean()),
                boxes=[[round(float(v), 1) for v in box] for box in inside.xyxy],
                count=count,
                started_pts=self._since,
            )
        ]


def _build(
    camera_id: str, zone: Zone, settings: CrowdingSettings, needs: frozenset[str]
) -> CrowdingRule:
    return CrowdingRule(camera_id, zone, settings)


SPEC = RuleSpec(
    name=TYPE,
    settings=CrowdingSettings,
    events=(EventKind(TYPE, "人员聚集", "Crowding", "public_security", 30, "high", "person"),),
    build=_build,
    roles=CrowdingRule.needs,
)
