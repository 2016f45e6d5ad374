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
    from models.loader import load_detector

    return load_detector("yolox-nano-coco")


@pytest.fixture(scope="session")
def vtest_frames(vtest):
    """Every frame of vtest.avi at 2 fps, decoded once for the session."""
    from streams.file_source import FileSource

    return list(FileSource("demo-01", vtest, 2.0, ANCHOR))


@pytest.fixture(scope="session")
def h264_clips(tmp_path_factory, vtest, street_1080p) -> dict[str, tuple[Path, float]]:
    """Real clips re-encoded once for the RTSP test server: name -> (h264 file, fps)."""
    from streams.testing.rtsp import encode_clip, gst_rtsp_available

    reason = gst_rtsp_available()
    if reason:
        pytest.skip(f"no RTSP test server: {reason}")
    folder = tmp_path_factory.mktemp("h264")
    still = folder / "still.png"
    import cv2

    from streams.file_source import FileSource

    first = next(iter(FileSource("still", vtest, 1.0, ANCHOR)))
    cv2.imwrite(str(still), first.image)
    return {
        "vtest": (encode_clip(vtest, folder / "vtest.h264", gop=10), 10.0),
        "street": (encode_clip(street_1080p, folder / "street.h264", gop=25), 25.0),
        "still": (encode_clip(still, folder / "still.h264", gop=10, loop_still=50), 10.0),
    }


@pytest.fixture(scope="module")
def rtsp_server(h264_clips):
    """A real RTSP server on 127.0.0.1 serving the clips as endless live cameras."""
    from streams.testing.rtsp import RtspTestServer

    with RtspTestServer(h264_clips) as server:
        yield server


@pytest.fixture
def own_rtsp_server(h264_clips):
    """A server of the test's own, not yet started: for killing, freezing and restarting."""
    from streams.testing.rtsp import RtspTestServer

    server = RtspTestServer(h264_clips)
    yield server
    server.kill()
