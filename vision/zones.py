"""A zone: a named polygon of one camera, and the hours its rules apply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

import numpy as np

from vision.geometry import box_overlap_fraction, points_in_polygon
from vision.types import Detections


@dataclass(frozen=True)
class Zone:
    name: str
    polygon: np.ndarray
    active_hours: Sequence[tuple[time, time]] = field(default_factory=tuple)
    tz: tzinfo | None = None
    """Time zone the active hours are written in (None: the timestamp's own)."""

    @classmethod
    def from_points(
        cls,
        name: str,
        points: Sequence[Sequence[float]],
        active_hours: Sequence[tuple[time, time]] = (),
        tz: tzinfo | None = None,
    ) -> Zone:
        polygon = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return cls(name, polygon, tuple(active_hours), tz)

    def contains(self, dets: Detections) -> np.ndarray:
        """(N,) bool: detections standing in the zone (the bottom-centre of the box is inside)."""
        if len(dets) == 0:
            return np.zeros(0, dtype=bool)
        return points_in_polygon(dets.bottom_center, self.polygon)

    def overlaps(self, dets: Detections, min_fraction: float) -> np.ndarray:
        """(N,) bool: detections lying on the zone: at least ``min_fraction`` of the box's area
        is inside the polygon (for things on the ground with an extent: garbage, water)."""
        if len(dets) == 0:
            return np.zeros(0, dtype=bool)
        return box_overlap_fraction(dets.xyxy, self.polygon) >= min_fraction

    def is_active(self, moment: datetime) -> bool:
        """Whether the zone's rules apply at ``moment`` (clock time in the zone's time zone)."""
        if not self.active_hours:
            return True
        clock = (moment.astimezone(self.tz) if self.tz else moment).time()
        for start, end in self.active_hours:
            if start <= end and start <= clock < end:
                return True
            if start > end and (clock >= start or clock < end):
                return True
        return False
