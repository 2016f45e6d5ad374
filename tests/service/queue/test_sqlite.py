import sqlite3
import subprocess
import sys
import time

import pytest

from service.queue.base import QueueError
from service.queue.sqlite import SqliteEventQueue
from vision.types import Event


def event(n=1, *, id="e1", type="crowding", camera="cam-1", last="2026-11-23T10:00:05.000Z", **kw):
    return Event(
        id=id, type=type, camera_id=camera, zone="square", video_t0=0.0, video_t1=5.0,
        first_seen="2026-11-23T10:00:00.000Z", last_seen=last, score=0.8,
        boxes=[[1.0, 2.0, 3.0, 4.0]], count=6, observations=n, **kw,
    )  # fmt: skip


@pytest.fixture
def queue(tmp_path):
    return SqliteEventQueue(f"sqlite:///{tmp_path / 'q' / 'queue.db'}")


def test_the_queue_file_is_in_wal_mode(queue):
    with sqlite3.connect(queue.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    "filters, ids",
    [
        ({}, ["e3", "e2", "e1"]),
        ({"type": "garbage"}, ["e2"]),
        ({"camera_id": "cam-2"}, ["e3"]),
        ({"since": "2026-11-23T10:00:06.000Z"}, ["e3", "e2"]),
        ({"limit": 1, "offset": 1}, ["e2"]),
    ],
    ids=["all newest first", "by type", "by camera", "since a time", "paged"],
)
def test_listing_filters_and_pages(queue, filters, ids):
    queue.post(event(id="e1", last="2026-11-23T10:00:05.000Z"))
    queue.post(event(id="e2", type="garbage", last="2026-11-23T10:00:06.000Z"))
    queue.post(event(id="e3", camera="cam-2", last="2026-11-23T10:00:07.000Z"))
    page = queue.list(**filters)
    assert [e.id for e in page.items] == ids
    assert page.total == (3 if set(filters) <= {"limit", "offset"} else len(ids))


def test_an_unknown_id_is_none(queue):
    assert queue.get("nope") is None


def test_two_processes_posting_the_same_events_store_each_once(queue):
    script = (
        "import sys\nfrom service.queue.sqlite import SqliteEventQueue\n"
        "from vision.types import Event\n"
        "q = SqliteEventQueue(sys.argv[1])\n"
        "for i in range(200):\n"
        "    q.post(Event(id=f'e{i}', type='crowding', camera_id='c', zone='z', video_t0=0, "
        "video_t1=1, first_seen='2026-01-01T00:00:00.000Z', last_seen='2026-01-01T00:00:01.000Z', "
        "score=0.5, boxes=[], observations=1))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, queue.url]) for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert queue.count() == 200


@pytest.mark.parametrize(
    "url", ["postgres://x/y", "sqlite://relative.db"], ids=["not sqlite", "two slashes"]
)
def test_an_unsupported_url_is_a_clear_error(url):
    with pytest.raises(QueueError, match="unsupported queue url"):
        SqliteEventQueue(url)


def test_an_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(QueueError, match="cannot open the event queue"):
        SqliteEventQueue(f"sqlite:///{blocker / 'queue.db'}")


def test_every_change_is_delivered_once_in_order_and_duplicates_are_not(queue):
    queue.post(event(1, id="a"))
    queue.post(event(1, id="a"))  # a retry: no change, no delivery
    queue.post(event(1, id="b"))
    queue.post(event(2, id="a"))
    first = queue.read_new("cases")
    assert [(d.event.id, d.event.observations) for d in first] == [("a", 1), ("b", 1), ("a", 2)]
    assert queue.read_new("cases") == first  # not acknowledged yet: delivered again
    queue.ack("cases", first[:2])
    assert [d.event.id for d in queue.read_new("cases")] == ["a"]
    queue.ack("cases", first)
    assert queue.read_new("cases") == []
    assert [d.event.id for d in queue.read_new("another-consumer")] == ["a", "b", "a"]


def test_read_new_waits_for_a_change(queue):
    started = time.monotonic()
    assert queue.read_new("cases", block_s=0.5) == []
    assert time.monotonic() - started >= 0.45
