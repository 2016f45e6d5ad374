"""Every command with wrong arguments: a clear message and a non-zero exit, never a traceback
or a hang."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

CLI = [sys.executable, "-m", "service.cli"]
DEMO = str(REPO / "configs" / "demo.yaml")


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["run"], 2, "Missing option '--config'"),
        (["run", "--config", "nope.yaml"], 2, "no such config file"),
        (["run", "--config", DEMO, "--worker-only", "--service-only"], 2, "exclude each other"),
        (["run", "--config", DEMO, "--camera", "ghost"], 2, "no camera 'ghost'"),
        (["serve", "--config", DEMO, "--port", "notaport"], 2, "should be a valid integer"),
        (["serve", "--config", "/etc/passwd"], 2, "top level must be a mapping"),
        (["replay"], 2, "Missing argument 'video'"),
        (["replay", "x.mp4", "--config", DEMO, "--start-time", "yesterday"], 2, "--start-time"),
        (["demo", "--config", "/dev/null"], 2, "empty file"),
        (["config", "check"], 2, "Missing argument"),
        (["models", "verify", "--bogus"], 2, "No such option"),
        (["bench", "queue", "--backend", "mysql"], 2, "not sqlite or redis"),
        (["bench", "queue", "--producers", "0"], 2, "greater than or equal to 1"),
        (["bench"], 2, "Usage"),
        (["frobnicate"], 2, "No such command"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_wrong_arguments_give_a_clear_error(args, code, message, tmp_path):
    done = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "YOLO_OFFLINE": "1", "COLUMNS": "300"},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert message in output
    assert "Traceback" not in output
