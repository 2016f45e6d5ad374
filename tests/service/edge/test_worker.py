"""The live worker over real RTSP cameras: events with snapshots and clips, camera_offline
events, health for the API, and a clean SIGTERM shutdown of ``streetwatch run``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import yaml

from service.config import load_config
from service.edge.health_store import CameraHealthStore
from service.edge.worker import CAMERA_OFFLINE, LiveWorker
from service.queue.sqlite import SqliteEventQueue
from tests.conftest import REPO

TRIANGLE = [[0, 0], [99, 0], [99, 99]]
WALKWAY = [[0, 150], [560, 110], [768, 120], [768, 500], [560, 420], [0, 250]]


def write_config(tmp_path: Path, server, **live) -> Path:
    raw = {
        "data_dir": str(tmp_path / "data"),
        "cameras": [
            {
                "id": "vtest-live",
                "url": server.url("vtest"),
                "analysis_fps": 2,
                "zones": [{"name": "walkway", "polygon": WALKWAY, "rules": {"crowding": {}}}],
            },
            {
                "id": "broken",
                "url": server.url("no-such-camera"),
                "zones": [{"name": "all", "polygon": TRIANGLE, "rules": {"crowding": {}}}],
            },
        ],
        "rules": {"crowding": {"min_people": 5, "min_duration_s": 2, "min_score": 0.4}},
        "events": {"close_after_s": 3, "cooldown_s": 3},
        "live": {
            "offline_event_after_s": 2, "stall_timeout_s": 3, "open_timeout_s": 5,
            "backoff_initial_s": 0.5, "backoff_max_s": 2, "clip_pre_s": 2, "clip_post_s": 2,
            "segment_s": 1, **live,
        },
    }  # fmt: skip
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_worker_turns_live_cameras_into_events_with_evidence(
    rtsp_server, yolox_detector, tmp_path
):
    config = load_config(write_config(tmp_path, rtsp_server))
    worker = LiveWorker(config, yolox_detector)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    queue = SqliteEventQueue(config.queue_url)
    try:

        def crowd_with_clip():
            events = queue.list(type="crowding").items
            return any(e.clip for e in events)

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not crowd_with_clip():
            time.sleep(1)
        offline = queue.list(type=CAMERA_OFFLINE).items
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    crowds = queue.list(type="crowding").items
    assert crowds, "no crowding event from the live vtest camera"
    event = crowds[-1]
    assert event.camera_id == "vtest-live" and 5 <= (event.count or 0) <= 12
    assert Path(event.snapshot or "").is_file()
    assert any(e.clip and Path(e.clip).stat().st_size > 10_000 for e in crowds)
    assert [e.camera_id for e in offline] == ["broken"]
    health = CameraHealthStore(config.queue_url).read()
    assert health["vtest-live"]["frames_analysed"] > 5
    assert health["broken"]["state"] in ("offline", "stopped")
    assert worker.frames_analysed()["broken"] == 0


def child_pids(pid: int) -> set[int]:
    children = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            children.add(int(status.parent.name))
    return children


def test_run_serves_camera_health_and_stops_cleanly_on_sigterm(rtsp_server, tmp_path):
    from streams.testing.rtsp import free_port

    port = free_port()
    config = write_config(tmp_path, rtsp_server)
    run = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "run", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )  # fmt: skip
    try:
        cameras: list = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cameras", timeout=3) as r:
                    cameras = json.load(r)
                if any(c["state"] == "online" for c in cameras):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        states = {c["id"]: c["state"] for c in cameras}
        assert states.get("vtest-live") == "online", states
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as r:
            metrics = r.read().decode()
        assert 'streetwatch_camera_up{camera="vtest-live"} 1' in metrics
        assert 'streetwatch_camera_up{camera="broken"} 0' in metrics
        decoders = child_pids(run.pid)
        assert decoders, "no decoder processes"
    finally:
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=30)
    assert run.returncode == 0, output
    assert "decoders terminated" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in decoders)
    assert "Traceback" not in output
