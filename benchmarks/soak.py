"""Soak: real clips as live cameras for a long time, with faults injected at random (seeded).

Faults: a camera's decoder SIGKILLed, the RTSP server killed and restarted, the server frozen
(SIGSTOP) then thawed, the queue file locked by another process past the busy timeout (the
worker spools). At the end it checks that memory did not grow without bound, every camera
recovered, and every event the worker produced reached the queue exactly once (same ids, each at
its latest version).

    python benchmarks/soak.py --duration 1800 --cameras 4 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

import yaml  # noqa: E402
from live_cameras import rss_mb  # noqa: E402

from models.files import shared_dir  # noqa: E402
from models.loader import load_detector  # noqa: E402
from service.config import load_config  # noqa: E402
from service.edge.worker import LiveWorker  # noqa: E402
from service.queue.sqlite import SqliteEventQueue  # noqa: E402
from streams.live_source import HealthState  # noqa: E402
from streams.testing.rtsp import RtspTestServer, encode_clip  # noqa: E402
from vision.dedup import EventUpdate  # noqa: E402

WALKWAY = [[0, 150], [560, 110], [768, 120], [768, 500], [560, 420], [0, 250]]
FAULTS = ("kill_decoder", "kill_server", "freeze_server", "lock_queue")


class Produced:
    """Every event version the worker produced (a sink beside the queue)."""

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}
        self.lock = threading.Lock()

    def post(self, update: EventUpdate) -> None:
        with self.lock:
            event = update.event
            self.latest[event.id] = max(self.latest.get(event.id, 0), event.observations)


def lock_queue(db: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE'); time.sleep(float(sys.argv[2])); db.execute('ROLLBACK')",
            str(db),
            str(seconds),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800.0)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-every", type=float, default=45.0, help="mean seconds")
    parser.add_argument("--settle", type=float, default=40.0, help="quiet seconds at the end")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    media = shared_dir() / "media"
    with tempfile.TemporaryDirectory(prefix="streetwatch-soak-") as tmp:
        work = Path(tmp)
        clips = {
            "vtest": (encode_clip(media / "vtest.avi", work / "v.h264", gop=10), 10.0),
            "street": (
                encode_clip(media / "pedestrians_street.mp4", work / "s.h264", gop=25),
                25.0,
            ),
        }
        cameras = [
            {
                "id": f"cam-{i}",
                "url": "",
                "analysis_fps": 1,
                "zones": [{"name": "walkway", "polygon": WALKWAY, "rules": {"crowding": {}}}],
            }
            for i in range(args.cameras)
        ]
        server = RtspTestServer(clips).start()
        for i, camera in enumerate(cameras):
            camera["url"] = server.url(("vtest", "street")[i % 2])
        config_path = work / "soak.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "data_dir": str(work / "data"),
                    "cameras": cameras,
                    "rules": {"crowding": {"min_people": 6, "min_duration_s": 3}},
                    "events": {"close_after_s": 5, "cooldown_s": 5},
                    "live": {"stall_timeout_s": 6, "backoff_max_s": 8, "clip_post_s": 2},
                }
            )
        )
        config = load_config(config_path)
        produced = Produced()
        worker = LiveWorker(config, load_detector("yolox-nano-coco"), extra_sinks=[produced])
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,))
        thread.start()
        started = time.monotonic()
        faults: Counter[str] = Counter()
        rss: list[tuple[float, float]] = []
        next_fault = started + rng.expovariate(1 / args.fault_every)
        fault_end = started + args.duration - args.settle
        last_report = started
        while time.monotonic() - started < args.duration:
            time.sleep(1.0)
            now = time.monotonic()
            if int(now - started) % 10 == 0:
                rss.append((now - started, rss_mb()))
            if now - last_report >= 60:
                last_report = now
                print(
                    f"  {now - started:6.0f}s faults {dict(faults)} events {len(produced.latest)} "
                    f"RSS {rss_mb():.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            if now < next_fault or now > fault_end:
                continue
            next_fault = now + rng.expovariate(1 / args.fault_every)
            kind = rng.choice(FAULTS)
            faults[kind] += 1
            if kind == "kill_decoder":
                source = rng.choice(list(worker.sources.values()))
                if source.decoder_pid:
                    os.kill(source.decoder_pid, signal.SIGKILL)
            elif kind == "kill_server":
                server.kill()
                time.sleep(rng.uniform(2, 10))
                server.start()
            elif kind == "freeze_server":
                server.freeze()
                time.sleep(rng.uniform(5, 20))
                server.thaw()
            else:
                lock_queue(config.data_dir / "queue.db", rng.uniform(11, 20))
        healths = {cid: s.health() for cid, s in worker.sources.items()}
        restarts = {cid: h.restarts for cid, h in healths.items()}
        recovered = all(h.state is HealthState.ONLINE for h in healths.values())
        stop.set()
        thread.join(timeout=120)
        server.kill()
        queue = SqliteEventQueue(config.queue_url)
        stored = {e.id: e.observations for e in queue.list(limit=100_000).items}
        lost = sorted(set(produced.latest) - set(stored))
        stale = sorted(i for i, n in produced.latest.items() if stored.get(i, n) < n)
        extra = sorted(set(stored) - set(produced.latest))
        warm = [m for t, m in rss if t >= 120] or [m for _, m in rss]
        result = {
            "seconds": round(time.monotonic() - started),
            "cameras": args.cameras,
            "faults": dict(faults),
            "restarts_per_camera": restarts,
            "all_cameras_recovered": recovered,
            "events_produced": len(produced.latest),
            "events_stored": len(stored),
            "lost": len(lost),
            "stale_versions": len(stale),
            "unexpected": len(extra),
            "frames_analysed": sum(worker.frames_analysed().values()),
            "rss_start_mb": round(warm[0], 1),
            "rss_end_mb": round(warm[-1], 1),
            "rss_peak_mb": round(max(m for _, m in rss), 1),
        }
    print("\nsoak result")
    for key, value in result.items():
        print(f"  {key:24} {value}")
    ok = recovered and not lost and not stale and not extra
    print("PASS" if ok else "FAIL")
    if args.json:
        print(json.dumps(result))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
