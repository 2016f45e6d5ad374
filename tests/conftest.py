"""Shared fixtures: real data from ../shared (skipped with a reason when absent)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREETWATCH_SHARED", REPO.parent / "shared"))
VTEST = SHARED / "media" / "vtest.avi"
STREET_1080P = SHARED / "media" / "pedestrians_street.mp4"
YOLOX = SHARED / "models" / "yolox_nano.onnx"
ANCHOR = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (real data lives in ../shared; see its README)")
    return path


@pytest.fixture(scope="session")
def vtest() -> Path:
    return need(VTEST)


@pytest.fixture(scope="session")
def street_1080p() -> Path:
    return need(STREET_1080P)


@pytest.fixture(scope="session")
def yolox_detector():
    need(YOLOX)
    from models.registry import load_detector

    return load_detector("yolox-nano-coco")


@pytest.fixture(scope="session")
def vtest_frames(vtest):
    """Every frame of vtest.avi at 2 fps, decoded once for the session."""
    from streams.file_source import FileSource

    return list(FileSource("demo-01", vtest, 2.0, ANCHOR))
