"""Camera health, written by workers and read by the API, in the queue's SQLite file."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime

from service.event_queue import sqlite_path
from streams.live_source import CameraHealth

SCHEMA = """
CREATE TABLE IF NOT EXISTS camera_health (
    camera_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""


def health_record(health: CameraHealth) -> dict:
    record = asdict(health)
    record["state"] = str(health.state)
    record["since"] = health.since.isoformat(timespec="milliseconds")
    record["last_frame_age_s"] = (
        None if health.last_frame_age_s is None else round(health.last_frame_age_s, 3)
    )
    return record


class CameraHealthStore:
    def __init__(self, url: str) -> None:
        self.path = sqlite_path(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def write(self, healths: list[CameraHealth], analysed: dict[str, int] | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        analysed = analysed or {}
        rows = [
            (
                h.camera_id,
                json.dumps(health_record(h) | {"frames_analysed": analysed.get(h.camera_id, 0)}),
                now,
            )
            for h in healths
        ]
        db = self._connect()
        try:
            db.executemany(
                "INSERT INTO camera_health (camera_id, payload, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(camera_id) DO UPDATE SET payload = excluded.payload, "
                "updated_at = excluded.updated_at",
                rows,
            )
        finally:
            db.close()

    def read(self) -> dict[str, dict]:
        db = self._connect()
        try:
            rows = db.execute("SELECT camera_id, payload, updated_at FROM camera_health").fetchall()
        finally:
            db.close()
        return {cam: {**json.loads(payload), "updated_at": at} for cam, payload, at in rows}
