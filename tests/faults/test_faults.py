"""Faults with real processes: decoders killed, workers SIGKILLed mid-event, a full evidence
disk, a queue file locked by another process, the service restarted while reviewers act."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from service.queue.sqlite import SqliteEventQueue
from streams.live_source import HealthState, LiveSettings, LiveSource
from tests.conftest import REPO, YOLOX, need

CLI = [sys.executable, "-m", "service.cli"]
ENV = {**os.environ, "YOLO_OFFLINE": "1"}
WALKWAY = [[0, 150], [560, 110], [768, 120], [768, 500], [560, 420], [0, 250]]


def wait_for(predicate, timeout: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def demo_config(tmp_path: Path, url: str, **sections) -> Path:
    raw = {
        "data_dir": str(tmp_path / "data"),
        "cameras": [
            {
                "id": "demo-01",
                "url": url,
                "analysis_fps": 2,
                "zones": [{"name": "walkway", "polygon": WALKWAY, "rules": {"crowding": {}}}],
            }
        ],
        "rules": {"crowding": {"min_people": 6, "min_duration_s": 3, "min_score": 0.4}},
        **sections,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_decoder_killed_again_and_again_is_restarted_every_time(rtsp_server):
    settings = LiveSettings(analysis_fps=2, backoff_initial_s=0.2, backoff_max_s=1)
    source = LiveSource("cam", rtsp_server.url("vtest"), settings).start()
    try:
        for kill in range(5):
            assert wait_for(
                lambda: source.decoder_pid is not None and source.health().frames_in, 20
            )
            before = source.health().frames_in
            os.kill(source.decoder_pid, signal.SIGKILL)
            assert wait_for(lambda b=before: source.health().frames_in > b + 1, 20), kill
        health = source.health()
        assert health.restarts >= 5 and health.state is HealthState.ONLINE
    finally:
        source.stop()


def test_a_worker_killed_mid_event_resumes_the_same_event_after_restart(rtsp_server, tmp_path):
    need(YOLOX)
    config = demo_config(
        tmp_path, rtsp_server.url("vtest"), events={"close_after_s": 15, "cooldown_s": 30}
    )
    queue = SqliteEventQueue(f"sqlite:///{tmp_path / 'data' / 'queue.db'}")
    run = [*CLI, "run", "--config", str(config), "--worker-only"]
    worker = subprocess.Popen(run, env=ENV, cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: queue.count() > 0, 120), "no event before the kill"
        opened = queue.list().items[0]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker = subprocess.Popen(run, env=ENV, cwd=REPO, stderr=subprocess.DEVNULL)

        def continued():
            event = queue.get(opened.id)
            return event is not None and event.observations > opened.observations + 2

        assert wait_for(continued, 120), "the open event did not resume"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    crowds = queue.list(type="crowding").items
    spans = sorted((e.first_seen, e.last_seen, e.id) for e in crowds)
    for (_, end, _), (start, _, other) in zip(spans, spans[1:], strict=False):
        assert start > end, f"event {other} overlaps another: a duplicate"
    assert queue.get(opened.id).status == "closed"  # closed cleanly by the SIGTERM


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "evidence"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_evidence_disk_loses_no_event(tmp_path, tiny_disk, vtest):
    need(YOLOX)
    config = demo_config(tmp_path, str(vtest), evidence_dir=str(tiny_disk))
    out = tmp_path / "events.jsonl"
    done = subprocess.run(
        [*CLI, "replay", str(vtest), "--config", str(config), "--events-out", str(out),
         "--no-progress"],
        capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events, "no event"
    missing = [e for e in events if e["evidence_error"]]
    assert missing and all("No space left" in e["evidence_error"] for e in missing)
    assert all(e["snapshot"] is None for e in missing)
    assert "cannot write evidence" in done.stderr
    queue = SqliteEventQueue(f"sqlite:///{tmp_path / 'data' / 'queue.db'}")
    assert queue.count() == len(events)


def test_a_queue_locked_by_another_process_spools_and_loses_nothing(tmp_path, vtest):
    need(YOLOX)
    config = demo_config(tmp_path, str(vtest))
    db = tmp_path / "data" / "queue.db"
    SqliteEventQueue(f"sqlite:///{db}")  # create it
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
         "sys.stdin.readline(); db.execute('ROLLBACK')", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    out = tmp_path / "events.jsonl"
    try:  # the whole replay runs while another process holds the queue file locked
        done = subprocess.run(
            [*CLI, "replay", str(vtest), "--config", str(config), "--events-out", str(out),
             "--no-progress"],
            capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300,
        )  # fmt: skip
    finally:
        holder.communicate("release\n", timeout=30)
    assert done.returncode == 0, done.stderr
    assert "spooling" in done.stderr and "wait in" in done.stderr
    expected = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert expected
    queue = SqliteEventQueue(f"sqlite:///{db}")
    assert queue.count() == 0
    # the lock is gone: the next run drains what this one spooled, then posts its own
    again = subprocess.run(
        [*CLI, "replay", str(vtest), "--config", str(config), "--no-progress"],
        capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert {e.id for e in queue.list(limit=500).items} == expected
    assert queue.count() == len(expected)


def free_port() -> int:
    from streams.testing.rtsp import free_port as port

    return port()


def post(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_no_acknowledged_transition_is_lost_when_the_service_is_killed(tmp_path):
    from service.cases.store import CaseStore
    from tests.service.cases.test_store import event

    config = demo_config(tmp_path, "clip.mp4")
    store = CaseStore(f"sqlite:///{tmp_path / 'data' / 'cases.db'}")
    case_id = store.attach(event("e1")).case_id
    port = free_port()
    serve = [*CLI, "serve", "--config", str(config), "--port", str(port)]
    base = f"http://127.0.0.1:{port}"

    def start():
        process = subprocess.Popen(serve, env=ENV, cwd=REPO, stderr=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL)  # fmt: skip
        assert wait_for(lambda: post(f"{base}/cases/{case_id}/comments", {"actor": "probe",
                        "text": "up?"}) == 200, 60)  # fmt: skip
        return process

    acknowledged = []
    service = start()
    try:
        for i in range(30):
            if i in (10, 20):
                service.send_signal(signal.SIGKILL)
                service.wait(timeout=10)
                service = start()
            text = f"note {i}"
            if post(f"{base}/cases/{case_id}/comments", {"actor": "reviewer", "text": text}) == 200:
                acknowledged.append(text)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=30)
    history = [t.reason for t in store.get(case_id).transitions if t.actor == "reviewer"]
    assert len(acknowledged) == 30
    assert history == acknowledged
