"""The queue semantics, the same on both backends (SQLite embedded, Redis Streams on a real
redis-server), plus what only Redis does: members of a consumer group taking over each other's
pending entries (XAUTOCLAIM), an unreachable server, a server restart."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from service.queue import open_queue
from service.queue.base import QueueError, QueueUnavailable
from service.queue.redis import RedisEventQueue
from service.queue.sqlite import SqliteEventQueue
from vision.types import Event

REPO = Path(__file__).resolve().parents[3]


def event(n=1, *, id="e1", type="crowding", camera="cam-1", last="2026-11-23T10:00:05.000Z", **kw):
    kw.setdefault("score", 0.8)
    return Event(
        id=id, type=type, camera_id=camera, zone="square", video_t0=0.0, video_t1=5.0,
        first_seen="2026-11-23T10:00:00.000Z", last_seen=last,
        boxes=[[1.0, 2.0, 3.0, 4.0]], count=6, observations=n, **kw,
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, tmp_path):
    if request.param == "sqlite":
        return SqliteEventQueue(f"sqlite:///{tmp_path / 'queue.db'}")
    return RedisEventQueue(request.getfixturevalue("redis_url"), consumer_name="worker-a")


def test_posting_the_same_event_twice_stores_it_once(queue):
    assert queue.post(event()) is True
    assert queue.post(event()) is False
    assert queue.count() == 1
    assert queue.get("e1") == event()


def test_a_newer_observation_updates_and_a_stale_or_identical_retry_does_not(queue):
    queue.post(event(1))
    assert queue.post(event(5, last="2026-11-23T10:00:09.000Z", status="closed"))
    assert not queue.post(event(3))  # stale
    assert not queue.post(event(5, last="2026-11-23T10:00:09.000Z", status="closed"))
    assert queue.post(event(5, last="2026-11-23T10:00:09.000Z", status="closed", score=0.9))
    stored = queue.get("e1")
    assert (stored.observations, stored.status, stored.last_seen, stored.score) == (
        5, "closed", "2026-11-23T10:00:09.000Z", 0.9,
    )  # fmt: skip
    assert queue.count() == 1


def test_an_update_moves_the_event_to_the_top_of_the_list(queue):
    queue.post(event(1, id="old", last="2026-11-23T10:00:05.000Z"))
    queue.post(event(1, id="new", last="2026-11-23T10:00:06.000Z"))
    queue.post(event(2, id="old", last="2026-11-23T10:00:07.000Z"))
    assert [e.id for e in queue.list().items] == ["old", "new"]
    assert [e.id for e in queue.list(since="2026-11-23T10:00:06.500Z").items] == ["old"]


@pytest.mark.parametrize(
    "filters, ids, total",
    [
        ({}, ["e4", "e3", "e2", "e1"], 4),
        ({"type": "garbage"}, ["e4", "e2"], 2),
        ({"camera_id": "cam-2"}, ["e4", "e3"], 2),
        ({"type": "garbage", "camera_id": "cam-2"}, ["e4"], 1),
        ({"since": "2026-11-23T10:00:06.000Z"}, ["e4", "e3", "e2"], 3),
        ({"type": "garbage", "since": "2026-11-23T10:00:06.000Z"}, ["e4", "e2"], 2),
        ({"limit": 2, "offset": 1}, ["e3", "e2"], 4),
        ({"limit": 2, "offset": 3}, ["e1"], 4),
        ({"type": "missing_helmet"}, [], 0),
    ],
    ids=[
        "all newest first", "by type", "by camera", "by type and camera", "since a time",
        "by type since a time", "paged", "last page", "no match",
    ],
)  # fmt: skip
def test_listing_filters_and_pages(queue, filters, ids, total):
    queue.post(event(id="e1", last="2026-11-23T10:00:05.000Z"))
    queue.post(event(id="e2", type="garbage", last="2026-11-23T10:00:06.000Z"))
    queue.post(event(id="e3", camera="cam-2", last="2026-11-23T10:00:07.000Z"))
    queue.post(event(id="e4", type="garbage", camera="cam-2", last="2026-11-23T10:00:08.000Z"))
    page = queue.list(**filters)
    assert [e.id for e in page.items] == ids
    assert (page.total, page.limit, page.offset) == (
        total, filters.get("limit", 50), filters.get("offset", 0),
    )  # fmt: skip


def test_events_seen_at_the_same_time_list_by_id(queue):
    for name in ["b", "c", "a"]:
        queue.post(event(id=name))
    assert [e.id for e in queue.list().items] == ["a", "b", "c"]


def test_counts_by_type(queue):
    queue.post(event(id="e1"))
    queue.post(event(id="e2", type="garbage"))
    queue.post(event(id="e3", type="garbage"))
    assert queue.count_by_type() == {"crowding": 1, "garbage": 2}
    assert queue.count() == 3


def test_every_change_is_delivered_once_in_order_and_duplicates_are_not(queue):
    queue.post(event(1, id="a"))
    queue.post(event(1, id="a"))  # a retry: no change, no delivery
    queue.post(event(1, id="b"))
    queue.post(event(2, id="a"))
    first = queue.read_new("cases")
    assert [(d.event.id, d.event.observations) for d in first] == [("a", 1), ("b", 1), ("a", 2)]
    queue.ack("cases", first[:2])
    assert [d.event.id for d in queue.read_new("cases")] == ["a"]
    queue.ack("cases", first)
    assert queue.read_new("cases") == []
    assert [d.event.id for d in queue.read_new("another-consumer")] == ["a", "b", "a"]


def test_what_is_not_acknowledged_is_delivered_again_before_anything_new(queue):
    queue.post(event(id="a"))
    queue.post(event(id="b"))
    first = queue.read_new("cases", limit=1)
    assert [d.event.id for d in first] == ["a"]
    assert queue.read_new("cases", limit=1) == first  # not acknowledged: the same again
    queue.post(event(id="c"))
    assert [d.event.id for d in queue.read_new("cases")] == ["a", "b", "c"]
    queue.ack("cases", queue.read_new("cases"))
    assert queue.read_new("cases") == []


def test_read_new_waits_for_a_change(queue):
    started = time.monotonic()
    assert queue.read_new("cases", block_s=0.5) == []
    assert time.monotonic() - started >= 0.45


def test_read_new_returns_as_soon_as_a_change_arrives(queue):
    timer = threading.Timer(0.3, lambda: queue.post(event(id="late")))
    timer.start()
    started = time.monotonic()
    got = queue.read_new("cases", block_s=5.0)
    timer.join()
    assert [d.event.id for d in got] == ["late"]
    assert time.monotonic() - started < 2.0


# Redis only: members of one consumer group ---------------------------------------------------


def test_members_of_a_group_share_the_work(redis_url):
    a = RedisEventQueue(redis_url, consumer_name="a")
    b = RedisEventQueue(redis_url, consumer_name="b")
    for i in range(4):
        a.post(event(id=f"e{i}"))
    got_a = a.read_new("cases", limit=2)
    got_b = b.read_new("cases")  # a's pending entries are not idle long: b gets the rest
    assert [d.event.id for d in got_a] == ["e0", "e1"]
    assert [d.event.id for d in got_b] == ["e2", "e3"]


def test_a_dead_members_pending_entries_are_taken_over_after_claim_idle(redis_url):
    dead = RedisEventQueue(redis_url, consumer_name="dead")
    alive = RedisEventQueue(redis_url, consumer_name="alive", claim_idle_s=0.3)
    for i in range(3):
        dead.post(event(id=f"e{i}"))
    assert len(dead.read_new("cases")) == 3  # read, never acknowledged
    assert alive.read_new("cases") == []  # not idle long enough yet
    time.sleep(0.4)
    taken = alive.read_new("cases")
    assert [d.event.id for d in taken] == ["e0", "e1", "e2"]
    alive.ack("cases", taken)
    assert alive.read_new("cases") == []
    assert alive.client.xpending(alive.stream, "cases")["pending"] == 0


CONSUME_AND_HANG = """
import sys, time
from service.queue.redis import RedisEventQueue
queue = RedisEventQueue(sys.argv[1], consumer_name="doomed")
print(len(queue.read_new("cases", limit=int(sys.argv[2]))), flush=True)
time.sleep(120)
"""


def test_a_consumer_killed_mid_stream_loses_nothing_and_duplicates_nothing(redis_url):
    producer = RedisEventQueue(redis_url, consumer_name="producer")
    ids = [f"e{i:02d}" for i in range(10)]
    for i, name in enumerate(ids):
        producer.post(event(id=name, last=f"2026-11-23T10:00:{i:02d}.000Z"))
    doomed = subprocess.Popen(
        [sys.executable, "-c", CONSUME_AND_HANG, redis_url, "4"],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert doomed.stdout.readline().strip() == "4"
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    survivor = RedisEventQueue(redis_url, consumer_name="survivor", claim_idle_s=0.3)
    handled: list[str] = []
    deadline = time.monotonic() + 10
    while len(handled) < len(ids) and time.monotonic() < deadline:
        got = survivor.read_new("cases", block_s=0.2)
        handled += [d.event.id for d in got]
        survivor.ack("cases", got)
    assert sorted(handled) == ids
    assert len(handled) == len(set(handled))
    assert survivor.client.xpending(survivor.stream, "cases")["pending"] == 0


def test_the_consumer_group_is_recreated_after_a_server_restart(redis_control):
    queue = RedisEventQueue(redis_control.url, consumer_name="w")
    queue.post(event(id="before"))
    queue.ack("cases", queue.read_new("cases"))
    redis_control.stop()
    redis_control.start()  # no persistence: group and events are gone
    queue.post(event(id="after"))
    assert [d.event.id for d in queue.read_new("cases")] == ["after"]


# errors and the factory -----------------------------------------------------------------------


def closed_port_url(password: str = "") -> str:
    """A Redis URL where nothing listens (a port that was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth = f":{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{port}/0"


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.post(event()),
        lambda q: q.get("e1"),
        lambda q: q.list(),
        lambda q: q.read_new("cases"),
    ],
    ids=["post", "get", "list", "read_new"],
)
def test_an_unreachable_server_is_queue_unavailable_naming_the_url(call):
    url = closed_port_url()
    queue = RedisEventQueue(url, connect_timeout_s=0.5)
    with pytest.raises(QueueUnavailable, match=re.escape(f"redis queue at {url} is unreachable")):
        call(queue)


