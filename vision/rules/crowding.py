"""The crowding rule: people in a zone >= ``min_people`` for >= ``min_duration_s``."""

from __future__ import annotations

from dataclasses import dataclass

from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

TYPE = "crowding"


@dataclass(frozen=True, slots=True)
class CrowdingThresholds:
    min_people: int
    min_duration_s: float
    min_score: float = 0.35
    max_gap_s: float = 2.0


class CrowdingRule:
    """Counts people standing in one zone; reports a candidate on every frame where the zone has
    held a crowd for at least the duration. Short dips below the threshold (no longer than
    ``max_gap_s``: an occlusion, a missed detection) do not restart the clock."""

    type = TYPE
    needs = frozenset({"person"})

    def __init__(self, camera_id: str, zone: Zone, thresholds: CrowdingThresholds) -> None:
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
