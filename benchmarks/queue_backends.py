"""Queue backends side by side: one process posting events in a loop to SQLite and to Redis.

Prints a table per backend: new events/s, identical re-posts/s (ignored), updates/s (a newer
observation), consumer reads + acks/s (batches of 100), and one page of the list (ms). Redis is a
private ``redis-server`` on a free local port (or ``--redis-url``). Usage:
    python benchmarks/queue_backends.py [--events 2000] [--redis-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

from service.queue import open_queue  # noqa: E402
from service.queue.base import EventQueue  # noqa: E402
from vision.types import Event  # noqa: E402


def make_event(i: int, observations: int = 1) -> Event:
    return Event(
        id=f"bench-{i:06d}", type=("crowding", "garbage")[i % 2], camera_id=f"cam-{i % 8}",
        zone="z", video_t0=0.0, video_t1=1.0, first_seen="2026-01-01T00:00:00.000Z",
        last_seen=f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        score=0.5, boxes=[[1.0, 2.0, 3.0, 4.0]], count=5, observations=observations,
    )  # fmt: skip


@contextmanager
def private_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server) or use --redis-url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"redis://127.0.0.1:{port}/0"
            queue = open_queue(url)
            for _ in range(200):
                try:
                    queue.ping()  # type: ignore[attr-defined]
                    break
                except Exception:
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait()


def rate(n: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return n / (time.perf_counter() - started)


def measure(backend: str, queue: EventQueue, n: int) -> dict:
    events = [make_event(i) for i in range(n)]
    updates = [make_event(i, observations=2) for i in range(n)]
    new = rate(n, lambda: [queue.post(e) for e in events])
    repost = rate(n, lambda: [queue.post(e) for e in events])
    update = rate(n, lambda: [queue.post(e) for e in updates])

    def consume() -> None:
        while got := queue.read_new("bench", limit=100):
            queue.ack("bench", got)

    consumed = rate(2 * n, consume)
    started = time.perf_counter()
    page = queue.list(type="garbage", limit=50, offset=50)
    list_ms = (time.perf_counter() - started) * 1000
    assert queue.count() == n and page.total == n // 2, "the benchmark lost events"
    return {
        "backend": backend,
        "events": n,
        "new_per_s": new,
        "repost_per_s": repost,
        "update_per_s": update,
        "read_ack_per_s": consumed,
        "list_page_ms": list_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--redis-url", help="an existing (empty) Redis instead of a private one")
    parser.add_argument("--json", action="store_true", help="print one JSON object per backend")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure("sqlite", open_queue(f"sqlite:///{tmp}/queue.db"), args.events))
    if args.redis_url:
        rows.append(measure("redis", open_queue(args.redis_url), args.events))
    else:
        with private_redis() as url:
            rows.append(measure("redis", open_queue(url), args.events))

    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    header = ("backend", "events", "new/s", "re-post/s", "update/s", "read+ack/s", "list page")
    print(f"{header[0]:<8} {header[1]:>7} " + " ".join(f"{h:>11}" for h in header[2:]))
    for r in rows:
        print(
            f"{r['backend']:<8} {r['events']:>7} {r['new_per_s']:>11.0f} {r['repost_per_s']:>11.0f}"
            f" {r['update_per_s']:>11.0f} {r['read_ack_per_s']:>11.0f}"
            f" {r['list_page_ms']:>8.1f} ms"
        )


if __name__ == "__main__":
    main()
