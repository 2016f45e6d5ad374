"""Many workers on one Redis: cameras are split by leases, and when a worker is killed with
SIGKILL its cameras move to the other worker within the lease TTL; events are never duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import yaml

from service.edge.health_store import REDIS_KEY
from service.queue import open_queue
from tests.conftest import REPO

WALKWAY = [[0, 150], [560, 110], [768, 120], [768, 500], [560, 420], [0, 250]]
TTL = 2.0


def write_config(tmp_path: Path, rtsp_server, redis_url: str) -> Path:
    cameras = [
        {
            "id": f"cam-{i}",
            "url": rtsp_server.url("vtest"),
            "analysis_fps": 1,
            "zones": [{"name": "walkway", "polygon": WALKWAY, "rules": {"crowding": {}}}],
        }
        for i in range(4)
    ]
    raw = {
        "data_dir": str(tmp_path / "data"),
        "cameras": cameras,
        "queue": {"url": redis_url, "lease_ttl_s": TTL},
        "rules": {"crowding": {"min_people": 5, "min_duration_s": 2, "min_score": 0.4}},
        "live": {"clips": False, "stall_timeout_s": 4, "backoff_initial_s": 0.5},
    }
    path = tmp_path / "workers.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def start_worker(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "run", "--config", str(config), "--worker-only"],
        stdout=subprocess.DEVNULL, stderr=log.open("w"), cwd=REPO,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )  # fmt: skip


def tails(*logs: Path) -> str:
    return "\n".join(f"{log.name}: {log.read_text()[-1500:]}" for log in logs)


def owners(client: redis.Redis) -> dict[str, tuple[str, str]]:
    health = {cam: json.loads(raw) for cam, raw in client.hgetall(REDIS_KEY).items()}
    return {cam: (h.get("worker", ""), h["state"]) for cam, h in health.items()}


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_cameras_move_to_the_surviving_worker_within_the_lease_ttl(
    rtsp_server, redis_url, tmp_path
):
    config = write_config(tmp_path, rtsp_server, redis_url)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    logs = tmp_path / "a.log", tmp_path / "b.log"
    a, b = start_worker(config, logs[0]), start_worker(config, logs[1])
    try:

        def split_between_two():
            now = owners(client)
            online = [w for w, state in now.values() if state == "online"]
            return len(online) == 4 and len(set(online)) == 2

        assert wait_until(split_between_two, 150), (owners(client), tails(*logs))
        victim = f"{os.uname().nodename}-{a.pid}"
        moved = sorted(cam for cam, (w, _) in owners(client).items() if w == victim)
        assert len(moved) == 2
        killed_at = time.monotonic()
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)
        survivor = f"{os.uname().nodename}-{b.pid}"

        def all_on_survivor():
            now = owners(client)
            return all(now.get(cam) == (survivor, "online") for cam in moved)

        assert wait_until(all_on_survivor, 30), (owners(client), tails(*logs))
        takeover_s = time.monotonic() - killed_at
        # lease TTL + one renewal period + the camera's reconnect and first frame
        assert takeover_s < TTL + TTL / 3 + 12, takeover_s
        print(f"cameras moved {takeover_s:.1f}s after SIGKILL (lease TTL {TTL}s)")
    finally:
        for worker in (a, b):
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in (a, b):
            worker.wait(timeout=30)
    assert b.returncode == 0
    queue = open_queue(redis_url)
    events = queue.list(limit=500).items
    assert len({e.id for e in events}) == len(events)
