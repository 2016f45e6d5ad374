"""Camera health, written by workers and read by the API: in the queue's SQLite file, or in
Redis when the queue is Redis (so an API on one node sees the workers of every node)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Protocol

from service.queue.sqlite import sqlite_path
from streams.live_source import CameraHealth

SCHEMA = """
CREATE TABLE IF NOT EXISTS camera_health (
    camera_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
REDIS_KEY = "streetwatch:camera_health"


def health_record(health: CameraHealth) -> dict:
    record = asdict(health)
    record["state"] = str(health.state)
    record["since"] = health.since.isoformat(timespec="milliseconds")
    record["last_frame_age_s"] = (
        None if health.last_frame_age_s is None else round(health.last_frame_age_s, 3)
    )
    return record


def _records(
    healths: list[CameraHealth], analysed: dict[str, int] | None, worker: str | None
) -> list[tuple[str, str]]:
    analysed = analysed or {}
    extra = {"worker": worker} if worker else {}
    return [
        (
            h.camera_id,
            json.dumps(
                health_record(h) | {"frames_analysed": analysed.get(h.camera_id, 0)} | extra
            ),
        )
        for h in healths
    ]


class HealthStore(Protocol):
    def write(
        self,
        healths: list[CameraHealth],
        analysed: dict[str, int] | None = None,
        worker: str | None = None,
    ) -> None: ...
    def read(self) -> dict[str, dict]: ...


class CameraHealthStore:
    def __init__(self, url: str) -> None:
        self.path = sqlite_path(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # short timeout: health is advisory and must never stall a worker's analysis loop
        return sqlite3.connect(self.path, timeout=1, isolation_level=None)

    def write(
        self,
        healths: list[CameraHealth],
        analysed: dict[str, int] | None = None,
        worker: str | None = None,
    ) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        rows = [(cam, payload, now) for cam, payload in _records(healths, analysed, worker)]
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


class RedisHealthStore:
    """One hash field per camera in Redis, written by whichever worker owns the camera."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)

    def write(
        self,
        healths: list[CameraHealth],
        analysed: dict[str, int] | None = None,
        worker: str | None = None,
    ) -> None:
        if not healths:
            return
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        mapping = {
            cam: json.dumps(json.loads(payload) | {"updated_at": now})
            for cam, payload in _records(healths, analysed, worker)
        }
        self.client.hset(REDIS_KEY, mapping=mapping)

    def read(self) -> dict[str, dict]:
        import redis

        try:
            raw = self.client.hgetall(REDIS_KEY)
        except (redis.ConnectionError, redis.TimeoutError):
            return {}
        return {cam: json.loads(payload) for cam, payload in raw.items()}


def open_health_store(queue_url: str) -> HealthStore:
    if queue_url.startswith(("redis://", "rediss://")):
        return RedisHealthStore(queue_url)
    return CameraHealthStore(queue_url)
