"""The ``queue`` section (the dispatch queue backend and its leases) and ``events`` (dedup)."""

from __future__ import annotations

from pydantic import Field, field_validator

from service.config.base import FiniteFloat, StrictModel


class QueueConfig(StrictModel):
    url: str | None = Field(
        None,
        description="Dispatch queue backend: sqlite:///path (embedded, the default "
        "sqlite:///<data_dir>/queue.db) or redis://host:port/db (many workers on many nodes)",
    )
    lease_ttl_s: FiniteFloat = Field(
        15.0,
        gt=0,
        le=600,
        description="With Redis: camera leases; a dead worker's cameras move within this time",
    )
    spool: bool = Field(
        True,
        description="Spool events under <data_dir>/spool while the queue is unreachable "
        "(Redis down, SQLite locked by another process or its disk full); drained when back",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError(
                f"unsupported queue url '{url}': use sqlite:///path/to/queue.db (embedded) "
                "or redis://host:port/db"
            )
        return url

    @property
    def networked(self) -> bool:
        return bool(self.url and self.url.startswith(("redis://", "rediss://")))


class EventSettings(StrictModel):
    close_after_s: FiniteFloat = Field(
        10.0, ge=0, description="An event closes when its violation is unseen this long"
    )
    cooldown_s: FiniteFloat = Field(
        30.0,
        ge=0,
        description="After closing, the same violation in the same zone reopens the same "
        "event within this time instead of opening a new one",
    )
    id_bucket_s: FiniteFloat = Field(
        60.0, gt=0, description="First-seen bucket width in the event id (idempotent posting)"
    )
