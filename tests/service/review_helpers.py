"""Helpers for the review API tests: a config in a temporary folder, events with real JPEG
evidence (drawn snapshot + clean frame), cases made from them by the real case service."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml

from service.cases.service import CaseService
from service.config import Config, load_config
from service.queue.sqlite import SqliteEventQueue
from vision.types import Event

TOKENS = {
    "ana": ("reviewer", "ana-reviewer-token-0123456789"),
    "vic": ("viewer", "vic-viewer-token-0123456789ab"),
    "root": ("admin", "root-admin-token-0123456789a"),
}
TOKENS_ENV = {"STREETWATCH_TOKENS": ",".join(f"{n}:{r}:{t}" for n, (r, t) in TOKENS.items())}
ZONE = {"name": "z", "polygon": [[0, 0], [640, 0], [640, 480], [0, 480]], "rules": {"crowding": {}}}


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][1]}"}


def make_config(folder: Path, extra: dict | None = None) -> Config:
    raw = {
        "data_dir": "data",
        "cameras": [
            {"id": "cam-1", "url": "clip.mp4", "zones": [ZONE]},
            {"id": "cam-2", "url": "clip.mp4", "zones": [ZONE]},
        ],
    } | (extra or {})
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


def jpeg(path: Path, boxes: list[list[float]], drawn: bool) -> None:
    """A real 640x480 JPEG: a grey street with dark blobs where the boxes are."""
    image = np.full((480, 640, 3), 120, np.uint8)
    for x1, y1, x2, y2 in boxes:
        cv2.rectangle(image, (int(x1), int(y1)), (int(x2), int(y2)), (40, 40, 40), -1)
        if drawn:
            cv2.rectangle(image, (int(x1), int(y1)), (int(x2), int(y2)), (0, 0, 255), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


def make_event(
    config: Config,
    event_id: str,
    *,
    camera: str = "cam-1",
    type: str = "crowding",
    zone: str = "z",
    seen: str = "2026-11-23T10:00:00.000Z",
    boxes: list[list[float]] | None = None,
    clean: bool = True,
) -> Event:
    boxes = boxes if boxes is not None else [[100, 100, 140, 200], [200, 120, 240, 220]]
    folder = config.evidence_path / camera
    snapshot, clean_frame = folder / f"{event_id}.jpg", folder / f"{event_id}.clean.jpg"
    jpeg(snapshot, boxes, drawn=True)
    if clean:
        jpeg(clean_frame, boxes, drawn=False)
    return Event(
        id=event_id, type=type, camera_id=camera, zone=zone, video_t0=0, video_t1=5,
        first_seen=seen, last_seen=seen, score=0.8, boxes=boxes, count=len(boxes),
        observations=3, snapshot=str(snapshot),
    )  # fmt: skip


def seed(config: Config, events: list[Event]) -> CaseService:
    """Post ``events`` to the queue and drain them into cases."""
    queue = SqliteEventQueue(config.queue_url)
    for event in events:
        queue.post(event)
    service = CaseService(config, queue)
    service.drain()
    return service
