"""Where event updates go: evidence files, the dispatch queue, a JSONL file."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from service.queue.base import EventQueue
from vision.dedup import Change, EventUpdate
from vision.evidence import encode_jpeg, render_snapshot

logger = logging.getLogger(__name__)


class EventSink(Protocol):
    def post(self, update: EventUpdate) -> None: ...


class EvidenceWriter:
    """Writes each event's snapshot (best frame, zone and boxes drawn) and stamps its path and
    sha256 on every update of that event. Files: ``<evidence_dir>/<camera>/<event id>.jpg``."""

    def __init__(self, evidence_dir: Path, polygons: dict[tuple[str, str], np.ndarray]) -> None:
        self.evidence_dir = evidence_dir
        self.polygons = polygons
        self._written: dict[str, tuple[str, str, str, str]] = {}
        self._errors: dict[str, str] = {}

    def annotate(self, update: EventUpdate) -> None:
        event = update.event
        if update.best_frame is not None:
            self._write(update)
        if event.id in self._written:
            snapshot, digest, clean, clean_digest = self._written[event.id]
            event.snapshot, event.snapshot_sha256 = snapshot, digest
            event.clean_frame, event.clean_frame_sha256 = clean, clean_digest
        event.evidence_error = self._errors.get(event.id)
        if update.change is Change.FINAL:
            self._written.pop(event.id, None)
            self._errors.pop(event.id, None)

    def _write(self, update: EventUpdate) -> None:
        event, frame = update.event, update.best_frame
        assert frame is not None
        caption = f"{event.type} {event.zone}"
        if event.count is not None:
            caption += f": {event.count}"
        caption += f"  t={frame.pts:.1f}s  {event.camera_id}"
        polygon = self.polygons.get((event.camera_id, event.zone))
        boxes = [[v / frame.scale for v in box] for box in event.boxes]
        if polygon is not None:
            polygon = polygon / frame.scale
        drawn = encode_jpeg(render_snapshot(frame.image, polygon, boxes, caption))
        clean = encode_jpeg(frame.image)
        folder = self.evidence_dir / event.camera_id
        path, clean_path = folder / f"{event.id}.jpg", folder / f"{event.id}.clean.jpg"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, drawn)
            _write_atomic(clean_path, clean)
        except OSError as exc:
            logger.error(
                "%s: cannot write evidence for event %s in %s (%s); the event is kept and "
                "marked evidence_error",
                event.camera_id,
                event.id,
                folder,
                exc,
            )
            self._errors[event.id] = f"cannot write evidence: {exc.strerror or exc}"
            return
        self._errors.pop(event.id, None)
        self._written[event.id] = (
            str(path),
            hashlib.sha256(drawn).hexdigest(),
            str(clean_path),
            hashlib.sha256(clean).hexdigest(),
        )


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


class QueueSink:
    """Posts every change of an event to the dispatch queue (idempotent upsert)."""

    def __init__(self, queue: EventQueue) -> None:
        self.queue = queue
        self.posted = 0

    def post(self, update: EventUpdate) -> None:
        if self.queue.post(update.event):
            self.posted += 1


class JsonlSink:
    """Writes one JSON object per event, when the event is final."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.written = 0

    def post(self, update: EventUpdate) -> None:
        if update.change is not Change.FINAL:
            return
        self.handle.write(json.dumps(update.event.model_dump(), ensure_ascii=False) + "\n")
        self.handle.flush()
        self.written += 1
