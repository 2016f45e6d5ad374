"""The value types that cross package lines: Frame, Detections, Candidate, Event.

Everything in streams/, vision/ and service/ takes and returns these; nothing else is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded, sampled frame of a camera.

    ``pts`` is seconds on the camera's media clock (seconds into the file for replay), always
    increasing for one source; ``wall`` is the UTC time the frame shows (replay: the replay's
    anchor time plus ``pts``).
    """

    camera_id: str
    index: int
    pts: float
    wall: datetime
    image: np.ndarray = field(repr=False)
    scale: float = 1.0
    """Source pixels per image pixel (> 1 when the decoder downscaled the stream)."""

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


class Detections:
    """Boxes of one frame in source pixels, as parallel arrays (supervision-style).

    Filtering is indexing: ``dets[dets.score > 0.4]`` or ``dets[dets.label == "person"]``.
    """

    __slots__ = ("xyxy", "label", "score")

    def __init__(self, xyxy: np.ndarray, label: np.ndarray, score: np.ndarray) -> None:
        self.xyxy = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
        self.label = np.asarray(label, dtype=object).reshape(-1)
        self.score = np.asarray(score, dtype=np.float32).reshape(-1)
        if not (len(self.xyxy) == len(self.label) == len(self.score)):
            raise ValueError(
                f"Detections arrays differ in length: xyxy={len(self.xyxy)}, "
                f"label={len(self.label)}, score={len(self.score)}"
            )

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, object), np.zeros(0, np.float32))

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """One frame's detections from several detectors, as one set."""
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.label for p in parts]),
            np.concatenate([p.score for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.score)

    def __getitem__(self, index: Any) -> Detections:
        return Detections(self.xyxy[index], self.label[index], self.score[index])

    def __repr__(self) -> str:
        return f"Detections(n={len(self)}, labels={sorted(set(self.label.tolist()))})"

    def with_label(self, *labels: str) -> Detections:
        return self[np.isin(self.label, labels)]

    @property
    def bottom_center(self) -> np.ndarray:
        """(N, 2) points where an object stands: the middle of each box's bottom edge."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)


EventType = str
"""A violation type name: ``crowding``, ``street_vending``, ``garbage``, ... (see vision.rules)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a rule reports for one frame: the violation is present in the zone right now."""

    type: EventType
    camera_id: str
    zone: str
    pts: float
    wall: datetime
    score: float
    boxes: list[list[float]]
    count: int | None = None
    started_pts: float | None = None
    """When the rule's condition began to hold (pts), if the rule tracks duration."""
    subject: str | None = None
    """What the violation is about when a zone can hold several at once (one person without a
    helmet): one event per subject. None: one event per type and zone."""


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time (``Z``, an offset, or none: UTC) as an aware datetime; ValueError if
    ``text`` is not one."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Event(BaseModel):
    """One violation observed by one camera, deduplicated over its lifetime.

    This is the record written to JSONL, posted to the dispatch queue and served by the API.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id from camera, source, type, zone and first-seen bucket")
    type: EventType
    camera_id: str
    zone: str
    status: str = Field(default="open", description="open while seen, closed after the grace")
    video_t0: float = Field(description="Seconds into the source when the violation began")
    video_t1: float = Field(description="Seconds into the source when it was last seen")
    first_seen: str = Field(description="ISO 8601 UTC time the violation began")
    last_seen: str = Field(description="ISO 8601 UTC time it was last seen")
    score: float = Field(description="Best detection confidence supporting the event")
    boxes: list[list[float]] = Field(description="[x1, y1, x2, y2] boxes in source pixels")
    count: int | None = Field(default=None, description="Peak count, for counting rules")
    subject: str | None = Field(
        default=None, description="Which one, when a zone holds several (e.g. a person's track)"
    )
    observations: int = Field(default=1, description="Frames on which the rule fired")
    snapshot: str | None = Field(default=None, description="JPEG with zone and boxes drawn")
    snapshot_sha256: str | None = None
    clean_frame: str | None = Field(default=None, description="The same frame, nothing drawn")
    clean_frame_sha256: str | None = None
    evidence_error: str | None = Field(
        default=None, description="Why evidence is missing (e.g. the evidence disk is full)"
    )
    clip: str | None = Field(default=None, description="MP4 around the event (live sources)")
    clip_sha256: str | None = None

    WALL_CLOCK_FIELDS: ClassVar[frozenset[str]] = frozenset({"first_seen", "last_seen"})
