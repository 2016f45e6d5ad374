from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vision.dedup import Change, DedupSettings, EventDeduplicator, event_id
from vision.types import Candidate, Frame

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
IMAGE = np.zeros((10, 10, 3), np.uint8)
SETTINGS = DedupSettings(close_after_s=5, cooldown_s=10, id_bucket_s=60, refresh_s=100)


def frame(pts):
    return Frame("cam-1", int(pts * 2), pts, T0 + timedelta(seconds=pts), IMAGE)


def crowd(pts, count, zone="square", started=None):
    boxes = [[float(i), 0.0, i + 1.0, 1.0] for i in range(count)]
    return Candidate(
        "crowding", "cam-1", zone, pts, T0 + timedelta(seconds=pts), 0.5 + count / 100, boxes,
        count, started if started is not None else pts,
    )  # fmt: skip


def play(timeline, settings=SETTINGS, end=None):
    """timeline: {pts: [candidates]} at 0.5 s steps up to ``end``; returns all updates."""
    dedup = EventDeduplicator("cam-1", "clip.mp4:123", settings)
    updates = []
    last = end if end is not None else max(timeline)
    for step in range(int(last * 2) + 1):
        pts = step / 2
        updates += dedup.update(frame(pts), timeline.get(pts, []))
    return updates + dedup.flush()


def changes(updates):
    return [(u.change.value, u.event.id) for u in updates]


def test_a_continuous_crowd_gives_one_event_updated_with_its_peak():
    timeline = {t / 2: [crowd(t / 2, 5 + (t % 4), started=0.0)] for t in range(0, 21)}
    updates = play(timeline)
    ids = {u.event.id for u in updates}
    assert len(ids) == 1
    final = [u.event for u in updates if u.change is Change.FINAL]
    assert len(final) == 1
    event = final[0]
    assert event.count == 8 and len(event.boxes) == 8
    assert (event.video_t0, event.video_t1) == (0.0, 10.0)
    assert event.observations == 21
    assert event.status == "closed"
    assert event.first_seen == "2026-11-23T10:00:00.000Z"
    assert event.last_seen == "2026-11-23T10:00:10.000Z"
    assert [u.change for u in updates].count(Change.OPENED) == 1
    peaks = [u for u in updates if u.best_frame is not None]
    assert [u.event.count for u in peaks] == [5, 6, 7, 8]


def test_the_event_closes_after_the_grace_period_and_is_final_after_the_cooldown():
    updates = play({0.0: [crowd(0.0, 6)]}, end=20)
    kinds = [(u.change, u.event.video_t1) for u in updates]
    assert kinds == [(Change.OPENED, 0.0), (Change.CLOSED, 0.0), (Change.FINAL, 0.0)]


def test_a_flicker_within_the_cooldown_reopens_the_same_event():
    updates = play({0.0: [crowd(0.0, 6)], 8.0: [crowd(8.0, 7)]}, end=30)
    assert len({u.event.id for u in updates}) == 1
    assert [u.change for u in updates] == [
        Change.OPENED, Change.CLOSED, Change.OPENED, Change.CLOSED, Change.FINAL,
    ]  # fmt: skip
    final = updates[-1].event
    assert (final.video_t0, final.video_t1, final.count, final.observations) == (0.0, 8.0, 7, 2)


def test_a_crowd_after_the_cooldown_opens_a_new_event_with_a_new_id():
    updates = play({0.0: [crowd(0.0, 6)], 20.0: [crowd(20.0, 6)]}, end=40)
    finals = [u.event for u in updates if u.change is Change.FINAL]
    assert len(finals) == 2 and finals[0].id != finals[1].id


def test_zones_are_deduplicated_separately():
    timeline = {t / 2: [crowd(t / 2, 6, "north"), crowd(t / 2, 6, "south")] for t in range(6)}
    finals = [u.event for u in play(timeline) if u.change is Change.FINAL]
    assert sorted(e.zone for e in finals) == ["north", "south"]


def test_event_ids_are_stable_across_runs_and_differ_by_source():
    timeline = {t / 2: [crowd(t / 2, 6)] for t in range(6)}
    assert changes(play(timeline)) == changes(play(timeline))
    assert event_id("cam-1", "a.mp4:1", "crowding", "z", 0, 0) != event_id(
        "cam-1", "b.mp4:1", "crowding", "z", 0, 0
    )


@pytest.mark.parametrize("refresh_s, posts", [(100, 1), (2, 3)], ids=["quiet", "refreshing"])
def test_an_unchanged_open_event_is_reposted_only_every_refresh_period(refresh_s, posts):
    settings = DedupSettings(close_after_s=5, cooldown_s=0, refresh_s=refresh_s)
    timeline = {t / 2: [crowd(t / 2, 6, started=0.0)] for t in range(11)}
    updates = play(timeline, settings)
    assert sum(u.change in (Change.OPENED, Change.UPDATED) for u in updates) == posts


def test_a_resumed_open_event_continues_with_the_same_id():
    first = EventDeduplicator("cam-1", "live", SETTINGS)
    opened = first.update(frame(0.0), [crowd(0.0, 6)])[0].event  # the worker then crashes
    again = EventDeduplicator("cam-1", "live", SETTINGS)
    again.resume([opened], pts=0.0)
    updates = again.update(frame(1.0), [crowd(1.0, 7, started=1.0)])
    assert [u.event.id for u in updates] == [opened.id]
    assert updates[0].event.observations == 2 and updates[0].event.count == 7
    later = []
    for t in range(2, 60):
        later += again.update(frame(float(t)), [])
    later += again.update(frame(60.0), [crowd(60.0, 6)]) + again.flush()
    new_ids = {u.event.id for u in later} - {opened.id}
    assert len(new_ids) == 1  # a later, separate crowd is a new event, not a clash


def test_a_resumed_event_that_is_not_seen_again_closes_after_the_grace():
    opened = EventDeduplicator("cam-1", "live", SETTINGS).update(frame(0.0), [crowd(0.0, 6)])
    again = EventDeduplicator("cam-1", "live", SETTINGS)
    again.resume([opened[0].event], pts=0.0)
    updates = again.update(frame(6.0), [])
    assert [(u.change, u.event.id) for u in updates] == [(Change.CLOSED, opened[0].event.id)]
