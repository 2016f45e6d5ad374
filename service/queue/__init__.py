"""Open the dispatch queue a URL names: ``sqlite:///path`` (embedded) or ``redis://host:port/db``
(networked)."""

from __future__ import annotations

from typing import Any

from service.queue.base import (
    Delivery,
    EventPage,
    EventQueue,
    QueueError,
    QueueUnavailable,
    redact,
)
from service.queue.sqlite import SqliteEventQueue, sqlite_path

__all__ = [
    "Delivery",
    "EventPage",
    "EventQueue",
    "QueueError",
    "QueueUnavailable",
    "SqliteEventQueue",
    "open_queue",
    "redact",
    "sqlite_path",
]


def open_queue(url: str, **options: Any) -> EventQueue:
    """The queue backend for ``url``; ``options`` go to the backend's constructor (e.g.
    ``claim_idle_s``, ``consumer_name`` for Redis)."""
    if url.startswith("sqlite:///"):
        return SqliteEventQueue(url, **options)
    if url.startswith(("redis://", "rediss://")):
        from service.queue.redis import RedisEventQueue  # the redis client only when used

        return RedisEventQueue(url, **options)
    raise QueueError(
        f"unsupported queue url '{redact(url)}': use one of "
        "sqlite:///path/to/queue.db, redis://host:port/db (rediss:// for TLS)"
    )
