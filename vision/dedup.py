"""Per-camera dedup: candidates -> one event per real-world violation, with a lifecycle.

An event opens on its first candidate, is updated while candidates keep coming (last seen,
peak count, best snapshot), closes after ``close_after_s`` without one, and within
``cooldown_s`` after closing the same violation reopens the same event instead of a new one.
When the cooldown has passed the event is final.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from vision.types import Candidate, Event, Frame, parse_iso, utc_iso


@dataclass(frozen=True, slots=True)
class DedupSettings:
    close_after_s: float = 10.0
    cooldown_s: float = 30.0
    id_bucket_s: float = 60.0
    refresh_s: float = 10.0
    """Post an unchanged open event again (new last_seen) at most this often."""
    bucket_by_wall: bool = False
    """Live sources: the id's first-seen bucket is UTC time, so a restarted worker that sees the
    same violation again derives the same id. Replays bucket by seconds into the video."""


BETTER_SCORE_MARGIN = 0.05
"""A count-less event takes a new snapshot when a sighting is this much more confident."""


class Change(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"
    FINAL = "final"


@dataclass(slots=True)
class EventUpdate:
    change: Change
    event: Event
    best_frame: Frame | None = None
    """Set when the best evidence frame changed: render a new snapshot from it."""


@dataclass(slots=True)
class _Tracked:
    event: Event
    last_pts: float
    last_posted_pts: float
    closed_pts: float | None = None


def event_id(camera_id: str, source_key: str, type_: str, zone: str, bucket: int, n: int) -> str:
    text = f"{camera_id}|{source_key}|{type_}|{zone}|{bucket}|{n}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class EventDeduplicator:
    """Turns one camera's candidates into event updates; one instance per camera."""

    def __init__(self, camera_id: str, source_key: str, settings: DedupSettings) -> None:
        self.camera_id = camera_id
        self.source_key = source_key
        self.settings = settings
        self._tracked: dict[tuple[str, str, str], _Tracked] = {}
        self._ids_per_bucket: Counter[tuple[str, str, str, int]] = Counter()

    @property
    def open_events(self) -> list[Event]:
        return [t.event for t in self._tracked.values() if t.closed_pts is None]

    def update(self, frame: Frame, candidates: list[Candidate]) -> list[EventUpdate]:
        updates: list[EventUpdate] = []
        seen: set[tuple[str, str, str]] = set()
        for candidate in candidates:
            key = (candidate.type, candidate.zone, candidate.subject or "")
            if key in seen:
                continue  # one candidate per type, zone and subject a frame; keep the first
            seen.add(key)
            tracked = self._tracked.get(key)
            if tracked is None:
                tracked = self._open(frame, candidate)
                updates.append(EventUpdate(Change.OPENED, tracked.event.model_copy(), frame))
            else:
                update = self._observe(tracked, frame, candidate)
                if update:
                    updates.append(update)
        updates.extend(self._age(frame.pts, exclude=seen))
        return updates

    def resume(self, events: list[Event], pts: float) -> None:
        """Take over events a previous worker left open (it crashed or was restarted): the
        same violation seen again continues the same event instead of opening a new one."""
        for event in events:
            key = (event.type, event.zone, event.subject or "")
            if event.status != "open" or key in self._tracked:
                continue
            self._tracked[key] = _Tracked(event.model_copy(), pts, pts)
            if self.settings.bucket_by_wall:
                first = parse_iso(event.first_seen)
                bucket = int(first.timestamp() // self.settings.id_bucket_s)
            else:
                bucket = int(event.video_t0 // self.settings.id_bucket_s)
            self._ids_per_bucket[(*key, bucket)] += 1

    def flush(self) -> list[EventUpdate]:
        """End of stream: close and finalise everything still tracked."""
        updates = []
        for key, tracked in sorted(self._tracked.items()):
            if tracked.closed_pts is None:
                tracked.event.status = "closed"
                updates.append(EventUpdate(Change.CLOSED, tracked.event.model_copy()))
            updates.append(EventUpdate(Change.FINAL, tracked.event.model_copy()))
            del self._tracked[key]
        return updates

    def _open(self, frame: Frame, candidate: Candidate) -> _Tracked:
        start_pts = candidate.started_pts if candidate.started_pts is not None else candidate.pts
        first_wall = candidate.wall - timedelta(seconds=candidate.pts - start_pts)
        clock = first_wall.timestamp() if self.settings.bucket_by_wall else start_pts
        bucket = int(clock // self.settings.id_bucket_s)
        key = (candidate.type, candidate.zone, candidate.subject or "")
        counter_key = (*key, bucket)
        n = self._ids_per_bucket[counter_key]
        self._ids_per_bucket[counter_key] += 1
        zone_key = f"{candidate.zone}|{candidate.subject}" if candidate.subject else candidate.zone
        event = Event(
            id=event_id(self.camera_id, self.source_key, candidate.type, zone_key, bucket, n),
            type=candidate.type,
            camera_id=self.camera_id,
            zone=candidate.zone,
            status="open",
            video_t0=round(start_pts, 3),
            video_t1=round(candidate.pts, 3),
            first_seen=utc_iso(first_wall),
            last_seen=utc_iso(candidate.wall),
            score=round(candidate.score, 4),
            boxes=candidate.boxes,
            count=candidate.count,
            subject=candidate.subject,
            observations=1,
        )
        tracked = _Tracked(event, candidate.pts, candidate.pts)
        self._tracked[key] = tracked
        return tracked

    def _observe(self, tracked: _Tracked, frame: Frame, candidate: Candidate) -> EventUpdate | None:
        event = tracked.event
        reopened = tracked.closed_pts is not None
        tracked.closed_pts = None
        event.status = "open"
        event.video_t1 = round(candidate.pts, 3)
        event.last_seen = utc_iso(candidate.wall)
        event.observations += 1
        tracked.last_pts = candidate.pts
        if candidate.count is not None:
            better = event.count is None or candidate.count > event.count
        else:  # rules without a count: the most confident sighting is the best evidence
            better = candidate.score >= event.score + BETTER_SCORE_MARGIN
        event.score = round(max(event.score, candidate.score), 4)
        if better:
            event.count = candidate.count
            event.boxes = candidate.boxes
        stale = candidate.pts - tracked.last_posted_pts >= self.settings.refresh_s
        if not (reopened or better or stale):
            return None
        tracked.last_posted_pts = candidate.pts
        change = Change.OPENED if reopened else Change.UPDATED
        return EventUpdate(change, event.model_copy(), frame if better else None)

    def _age(self, now_pts: float, exclude: set[tuple[str, str]]) -> list[EventUpdate]:
        updates = []
        for key in sorted(self._tracked):
            if key in exclude:
                continue
            tracked = self._tracked[key]
            if (
                tracked.closed_pts is None
                and now_pts - tracked.last_pts >= self.settings.close_after_s
            ):
                tracked.closed_pts = now_pts
                tracked.event.status = "closed"
                updates.append(EventUpdate(Change.CLOSED, tracked.event.model_copy()))
            if (
                tracked.closed_pts is not None
                and now_pts - tracked.last_pts
                >= self.settings.close_after_s + self.settings.cooldown_s
            ):
                updates.append(EventUpdate(Change.FINAL, tracked.event.model_copy()))
                del self._tracked[key]
        return updates
