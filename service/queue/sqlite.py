"""The embedded dispatch queue: SQLite in WAL mode, idempotent upsert keyed by event id.

Posting the same event again (a retry, a replay of the same video, a restarted worker) never
creates a second row; a newer observation of an event updates it, a stale one is ignored. Every
post that changed something is also delivered, in order, to consumers (the case builder), who
acknowledge what they handled: at-least-once delivery, idempotent by event id.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.queue.base import Delivery, EventPage, QueueError, QueueUnavailable
from vision.types import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    zone TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    observations INTEGER NOT NULL,
    payload TEXT NOT NULL,
    posted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (last_seen DESC);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, last_seen DESC);
CREATE INDEX IF NOT EXISTS events_by_camera ON events (camera_id, last_seen DESC);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consumer_offsets (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""

UPSERT = """
INSERT INTO events (id, type, camera_id, zone, status, first_seen, last_seen, observations, payload)
VALUES (:id, :type, :camera_id, :zone, :status, :first_seen, :last_seen, :observations, :payload)
ON CONFLICT(id) DO UPDATE SET
    status = excluded.status,
    last_seen = excluded.last_seen,
    observations = excluded.observations,
    payload = excluded.payload,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE excluded.observations > events.observations
   OR (excluded.observations = events.observations AND excluded.payload != events.payload)
"""


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise QueueError(f"unsupported queue url '{url}': use sqlite:///path/to/queue.db")
    return Path(url.removeprefix("sqlite:///"))


class SqliteEventQueue:
    """Events keyed by id in one SQLite file; safe for several processes (WAL, busy timeout)."""

    def __init__(self, url: str, busy_timeout_s: float = 10.0) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise QueueError(f"{self.path}: cannot open the event queue ({exc})") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (opened once per thread and process, then reused)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # never reuse one across a fork
            local.db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            local.db.execute("PRAGMA synchronous=NORMAL")
            local.pid = os.getpid()
        yield local.db

    def post(self, event: Event) -> bool:
        """Insert or update ``event``; True when the queue changed."""
        row = event.model_dump(include={"id", "type", "camera_id", "zone", "status"})
        row |= {
            "first_seen": event.first_seen,
            "last_seen": event.last_seen,
            "observations": event.observations,
            "payload": event.model_dump_json(),
        }
        with self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                changed = db.execute(UPSERT, row).rowcount > 0
                if changed:
                    db.execute(
                        "INSERT INTO deliveries (event_id, payload) VALUES (?, ?)",
                        (event.id, row["payload"]),
                    )
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    # locked by another process past the busy timeout, disk full, I/O error:
                    # the same post may work later, so callers may spool it
                    raise QueueUnavailable(f"{self.path}: {exc}") from exc
                raise
            return changed

    def get(self, event_id: str) -> Event | None:
        with self._connect() as db:
            row = db.execute("SELECT payload FROM events WHERE id = ?", (event_id,)).fetchone()
        return Event.model_validate(json.loads(row[0])) if row else None

    def list(
        self,
        *,
        type: str | None = None,
        camera_id: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EventPage:
        """Events newest first (by last seen); ``since`` is an ISO 8601 UTC time."""
        where, params = [], []
        if type:
            where.append("type = ?")
            params.append(type)
        if camera_id:
            where.append("camera_id = ?")
            params.append(camera_id)
        if since:
            where.append("last_seen >= ?")
            params.append(since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as db:
            total = db.execute(f"SELECT COUNT(*) FROM events {clause}", params).fetchone()[0]
            rows = db.execute(
                f"SELECT payload FROM events {clause} ORDER BY last_seen DESC, id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        items = [Event.model_validate(json.loads(row[0])) for row in rows]
        return EventPage(items, total, limit, offset)

    def read_new(self, consumer: str, limit: int = 100, block_s: float = 0.0) -> list[Delivery]:
        """Changes not yet acknowledged by ``consumer``, oldest first (waits up to ``block_s``
        for one when there is none)."""
        deadline = time.monotonic() + block_s
        while True:
            with self._connect() as db:
                found = db.execute(
                    "SELECT seq FROM consumer_offsets WHERE consumer = ?", (consumer,)
                ).fetchone()
                rows = db.execute(
                    "SELECT seq, payload FROM deliveries WHERE seq > ? ORDER BY seq LIMIT ?",
                    (found[0] if found else 0, limit),
                ).fetchall()
            if rows or time.monotonic() >= deadline:
                return [
                    Delivery(str(seq), Event.model_validate(json.loads(payload)))
                    for seq, payload in rows
                ]
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def ack(self, consumer: str, deliveries: list[Delivery]) -> None:
        """Mark ``deliveries`` handled by ``consumer`` (they are read in order)."""
        if not deliveries:
            return
        last = max(int(d.id) for d in deliveries)
        with self._connect() as db:
            db.execute(
                "INSERT INTO consumer_offsets (consumer, seq) VALUES (?, ?) "
                "ON CONFLICT(consumer) DO UPDATE SET seq = max(seq, excluded.seq)",
                (consumer, last),
            )
            db.execute(
                "DELETE FROM deliveries WHERE seq <= (SELECT min(seq) FROM consumer_offsets) "
                "AND seq < ? - 10000",
                (last,),
            )

    def count_by_type(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT type, COUNT(*) FROM events GROUP BY type").fetchall()
        return {t: int(n) for t, n in rows}

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
