"""Open the dispatch queue a URL names: ``sqlite:///path`` (embedded) or ``redis://host:port/db``
(networked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.event_queue import EventQueue, QueueError, SqliteEventQueue


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_queue(url: str, **options: Any) -> EventQueue:
    """The queue backend for ``url``; ``options`` go to the backend's constructor (e.g.
    ``claim_idle_s``, ``consumer_name`` for Redis)."""
    if url.startswith("sqlite:///"):
        return SqliteEventQueue(url, **options)
    if url.startswith(("redis://", "rediss://")):
        from service.redis_queue import RedisEventQueue  # the redis client only when used

        return RedisEventQueue(url, **options)
    raise QueueError(
        f"unsupported queue url '{redact(url)}': use one of "
        "sqlite:///path/to/queue.db, redis://host:port/db (rediss:// for TLS)"
    )
