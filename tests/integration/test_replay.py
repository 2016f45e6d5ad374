"""The whole chain on the real PETS 2009 clip: ffmpeg -> YOLOX -> crowding -> dedup -> evidence
-> SQLite queue -> JSONL, through the real command line, and the demo serving it over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from service.queue.sqlite import SqliteEventQueue
from tests.conftest import REPO, YOLOX, need
from vision.types import Event

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "service.cli"]
ENV = {**os.environ, "YOLO_OFFLINE": "1"}


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    """configs/demo.yaml with its data under a temporary folder."""
    need(YOLOX)
    raw = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
    folder = tmp_path_factory.mktemp("demo")
    raw["data_dir"] = str(folder / "data")
    raw["cameras"][0]["url"] = str(REPO / "configs" / raw["cameras"][0]["url"])
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def replay(config: Path, video: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "replay", str(video), "--config", str(config), "--events-out", str(out), *extra],
        capture_output=True, text=True, timeout=600, env=ENV, cwd=REPO,
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_runs(demo_config, vtest, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    first = replay(demo_config, vtest, out / "first.jsonl")
    second = replay(demo_config, vtest, out / "second.jsonl")
    return first, second, out / "first.jsonl", out / "second.jsonl"


def events_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_exits_zero_and_reports_what_it_did(two_runs):
    first, _, _, _ = two_runs
    assert first.returncode == 0, first.stderr
    assert "159 frames" in first.stdout and "yolox-nano-coco" in first.stdout


def test_the_clip_gives_a_few_crowding_events_with_plausible_counts(two_runs):
    events = events_of(two_runs[2])
    assert 1 <= len(events) <= 4  # people gather on the walkway twice in the clip
    for event in events:
        Event.model_validate(event)
        assert event["type"] == "crowding" and event["camera_id"] == "demo-01"
        assert event["zone"] == "walkway" and event["status"] == "closed"
        assert 6 <= event["count"] <= 12  # the clip shows up to about ten people
        assert len(event["boxes"]) == event["count"]
        assert 0 <= event["video_t0"] < event["video_t1"] <= 79.5
        assert event["video_t1"] - event["video_t0"] >= 5 - 1e-6  # at least min_duration_s
        assert event["first_seen"].endswith("Z") and event["last_seen"].endswith("Z")
        for x1, y1, x2, y2 in event["boxes"]:
            assert 0 <= x1 < x2 <= 770 and 0 <= y1 < y2 <= 578


def test_one_gathering_is_one_event_not_one_per_frame(two_runs):
    events = events_of(two_runs[2])
    assert sum(e["observations"] for e in events) > 5 * len(events)
    spans = sorted((e["video_t0"], e["video_t1"]) for e in events)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start > end  # no two events of the zone overlap in time


def test_snapshots_exist_and_match_their_checksums(two_runs):
    for event in events_of(two_runs[2]):
        data = Path(event["snapshot"]).read_bytes()
        assert data[:2] == b"\xff\xd8"
        assert hashlib.sha256(data).hexdigest() == event["snapshot_sha256"]


def test_two_runs_give_identical_events_apart_from_wall_clock_fields(two_runs):
    first, second = events_of(two_runs[2]), events_of(two_runs[3])
    strip = [{k: v for k, v in e.items() if k not in Event.WALL_CLOCK_FIELDS} for e in first]
    assert strip == [
        {k: v for k, v in e.items() if k not in Event.WALL_CLOCK_FIELDS} for e in second
    ]


def test_the_queue_holds_each_event_once_after_two_runs(two_runs, demo_config):
    from service.config import load_config

    queue = SqliteEventQueue(load_config(demo_config).queue_url)
    events = events_of(two_runs[2])
    assert queue.count() == len(events)
    for event in events:
        stored = queue.get(event["id"])
        assert stored is not None and stored.count == event["count"]


def test_a_pinned_start_time_makes_the_whole_file_byte_identical(demo_config, vtest, tmp_path):
    pinned = ("--start-time", "2026-11-23T08:00:00Z", "--no-progress")
    a = replay(demo_config, vtest, tmp_path / "a.jsonl", *pinned)
    b = replay(demo_config, vtest, tmp_path / "b.jsonl", *pinned)
    assert a.returncode == b.returncode == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    first = events_of(tmp_path / "a.jsonl")[0]
    assert first["first_seen"].startswith("2026-11-23T08:00:")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_demo_serves_crowding_events_over_http(demo_config):
    port = free_port()
    demo = subprocess.Popen(
        [*CLI, "demo", "--config", str(demo_config), "--fast", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=REPO,
    )  # fmt: skip
    try:
        body: dict = {"items": []}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=5) as reply:
                    body = json.load(reply)
                if body["items"] and all(e["status"] == "closed" for e in body["items"]):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
        assert body["items"] and {e["type"] for e in body["items"]} == {"crowding"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            assert "walkway" in reply.read().decode()
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
