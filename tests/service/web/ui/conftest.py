"""Browser tests of the review UI: real events (vtest.avi replayed through the whole pipeline as
four cameras, drained into cases), the real app under uvicorn on a free local port, and Debian's
headless Chromium driven by Playwright. Screenshots go to tests/artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, YOLOX, need

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts" / "ui"
CAMERAS = ("demo-01", "demo-02", "demo-03", "demo-04")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


class CachingDetector:
    """The real detector, run once per distinct frame: the same clip replayed as another camera
    decodes to the same frames, so only the first replay pays for inference."""

    def __init__(self, detector) -> None:  # noqa: ANN001
        self.detector = detector
        self.name = detector.name
        self.labels = detector.labels
        self._cache: dict[bytes, object] = {}

    def detect(self, images):  # noqa: ANN001, ANN201
        out = []
        for image in images:
            key = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
            if key not in self._cache:
                self._cache[key] = self.detector.detect([image])[0]
            out.append(self._cache[key])
        return out


def demo_raw(data_dir: Path, evidence_dir: Path, extra: dict | None = None) -> dict:
    """configs/demo.yaml with four cameras on the same clip and the data under ``data_dir``."""
    raw = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
    camera = raw["cameras"][0]
    camera["url"] = str((REPO / "configs" / camera["url"]).resolve())
    raw["cameras"] = [{**camera, "id": cid} for cid in CAMERAS]
    raw["data_dir"] = str(data_dir)
    raw["evidence_dir"] = str(evidence_dir)
    raw["timezone"] = "Asia/Shanghai"
    return raw | (extra or {})


def write_config(folder: Path, raw: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def _checkpoint(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass(frozen=True)
class ReplayedData:
    """Queue and case databases made once per session from real replays (copied per test)."""

    folder: Path
    evidence: Path
    events: int
    cases: int


@pytest.fixture(scope="session")
def replayed(tmp_path_factory, vtest, yolox_detector) -> ReplayedData:
    need(YOLOX)
    from service.cases.service import CaseService
    from service.config import load_config
    from service.edge.health_store import CameraHealthStore
    from service.edge.replay import replay
    from service.queue.sqlite import SqliteEventQueue
    from streams.live_source import CameraHealth, HealthState

    root = tmp_path_factory.mktemp("ui-data")
    data, evidence = root / "data", root / "evidence"
    config = load_config(write_config(root, demo_raw(data, evidence)))
    detector = CachingDetector(yolox_detector)
    frames = {}
    for camera in CAMERAS:
        result = replay(config, vtest, camera_id=camera, detector=detector, show_progress=False)
        frames[camera] = result.frames
    queue = SqliteEventQueue(config.queue_url)
    service = CaseService(config, queue)
    service.drain()
    service.store.engine.dispose()
    now = datetime.now(UTC)
    CameraHealthStore(config.queue_url).write(
        [
            CameraHealth(
                camera_id=camera,
                state=HealthState.OFFLINE if camera == "demo-04" else HealthState.ONLINE,
                since=now,
                frames_in=frames[camera] * 12,
                frames_dropped=0,
                restarts=2 if camera == "demo-04" else 0,
                last_frame_age_s=95.0 if camera == "demo-04" else 0.4,
                last_error="connection refused" if camera == "demo-04" else None,
                width=768,
                height=576,
            )
            for camera in CAMERAS
        ],
        analysed=frames,
    )
    for db in data.glob("*.db"):
        _checkpoint(db)
    return ReplayedData(data, evidence, queue.count(), service.store.list()[1])


@dataclass
class LiveApp:
    url: str
    config: object
    config_path: Path
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(config_path: Path, environ: dict[str, str] | None = None) -> LiveApp:
    """The real app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    from service.config import load_config
    from service.web.app import create_app

    config = load_config(config_path)
    app = create_app(config, environ=environ or {})

    class Server(uvicorn.Server):
        def install_signal_handlers(self) -> None:
            pass

    port = free_port()
    server = Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, log_level="info", access_log=True
        )
    )
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    return LiveApp(f"http://127.0.0.1:{port}", config, config_path, server, thread)


def copy_data(replayed: ReplayedData, folder: Path) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    for db in replayed.folder.glob("*.db"):
        shutil.copyfile(db, data / db.name)
    return data


@pytest.fixture
def app_factory(replayed, tmp_path) -> Iterator:
    """Start apps over a private copy of the replayed data: ``app_factory(environ=...,
    extra_config=...)``."""
    started: list[LiveApp] = []

    def start(environ: dict[str, str] | None = None, extra_config: dict | None = None) -> LiveApp:
        folder = tmp_path / f"app{len(started)}"
        data = copy_data(replayed, folder)
        path = write_config(folder, demo_raw(data, replayed.evidence, extra_config))
        live = serve(path, environ)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def live_app(app_factory) -> LiveApp:
    """The app in local mode (no token) over a private copy of the replayed data."""
    return app_factory()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under tests/artifacts/ui/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    logging.getLogger(__name__).info("screenshot %s", path)
    return path