def test_the_password_never_appears_in_errors():
    queue = RedisEventQueue(closed_port_url("s3cret"), connect_timeout_s=0.5)
    with pytest.raises(QueueUnavailable) as caught:
        queue.ping()
    assert "s3cret" not in str(caught.value) and ":***@" in str(caught.value)


@pytest.mark.parametrize(
    "url, backend",
    [("sqlite:///{tmp}/q.db", SqliteEventQueue), ("redis://127.0.0.1:1/0", RedisEventQueue)],
    ids=["sqlite", "redis"],
)
def test_open_queue_picks_the_backend_by_scheme(tmp_path, url, backend):
    queue = open_queue(url.format(tmp=tmp_path))
    assert isinstance(queue, backend)
    assert queue.url == url.format(tmp=tmp_path)


@pytest.mark.parametrize(
    "url",
    ["postgres://u:pw@db/x", "sqlite://relative.db", "queue.db"],
    ids=["postgres", "sqlite two slashes", "a bare path"],
)
def test_open_queue_rejects_other_schemes_naming_the_url_and_the_supported_ones(url):
    with pytest.raises(QueueError, match="unsupported queue url") as caught:
        open_queue(url)
    message = str(caught.value)
    assert "sqlite:///" in message and "redis://" in message
    assert "pw" not in message
