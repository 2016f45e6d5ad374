"""``streetwatch bench queue``: N producer processes post M events each (with deliberate
re-posts: identical retries and newer observations) while one consumer reads the deliveries;
counts what arrived, lost and duplicated, and the rate."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.queue import open_queue
from vision.types import Event

CONSUMER = "bench"


def bench_event(producer: int, n: int, observations: int = 1) -> Event:
    return Event(
        id=f"p{producer}-e{n}",
        type="crowding",
        camera_id=f"cam-{producer}",
        zone="z",
        video_t0=float(n),
        video_t1=float(n) + 1,
        first_seen="2026-11-23T08:00:00.000Z",
        last_seen=f"2026-11-23T08:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z",
        score=0.9,
        boxes=[[1.0, 2.0, 3.0, 4.0]],
        count=5,
        observations=observations,
    )


def produce(url: str, producer: int, events: int) -> None:
    """Post ``events`` events; every 10th again unchanged (a retry), every 25th again with a
    newer observation (an update, which is delivered)."""
    queue = open_queue(url)
    for n in range(events):
        event = bench_event(producer, n)
        queue.post(event)
        if n % 10 == 0:
            queue.post(event)
        if n % 25 == 0:
            queue.post(bench_event(producer, n, observations=2))


def expected_deliveries(producers: int, events: int) -> int:
    updates = len(range(0, events, 25))
    return producers * (events + updates)


@contextmanager
def temporary_redis() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free local port."""
    from streams.testing.rtsp import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="streetwatch-redis-") as tmp:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import redis

            client = redis.Redis(port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def run(url: str, backend: str, producers: int, events: int, timeout_s: float = 600) -> dict:
    queue = open_queue(url)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=produce, args=(url, i, events)) for i in range(producers)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    seen: set[tuple[str, int]] = set()
    duplicated = 0
    want = expected_deliveries(producers, events)
    last = started
    while len(seen) < want and time.monotonic() - started < timeout_s:
        batch = queue.read_new(CONSUMER, limit=1000, block_s=0.5)
        for delivery in batch:
            key = (delivery.event.id, delivery.event.observations)
            if key in seen:
                duplicated += 1
            seen.add(key)
        if batch:
            queue.ack(CONSUMER, batch)
            last = time.monotonic()
        producers_done = not any(w.is_alive() for w in workers)
        if not batch and producers_done and time.monotonic() - last > 5:
            break  # producers are done and nothing more arrived: what is missing is lost
    for worker in workers:
        worker.join(timeout=60)
    wall = max(1e-9, last - started)
    ids = {event_id for event_id, _ in seen}
    stored = queue.count()
    return {
        "backend": backend,
        "producers": producers,
        "events_per_producer": events,
        "posts": producers * (events + len(range(0, events, 10)) + len(range(0, events, 25))),
        "distinct_events": len(ids),
        "deliveries": len(seen) + duplicated,
        "events_per_s": len(ids) / wall,
        "seconds": wall,
        "lost": want - len(seen),
        "lost_events": producers * events - len(ids),
        "duplicated": duplicated + max(0, stored - producers * events),
        "stored": stored,
    }


def bench(backend: str, producers: int, events: int, url: str | None = None) -> dict:
    if url is not None:
        return run(url, backend, producers, events)
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as tmp:
            return run(f"sqlite:///{Path(tmp) / 'queue.db'}", backend, producers, events)
    with temporary_redis() as redis_url:
        return run(redis_url, backend, producers, events)
