"""The ``streetwatch`` console script on bad input: one ``error: ...`` line, a non-zero exit, and
never a traceback. Every case fails before any model loads, so each run takes about a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_CONFIG = REPO_ROOT / "configs" / "demo.yaml"
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]


def _command() -> list[str]:
    """The installed ``streetwatch`` entry point next to this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "streetwatch"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "service.cli"]


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "YOLO_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [*_command(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line on stderr (asserting there is exactly one line)."""
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def valid_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path / "data"),
        "cameras": [
            {
                "id": "cam-1",
                "url": "clip.mp4",
                "zones": [{"name": "plaza", "polygon": SQUARE, "rules": {"crowding": {}}}],
            }
        ],
    }


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def good_config(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "good.yaml", valid_config(tmp_path))


@pytest.fixture
def fake_video(tmp_path: Path) -> Path:
    """A text file named like a video: fine for checks that fail before the video is read."""
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# config check


def test_config_check_demo_prints_resolved_json(tmp_path: Path) -> None:
    result = run_cli("config", "check", DEMO_CONFIG, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "demo-01" in result.stdout
    resolved = json.loads(result.stdout)
    assert [camera["id"] for camera in resolved["cameras"]] == ["demo-01"]
    assert Path(resolved["data_dir"]).is_absolute()


def test_config_check_fills_defaults(tmp_path: Path, good_config: Path) -> None:
    result = run_cli("config", "check", good_config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    assert resolved["cameras"][0]["url"] == str(tmp_path.resolve() / "clip.mp4")
    assert resolved["rules"]["crowding"]["min_people"] == 5
    assert resolved["models"]["device"] == "cpu"


# ---------------------------------------------------------------------------------------------
# bad configs, through `config check` and `replay`

Mutation = Callable[[dict[str, Any]], None]


def _zone(data: dict[str, Any]) -> dict[str, Any]:
    return data["cameras"][0]["zones"][0]


def _unknown_rule(data: dict[str, Any]) -> None:
    _zone(data)["rules"] = {"garbage_typo": {}}


def _two_point_polygon(data: dict[str, Any]) -> None:
    _zone(data)["polygon"] = [[0, 0], [10, 10]]


def _duplicate_camera(data: dict[str, Any]) -> None:
    data["cameras"].append(dict(data["cameras"][0]))


def _http_url(data: dict[str, Any]) -> None:
    data["cameras"][0]["url"] = "http://cam.local/stream"


def _bad_hours(data: dict[str, Any]) -> None:
    _zone(data)["active_hours"] = ["8am-5pm"]


def _top_level_typo(data: dict[str, Any]) -> None:
    data["camera"] = data.pop("cameras")


def _nan_threshold(data: dict[str, Any]) -> None:
    data["rules"] = {"crowding": {"min_duration_s": float("nan")}}


BAD_CONFIGS = [
    pytest.param(_unknown_rule, "cameras[0].zones[0].rules.garbage_typo", id="unknown-rule"),
    pytest.param(_two_point_polygon, "cameras[0].zones[0].polygon", id="two-point-polygon"),
    pytest.param(_duplicate_camera, "cameras[1].id", id="duplicate-camera"),
    pytest.param(_http_url, "cameras[0].url", id="http-url"),
    pytest.param(_bad_hours, "cameras[0].zones[0].active_hours[0]", id="bad-active-hours"),
    pytest.param(_top_level_typo, "camera", id="top-level-typo"),
    pytest.param(_nan_threshold, "rules.crowding.min_duration_s", id="nan-threshold"),
]


def _bad_config_args(command: str, config: Path, video: Path) -> list[str | Path]:
    if command == "config-check":
        return ["config", "check", config]
    return ["replay", video, "--config", config]


@pytest.mark.parametrize("command", ["config-check", "replay"])
@pytest.mark.parametrize(("mutate", "key"), BAD_CONFIGS)
def test_bad_config_exits_2_with_one_error_line(
    tmp_path: Path, command: str, mutate: Mutation, key: str
) -> None:
    data = valid_config(tmp_path)
    mutate(data)
    bad = write_yaml(tmp_path / "bad.yaml", data)
    # the video does not exist: the config is checked first, so that is never reported
    result = run_cli(*_bad_config_args(command, bad, tmp_path / "missing.mp4"), cwd=tmp_path)
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith(f"error: {bad}: {key}: "), line
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["config-check", "replay"])
@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        pytest.param("missing.yaml", None, "no such config file", id="missing-file"),
        pytest.param("broken.yaml", b"cameras: [\n", "invalid YAML: line 2", id="invalid-yaml"),
        pytest.param("empty.yaml", b"", "empty file", id="empty-file"),
        pytest.param("list.yaml", b"- a\n- b\n", "got list", id="top-level-list"),
        pytest.param("latin1.yaml", b"data_dir: caf\xe9\n", "cannot read", id="not-utf8"),
    ],
)
def test_unreadable_config_exits_2_with_one_error_line(
    tmp_path: Path, command: str, filename: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / filename
    if content is not None:
        path.write_bytes(content)
    result = run_cli(*_bad_config_args(command, path, tmp_path / "missing.mp4"), cwd=tmp_path)
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith(f"error: {path}: "), line
    assert message in line


def test_config_check_on_a_directory(tmp_path: Path) -> None:
    result = run_cli("config", "check", tmp_path, cwd=tmp_path)
    assert result.returncode == 2
    assert "is a directory" in error_line(result)


# ---------------------------------------------------------------------------------------------
# replay: bad videos and options (all fail before the detector loads)


def _no_video(tmp_path: Path) -> Path:
    return tmp_path / "nope.mp4"


def _zero_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "zero.mp4"
    path.touch()
    return path


def _text_as_mp4(tmp_path: Path) -> Path:
    path = tmp_path / "readme.mp4"
    path.write_text("# not a video, just text renamed .mp4\n" * 20, encoding="utf-8")
    return path


def _a_folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.mp4"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(_no_video, "no such video file", id="nonexistent"),
        pytest.param(_zero_bytes, "empty (0 bytes)", id="zero-bytes"),
        pytest.param(_text_as_mp4, "not a readable video", id="text-renamed-mp4"),
        pytest.param(_a_folder, "is a directory", id="directory"),
    ],
)
def test_replay_bad_video(
    tmp_path: Path, good_config: Path, make: Callable[[Path], Path], message: str
) -> None:
    video = make(tmp_path)
    result = run_cli("replay", video, "--config", good_config, "--no-progress", cwd=tmp_path)
    assert result.returncode != 0
    line = error_line(result)
    assert line.startswith(f"error: {video}: "), line
    assert message in line
    assert not (tmp_path / "data" / "queue.db").exists()  # failed before touching the queue


