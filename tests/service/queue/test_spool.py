"""The disk spool in front of a real redis-server that goes down and comes back: nothing lost,
nothing duplicated, order kept, survives a restart of the process's queue object."""

from __future__ import annotations

import json
import time

import pytest

from service.queue.base import QueueError, QueueUnavailable
from service.queue.redis import RedisEventQueue
from service.queue.spool import SpoolingQueue
from service.queue.sqlite import SqliteEventQueue
from vision.types import Event


def event(n=1, *, id="e1", last="2026-11-23T10:00:05.000Z"):
    return Event(
        id=id, type="garbage", camera_id="cam-1", zone="curb", video_t0=0.0, video_t1=5.0,
        first_seen="2026-11-23T10:00:00.000Z", last_seen=last, score=0.7, boxes=[],
        observations=n,
    )  # fmt: skip


def wait_until(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def spool_lines(spool: SpoolingQueue) -> list[dict]:
    return [json.loads(line) for line in spool.path.read_text().splitlines()]


@pytest.fixture
def down_redis(redis_control):
    """A redis-server that is stopped now; ``redis_control.start()`` brings it back."""
    redis_control.stop()
    return redis_control


def redis_queue(url: str) -> RedisEventQueue:
    return RedisEventQueue(url, consumer_name="w", connect_timeout_s=0.5)


def test_posts_while_redis_is_down_are_spooled_on_disk(down_redis, tmp_path):
    with SpoolingQueue(redis_queue(down_redis.url), tmp_path / "spool") as spool:
        assert spool.post(event(id="a")) is True
        assert spool.post(event(id="b")) is True
        assert spool.spooled == 2
        assert [e["id"] for e in spool_lines(spool)] == ["a", "b"]


def test_an_outage_and_a_restart_lose_nothing_and_duplicate_nothing(down_redis, tmp_path):
    ids = [f"e{i}" for i in range(8)]
    first = SpoolingQueue(redis_queue(down_redis.url), tmp_path / "spool", retry_s=0.1)
    for name in ids:
        first.post(event(id=name))
    first.post(event(id="e3"))  # a retry of the same event: spooled twice, stored once
    assert first.spooled == 9
    first.close()  # the worker restarts while Redis is still down

    second = SpoolingQueue(redis_queue(down_redis.url), tmp_path / "spool", retry_s=0.1)
    assert second.spooled == 9
    second.start()
    time.sleep(0.3)  # the drainer retries against the dead server: nothing changes
    assert second.spooled == 9

    down_redis.start()
    assert wait_until(lambda: second.spooled == 0), "the spool was not drained"
    second.close()
    queue = redis_queue(down_redis.url)
    assert queue.count() == len(ids)
    delivered = [d.event.id for d in queue.read_new("cases", limit=100)]
    assert delivered == ids  # in order, each once
    assert second.path.read_text() == ""


def test_posts_after_the_backend_returns_queue_behind_the_spool_to_keep_order(down_redis, tmp_path):
    with SpoolingQueue(redis_queue(down_redis.url), tmp_path / "spool") as spool:
        spool.post(event(1, id="a"))
        down_redis.start()
        spool.post(event(2, id="a", last="2026-11-23T10:00:09.000Z"))  # newer: after the old
        assert spool.spooled == 2
        assert spool.drain() == 2
        queue = redis_queue(down_redis.url)
        assert queue.get("a").observations == 2
        assert [d.event.observations for d in queue.read_new("cases")] == [1, 2]
        assert spool.post(event(1, id="b")) is True  # spool empty: straight to Redis
        assert spool.spooled == 0 and queue.get("b") is not None


def test_stop_tries_a_last_drain(down_redis, tmp_path):
    spool = SpoolingQueue(redis_queue(down_redis.url), tmp_path / "spool", retry_s=60)
    spool.start()
    spool.post(event(id="a"))
    down_redis.start()
    spool.stop()
    assert spool.spooled == 0
    assert redis_queue(down_redis.url).count() == 1
    spool.close()


@pytest.fixture
def sqlite_queue(tmp_path):
    return SqliteEventQueue(f"sqlite:///{tmp_path / 'queue.db'}")


def test_events_posted_before_a_crash_but_still_spooled_are_not_duplicated(sqlite_queue, tmp_path):
    # a crash after the post and before the spool was trimmed: the drain posts them again
    for name in ["a", "b"]:
        sqlite_queue.post(event(id=name))
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    (spool_dir / "spool.jsonl").write_text(
        "".join(event(id=n).model_dump_json() + "\n" for n in ["a", "b", "c"])
    )
    with SpoolingQueue(sqlite_queue, spool_dir) as spool:
        assert spool.drain() == 3
    assert sqlite_queue.count() == 3
    assert [d.event.id for d in sqlite_queue.read_new("cases")] == ["a", "b", "c"]


class FailsAfter:
    """A backend that goes away after ``n`` more posts."""

    def __init__(self, inner: SqliteEventQueue, n: int) -> None:
        self.inner, self.url, self.left = inner, inner.url, n

    def post(self, event: Event) -> bool:
        if self.left <= 0:
            raise QueueUnavailable("backend went away")
        self.left -= 1
        return self.inner.post(event)


def test_a_drain_cut_short_keeps_the_rest_in_order(sqlite_queue, tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    names = [f"e{i}" for i in range(5)]
    (spool_dir / "spool.jsonl").write_text(
        "".join(event(id=n).model_dump_json() + "\n" for n in names)
    )
    backend = FailsAfter(sqlite_queue, 2)
    with SpoolingQueue(backend, spool_dir, batch=1) as spool:
        assert spool.drain() == 2
        assert [e["id"] for e in spool_lines(spool)] == names[2:]
        backend.left = 10
        assert spool.drain() == 3
        assert spool.spooled == 0
    assert [d.event.id for d in sqlite_queue.read_new("cases")] == names


def test_a_torn_last_line_is_moved_aside_and_the_rest_drains(sqlite_queue, tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    whole = event(id="a").model_dump_json() + "\n"
    (spool_dir / "spool.jsonl").write_text(whole + '{"id": "b", "ty')
    with SpoolingQueue(sqlite_queue, spool_dir) as spool:
        assert spool.spooled == 1
        spool.post(event(id="c"))  # appended on a clean line
        assert spool.drain() == 2
    assert sqlite_queue.count() == 2
    assert (spool_dir / "rejected.jsonl").read_text() == '{"id": "b", "ty\n'


def test_other_methods_go_to_the_backend(sqlite_queue, tmp_path):
    with SpoolingQueue(sqlite_queue, tmp_path / "spool") as spool:
        spool.post(event(id="a"))
        assert spool.url == sqlite_queue.url
        assert spool.get("a") == event(id="a")
        assert [e.id for e in spool.list().items] == ["a"]
        assert (spool.count(), spool.count_by_type()) == (1, {"garbage": 1})
        got = spool.read_new("cases")
        spool.ack("cases", got)
        assert spool.read_new("cases") == []


def test_one_spool_folder_serves_one_process_at_a_time(sqlite_queue, tmp_path):
    with (
        SpoolingQueue(sqlite_queue, tmp_path / "spool"),
        pytest.raises(QueueError, match="in use by another process"),
    ):
        SpoolingQueue(sqlite_queue, tmp_path / "spool")
    SpoolingQueue(sqlite_queue, tmp_path / "spool").close()  # free again once closed
