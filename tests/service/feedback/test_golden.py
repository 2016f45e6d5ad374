"""``service/feedback/golden.py`` and ``streetwatch eval events``: matching replayed events to a
golden file, the scores, golden-file errors, and one real end-to-end run on vtest.avi."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from service.config import load_config
from service.feedback.golden import (
    Detected,
    GoldenError,
    GoldenEvent,
    TypeScore,
    evaluate,
    load_golden,
    match_events,
    score,
)
from tests.conftest import REPO, VTEST, YOLOX, need

WALKWAY = [[0, 150], [560, 110], [768, 120], [768, 500], [560, 420], [0, 250]]


def gold(t0: float, t1: float, type: str = "crowding", zone: str | None = "walkway", **kw):
    base = {"video": "v.mp4", "camera": "cam-01", "type": type, "zone": zone, "t0": t0, "t1": t1}
    return GoldenEvent(**{**base, **kw})


def event(t0: float, t1: float, type: str = "crowding", zone: str = "walkway", **kw) -> Detected:
    base = {"video": "v.mp4", "camera": "cam-01", "type": type, "zone": zone, "t0": t0, "t1": t1}
    return Detected(**{**base, **kw})


@pytest.mark.parametrize(
    "events, golden, expected",
    [
        ([event(10, 20)], [gold(15, 30)], (1, 0, 0)),
        ([event(10, 20)], [gold(20, 30)], (1, 0, 0)),
        ([event(10, 20)], [gold(21, 30)], (0, 1, 1)),
        ([event(10, 20, zone="road")], [gold(10, 20)], (0, 1, 1)),
        ([event(10, 20, zone="road")], [gold(10, 20, zone=None)], (1, 0, 0)),
        ([event(10, 20, type="garbage")], [gold(10, 20)], (0, 1, 1)),
        ([event(10, 20, camera="cam-02")], [gold(10, 20)], (0, 1, 1)),
        ([event(10, 20, video="w.mp4")], [gold(10, 20)], (0, 1, 1)),
        ([event(10, 20), event(25, 40)], [gold(0, 50)], (1, 1, 0)),
        ([event(0, 50)], [gold(10, 20), gold(25, 40)], (1, 0, 1)),
        ([event(0, 12), event(12, 40)], [gold(0, 10), gold(10, 40)], (2, 0, 0)),
        ([], [gold(0, 10)], (0, 0, 1)),
        ([event(0, 10)], [], (0, 1, 0)),
        ([], [], (0, 0, 0)),
    ],
    ids=[
        "overlapping intervals match",
        "touching intervals match",
        "intervals one second apart do not match",
        "an event in another zone than the golden one does not match",
        "a golden event without a zone matches any zone",
        "an event of another type does not match",
        "an event of another camera does not match",
        "an event of another video does not match",
        "two events over one golden event are one tp and one fp",
        "one event over two golden events matches only one of them",
        "pairs are taken by largest overlap, so both golden events are found",
        "a golden event nobody reported is a false negative",
        "an event on a negative video is a false positive",
        "nothing expected and nothing reported",
    ],
)
def test_matching(events, golden, expected):
    result = match_events(events, golden)
    assert (len(result.matches), len(result.false_positives), len(result.false_negatives)) == (
        expected
    )
    assert len({id(m.golden) for m in result.matches}) == len(result.matches)
    assert len({id(m.event) for m in result.matches}) == len(result.matches)


def test_the_larger_overlap_wins_the_golden_event():
    short, long = event(0, 3), event(5, 30)
    result = match_events([short, long], [gold(2, 30)])
    assert [m.event for m in result.matches] == [long]
    assert result.false_positives == [short]


@pytest.mark.parametrize(
    "counts, expected",
    [
        ((2, 0, 0), (1.0, 1.0, 1.0)),
        ((1, 1, 1), (0.5, 0.5, 0.5)),
        ((1, 0, 3), (1.0, 0.25, 0.4)),
        ((0, 2, 0), (0.0, 1.0, 0.0)),
        ((0, 0, 2), (1.0, 0.0, 0.0)),
        ((0, 0, 0), (1.0, 1.0, 1.0)),
    ],
    ids=[
        "all found, nothing extra",
        "half right",
        "precise but missing most",
        "only false alarms on negatives: precision 0, recall 1",
        "nothing reported but something expected: precision 1, recall 0",
        "a quiet rule on negatives scores 1",
    ],
)
def test_scores(counts, expected):
    s = TypeScore(*counts)
    assert (s.precision, s.recall, s.f1) == pytest.approx(expected)


def test_score_lists_every_type_asked_for_and_counts_per_type():
    result = match_events(
        [event(0, 10), event(0, 10, type="garbage")], [gold(0, 10), gold(50, 60, type="garbage")]
    )
    scores = score(result, ["waterlogging"])
    assert scores == {
        "crowding": TypeScore(1, 0, 0),
        "garbage": TypeScore(0, 1, 1),
        "waterlogging": TypeScore(0, 0, 0),
    }


# --- golden files ------------------------------------------------------------------------------


def write_golden(folder: Path, data, name: str = "golden.yaml") -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "videos" / "clip.mp4"
    path.parent.mkdir()
    path.write_bytes(b"not decoded by these tests")
    return path


def golden_data(**events_kw) -> dict:
    event_ = {"video": "videos/clip.mp4", "camera": "cam-01", "type": "garbage", "t0": 1, "t1": 5}
    return {
        "videos": [{"video": "videos/clip.mp4", "camera": "cam-01"}],
        "events": [{**event_, **events_kw}],
    }


@pytest.mark.parametrize(
    "data, key, message",
    [
        ("videos: [", "", "invalid YAML"),
        ("", "", "the top level must be a mapping"),
        ({"videos": []}, "videos", "at least 1 item"),
        ({**golden_data(), "extra": 1}, "extra", "unknown key 'extra' (valid: events, videos)"),
        (golden_data(start=3), "events[0].start", "unknown key 'start'"),
        (golden_data(type="litter"), "events[0].type", "unknown event type 'litter'"),
        (golden_data(t0=9), "events[0]", "t1 (5) is before t0 (9)"),
        (golden_data(t0=-1), "events[0].t0", "greater than or equal to 0"),
        (golden_data(video="other.mp4"), "events[0].video", "is not listed under videos:"),
        (golden_data(camera="cam-02"), "events[0].camera", "is not the camera 'cam-01'"),
        (
            {"videos": [{"video": "videos/clip.mp4", "camera": "cam-01"}] * 2},
            "videos[1].video",
            "listed twice",
        ),
        (
            {"videos": [{"video": "videos/missing.mp4", "camera": "cam-01"}]},
            "videos[0].video",
            "no such video file 'videos/missing.mp4'",
        ),
        ({"videos": [{"video": "videos/clip.mp4"}]}, "videos[0].camera", "required key"),
    ],
    ids=[
        "broken YAML",
        "an empty file",
        "no videos",
        "an unknown top-level key",
        "an unknown event key",
        "an unknown event type",
        "an interval that ends before it starts",
        "a negative time",
        "an event on a video not listed",
        "an event on another camera than its video's",
        "a video listed twice",
        "a video file that does not exist",
        "a video without its camera",
    ],
)
def test_golden_file_errors_name_the_file_and_key(tmp_path, video, data, key, message):
    path = write_golden(tmp_path, data)
    with pytest.raises(GoldenError) as caught:
        load_golden(path, cwd=tmp_path / "elsewhere")
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert message in caught.value.message
    assert "\n" not in str(caught.value)


def test_a_missing_golden_file(tmp_path):
    with pytest.raises(GoldenError, match="no such golden file"):
        load_golden(tmp_path / "nope.yaml")


def test_videos_resolve_against_the_cwd_then_the_golden_files_folders(tmp_path, video):
    nested = tmp_path / "tests" / "golden"
    nested.mkdir(parents=True)
    path = write_golden(nested, golden_data())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert load_golden(path, cwd=elsewhere).paths["videos/clip.mp4"] == video.resolve()
    (elsewhere / "videos").mkdir()
    local = elsewhere / "videos" / "clip.mp4"
    local.write_bytes(b"")
    assert load_golden(path, cwd=elsewhere).paths["videos/clip.mp4"] == local.resolve()


def config_file(folder: Path, video: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "data_dir": "user-data",
                "cameras": [
                    {
                        "id": "cam-01",
                        "url": str(video),
                        "zones": [
                            {"name": "walkway", "polygon": WALKWAY, "rules": {"crowding": {}}}
                        ],
                    }
                ],
                "rules": {"crowding": {"min_people": 6, "min_duration_s": 5, "min_score": 0.4}},
                "models": {"person": ["yolox-nano-coco"]},
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "change, key, message",
    [
        ({"camera": "cam-09"}, "videos[0].camera", "no camera 'cam-09'"),
        ({"zone": "road"}, "events[0].zone", "camera 'cam-01' has no zone 'road'"),
    ],
    ids=["a camera the config lacks", "a zone the camera lacks"],
)
def test_golden_cameras_and_zones_must_be_in_the_config(tmp_path, video, change, key, message):
    data = golden_data(type="crowding", zone="walkway")
    if "camera" in change:
        data["videos"][0]["camera"] = data["events"][0]["camera"] = change["camera"]
    data["events"][0].update({k: v for k, v in change.items() if k != "camera"})
    golden = load_golden(write_golden(tmp_path, data), cwd=tmp_path)
    config = load_config(config_file(tmp_path, video))
    with pytest.raises(GoldenError) as caught:
        evaluate(config, golden, replay_fn=pytest.fail)
    assert (caught.value.key, message in caught.value.message) == (key, True)


def test_evaluate_replays_into_its_own_folder_and_keeps_each_events_last_record(tmp_path, video):
    """With a stand-in replay: the user's data_dir and queue stay untouched, and an event
    written twice (updated, then final) counts once, with its last interval."""
    golden = load_golden(write_golden(tmp_path, golden_data(type="crowding")), cwd=tmp_path)
    config = load_config(config_file(tmp_path, video))
    calls = []

    def fake_replay(cfg, path, *, camera_id, events_out, start_time, show_progress):
        calls.append((cfg.data_dir, cfg.queue_url, path, camera_id, start_time))
        record = {"id": "e1", "camera_id": camera_id, "type": "crowding", "zone": "walkway"}
        lines = [
            {**record, "video_t0": 0.0, "video_t1": 2.0},
            {**record, "video_t0": 0.0, "video_t1": 4.0},
        ]
        events_out.parent.mkdir(parents=True, exist_ok=True)
        events_out.write_text("".join(json.dumps(line) + "\n" for line in lines))

    work = tmp_path / "work"
    result = evaluate(config, golden, work_dir=work, replay_fn=fake_replay)
    [(data_dir, queue_url, path, camera_id, _)] = calls
    assert data_dir == work.resolve() and queue_url == f"sqlite:///{work.resolve() / 'queue.db'}"
    assert (path, camera_id) == (video.resolve(), "cam-01")
    assert not (tmp_path / "user-data").exists()
    assert [(e.id, e.t1) for e in result.events] == [("e1", 4.0)]
    assert result.to_json()["per_type"] == {
        "crowding": {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    }


# --- the command -------------------------------------------------------------------------------


def run_cli(*args, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "streetwatch"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "service.cli"]
    env = {**os.environ, "YOLO_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (golden_data(type="litter"), "events[0].type: unknown event type 'litter'"),
        (
            {"videos": [{"video": "videos/gone.mp4", "camera": "cam-01"}]},
            "videos[0].video: no such video file 'videos/gone.mp4'",
        ),
    ],
    ids=["a bad golden file", "a missing video"],
)
def test_the_command_exits_2_with_one_error_line(tmp_path, video, data, message):
    golden = write_golden(tmp_path, data)
    result = run_cli(
        "eval", "events", "--config", config_file(tmp_path, video), "--golden", golden, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {golden}: {message}")


def test_the_command_scores_the_vtest_crowds(tmp_path):
    """Real end to end: vtest.avi through YOLOX-Nano at 1 fps, crowding on the demo walkway;
    both crowds a person sees in the clip are found, nothing else is reported."""
    need(VTEST)
    need(YOLOX)
    golden = write_golden(
        tmp_path,
        {
            "videos": [{"video": str(VTEST), "camera": "cam-01"}],
            "events": [
                {"video": str(VTEST), "camera": "cam-01", "type": "crowding", "zone": "walkway"}
                | {"t0": t0, "t1": t1}
                for t0, t1 in [(4.0, 34.0), (66.0, 79.5)]
            ],
        },
    )
    config = config_file(tmp_path, VTEST)
    cfg = yaml.safe_load(config.read_text())
    cfg["cameras"][0]["analysis_fps"] = 1
    cfg["rules"]["crowding"]["max_gap_s"] = 2
    config.write_text(yaml.safe_dump(cfg))
    result = run_cli(
        "eval",
        "events",
        "--config",
        config,
        "--golden",
        golden,
        "--json",
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["per_type"] == {
        "crowding": {"tp": 2, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    }
    assert not (tmp_path / "user-data").exists()