def test_replay_unknown_camera(tmp_path: Path, good_config: Path, fake_video: Path) -> None:
    result = run_cli(
        "replay", fake_video, "--config", good_config, "--camera", "nope", cwd=tmp_path
    )
    assert result.returncode == 2
    line = error_line(result)
    assert "'nope'" in line
    assert "cam-1" in line  # and lists the cameras there are


def test_replay_needs_camera_when_config_has_several(tmp_path: Path, fake_video: Path) -> None:
    data = valid_config(tmp_path)
    second = dict(data["cameras"][0], id="cam-2")
    data["cameras"].append(second)
    config = write_yaml(tmp_path / "two.yaml", data)
    result = run_cli("replay", fake_video, "--config", config, cwd=tmp_path)
    assert result.returncode == 2
    line = error_line(result)
    assert "--camera" in line
    assert "cam-1, cam-2" in line


@pytest.mark.parametrize(
    ("start_time", "message"),
    [
        pytest.param("notatime", "not an ISO 8601 time", id="not-a-time"),
        pytest.param("2024-13-45T00:00:00Z", "not an ISO 8601 time", id="impossible-date"),
        pytest.param("2024-05-01T08:00:00", "no time zone", id="naive"),
    ],
)
def test_replay_bad_start_time(
    tmp_path: Path, good_config: Path, fake_video: Path, start_time: str, message: str
) -> None:
    result = run_cli(
        "replay", fake_video, "--config", good_config, "--start-time", start_time, cwd=tmp_path
    )
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith("error: --start-time: "), line
    assert message in line


# ---------------------------------------------------------------------------------------------
# usage errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["frobnicate"], "No such command", id="unknown-subcommand"),
        pytest.param(["config", "lint", "x.yaml"], "No such command", id="unknown-config-command"),
        pytest.param(["replay", "clip.mp4"], "Missing option", id="replay-without-config"),
        pytest.param(["replay", "--config", "x.yaml"], "Missing argument", id="replay-no-video"),
        pytest.param(["config", "check"], "Missing argument", id="config-check-no-path"),
        pytest.param(
            ["replay", "clip.mp4", "--config", "x.yaml", "--bogus"],
            "No such option",
            id="unknown-option",
        ),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert_no_traceback(result)
    assert message in result.stderr
