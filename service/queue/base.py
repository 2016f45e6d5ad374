"""The dispatch queue's contract: the ``EventQueue`` protocol every backend implements, the values
it returns (``Delivery``, ``EventPage``), its errors, and ``redact`` for URLs shown to people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from streams.secrets import redact_url
from vision.types import Event


class QueueError(Exception):
    """The queue URL or database is unusable."""


class QueueUnavailable(QueueError):
    """The queue's backend cannot be reached right now (a server down, a network cut); the
    same call may succeed later, so callers may spool and retry."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One posted change of an event, as a consumer receives it."""

    id: str
    event: Event


class EventQueue(Protocol):
    """What every queue backend offers (SQLite embedded; Redis Streams for many nodes)."""

    url: str

    def post(self, event: Event) -> bool: ...
    def get(self, event_id: str) -> Event | None: ...
    def list(
        self,
        *,
        type: str | None = None,
        camera_id: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EventPage: ...
    def count(self) -> int: ...
    def count_by_type(self) -> dict[str, int]: ...
    def read_new(self, consumer: str, limit: int = 100, block_s: float = 0.0) -> list[Delivery]: ...
    def ack(self, consumer: str, deliveries: list[Delivery]) -> None: ...


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[Event]
    total: int
    limit: int
    offset: int


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    return redact_url(url)
