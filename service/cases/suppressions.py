"""Suppressions: what a rejection teaches the pipeline.

Rejecting a case as a false positive suppresses matching candidates (same camera, zone and type,
inside the rejected region) for a while, so reviewers do not see the same mistake every minute.
They live in the case database (table ``suppressions``), are listed and lifted over the API and
in the UI, and the worker asks :meth:`SuppressionStore.matches` before turning a candidate into
an event.

The region is the bounding rectangle of the union of the rejected event's boxes (boxes are in
that camera's source pixels, so each camera of a case gets its own suppression). A candidate
matches when at least ``min_overlap`` of its own boxes' bounding rectangle lies inside the
region: the same stall or pile seen again is suppressed, a crowd that grew beyond it is not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, Integer, String, Text, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.cases.db import Base, as_utc, create_tables, engine_for
from vision.types import Event

logger = logging.getLogger(__name__)

Box = Sequence[float]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]


class RejectReason(StrEnum):
    """Why a reviewer rejected a case; decides what the rejection teaches (see POLICY)."""

    WRONG_OBJECT = "wrong_object"
    OUTSIDE_ZONE = "outside_zone"
    PERMITTED = "permitted"
    DUPLICATE = "duplicate"
    OTHER = "other"

    @property
    def suppresses(self) -> bool:
        return POLICY[self][0]

    @property
    def hard_negative(self) -> bool:
        return POLICY[self][1]


POLICY: dict[RejectReason, tuple[bool, bool]] = {
    # reason:                 (suppress the place, export a hard negative)
    RejectReason.WRONG_OBJECT: (True, True),  # the detector saw something that is not there
    RejectReason.OUTSIDE_ZONE: (True, False),  # real objects; the zone polygon needs fixing
    RejectReason.PERMITTED: (True, False),  # a real stall with a permit: not a model error
    RejectReason.DUPLICATE: (False, False),  # a real violation handled in another case
    RejectReason.OTHER: (True, True),  # a false positive the list does not name
}


def parse_reason(text: str) -> tuple[RejectReason | None, str]:
    """A transition's stored reason ``code: note`` (or free text) -> (code or None, note)."""
    head, sep, note = text.partition(":")
    try:
        return RejectReason(head.strip()), note.strip() if sep else ""
    except ValueError:
        return None, text.strip()


class SuppressionRow(Base):
    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    zone: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    region: Mapped[list | None] = mapped_column(JSON, nullable=True)
    boxes: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Suppression(BaseModel):
    """A suppression as the API shows it."""

    id: int
    camera_id: str
    zone: str
    type: str
    region: list[float] | None = Field(description="[x1, y1, x2, y2]; null = the whole zone")
    boxes: list[list[float]]
    reason: str
    note: str
    case_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    removed_at: datetime | None
    removed_by: str | None
    active: bool


class SuppressionIn(BaseModel):
    """A suppression added by hand (rejections add theirs automatically)."""

    model_config = ConfigDict(extra="forbid")
    camera_id: str = Field(min_length=1, max_length=64)
    zone: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64)
    boxes: list[list[FiniteFloat]] = Field(
        default_factory=list,
        max_length=500,
        description="[x1, y1, x2, y2] boxes in source pixels; empty = the whole zone",
    )
    hours: float | None = Field(
        None, gt=0, le=24 * 365, description="How long; default feedback.suppression_hours"
    )
    reason: RejectReason = RejectReason.OTHER
    note: str = Field("", max_length=2000)


class SuppressionNotFound(KeyError):
    pass


def hull(boxes: Iterable[Box]) -> list[float] | None:
    """The bounding rectangle [x1, y1, x2, y2] of ``boxes`` (None when there are none)."""
    boxes = [b for b in boxes if len(b) == 4]
    if not boxes:
        return None
    return [
        float(min(b[0] for b in boxes)),
        float(min(b[1] for b in boxes)),
        float(max(b[2] for b in boxes)),
        float(max(b[3] for b in boxes)),
    ]


def coverage(inner: Box, region: Box) -> float:
    """Share of ``inner``'s area that lies inside ``region`` (0..1)."""
    width = min(inner[2], region[2]) - max(inner[0], region[0])
    height = min(inner[3], region[3]) - max(inner[1], region[1])
    area = max(0.0, inner[2] - inner[0]) * max(0.0, inner[3] - inner[1])
    if area <= 0:
        x, y = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
        return float(region[0] <= x <= region[2] and region[1] <= y <= region[3])
    return max(0.0, width) * max(0.0, height) / area


def _now() -> datetime:
    return datetime.now(UTC)


def to_model(row: SuppressionRow, now: datetime | None = None) -> Suppression:
    now = now or _now()
    expires = as_utc(row.expires_at)
    return Suppression(
        id=row.id,
        camera_id=row.camera_id,
        zone=row.zone,
        type=row.type,
        region=row.region,
        boxes=row.boxes or [],
        reason=row.reason,
        note=row.note or "",
        case_id=row.case_id,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        expires_at=expires,
        removed_at=as_utc(row.removed_at),
        removed_by=row.removed_by,
        active=row.removed_at is None and expires > now,
    )


class SuppressionStore:
    """Suppressions in the case database. ``matches`` reads a cache refreshed every
    ``refresh_s`` (and at once after a change made through this object), so the worker can ask
    for every candidate without a query each time."""

    def __init__(
        self,
        engine: Engine | str,
        *,
        default_hours: float = 24.0,
        min_overlap: float = 0.5,
        refresh_s: float = 5.0,
    ) -> None:
        self.engine = engine_for(engine) if isinstance(engine, str) else engine
        create_tables(Base.metadata, self.engine)
        self.default_hours = default_hours
        self.min_overlap = min_overlap
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], list[tuple[datetime, datetime, list | None]]] = {}
        self._loaded_at = float("-inf")

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- writing ----------------------------------------------------------------------------

    def add(
        self,
        *,
        camera_id: str,
        zone: str,
        type: str,
        boxes: Sequence[Box] = (),
        reason: RejectReason | str = RejectReason.OTHER,
        note: str = "",
        actor: str,
        case_id: str | None = None,
        hours: float | None = None,
        now: datetime | None = None,
    ) -> Suppression:
        now = now or _now()
        boxes = [[float(v) for v in box] for box in boxes if len(box) == 4]
        row = SuppressionRow(
            camera_id=camera_id,
            zone=zone,
            type=type,
            region=hull(boxes),
            boxes=boxes,
            reason=str(reason),
            note=note,
            case_id=case_id,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(hours=hours or self.default_hours),
        )
        with self._session() as db, db.begin():
            db.add(row)
        self.invalidate()
        logger.info(
            "%s: suppressing %s in zone %s until %s (%s, by %s)",
            camera_id,
            type,
            zone,
            row.expires_at.isoformat(timespec="seconds"),
            reason,
            actor,
        )
        return to_model(row, now)

    def add_for_events(
        self,
        events: Sequence[Event],
        *,
        reason: RejectReason,
        note: str,
        actor: str,
        case_id: str | None,
        hours: float | None = None,
        now: datetime | None = None,
    ) -> list[Suppression]:
        """One suppression per camera and zone of ``events`` (a case may span cameras), each
        over the union of that camera's boxes."""
        groups: dict[tuple[str, str, str], list[list[float]]] = {}
        for event in events:
            groups.setdefault((event.camera_id, event.zone, event.type), []).extend(event.boxes)
        return [
            self.add(
                camera_id=camera,
                zone=zone,
                type=type,
                boxes=boxes,
                reason=reason,
                note=note,
                actor=actor,
                case_id=case_id,
                hours=hours,
                now=now,
            )
            for (camera, zone, type), boxes in groups.items()
        ]

    def remove(self, suppression_id: int, actor: str, now: datetime | None = None) -> Suppression:
        """Lift a suppression (kept for the record, no longer active)."""
        now = now or _now()
        with self._session() as db, db.begin():
            row = db.get(SuppressionRow, suppression_id)
            if row is None or row.removed_at is not None:
                raise SuppressionNotFound(suppression_id)
            row.removed_at, row.removed_by = now, actor
        self.invalidate()
        logger.info("%s: suppression %d lifted by %s", row.camera_id, suppression_id, actor)
        return to_model(row, now)

    def lift_for_case(self, case_id: str, actor: str, now: datetime | None = None) -> int:
        """Lift the suppressions a case's rejection added (the case was reopened)."""
        now = now or _now()
        with self._session() as db, db.begin():
            rows = db.scalars(
                select(SuppressionRow).where(
                    SuppressionRow.case_id == case_id, SuppressionRow.removed_at.is_(None)
                )
            ).all()
            for row in rows:
                row.removed_at, row.removed_by = now, actor
        self.invalidate()
        return len(rows)

    # -- reading ----------------------------------------------------------------------------

    def get(self, suppression_id: int) -> Suppression:
        with self._session() as db:
            row = db.get(SuppressionRow, suppression_id)
            if row is None:
                raise SuppressionNotFound(suppression_id)
            return to_model(row)

    def list(
        self,
        *,
        active_only: bool = True,
        camera_id: str | None = None,
        type: str | None = None,
        case_id: str | None = None,
        now: datetime | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> tuple[list[Suppression], int]:
        now = now or _now()
        query = select(SuppressionRow)
        if active_only:
            query = query.where(
                SuppressionRow.removed_at.is_(None), SuppressionRow.expires_at > now
            )
        if camera_id:
            query = query.where(SuppressionRow.camera_id == camera_id)
        if type:
            query = query.where(SuppressionRow.type == type)
        if case_id:
            query = query.where(SuppressionRow.case_id == case_id)
        with self._session() as db:
            total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = db.scalars(
                query.order_by(SuppressionRow.created_at.desc(), SuppressionRow.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
        return [to_model(r, now) for r in rows], int(total)

    # -- the worker's question --------------------------------------------------------------

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")

    def _active(self) -> dict[tuple[str, str, str], list[tuple[datetime, datetime, list | None]]]:
        with self._lock:
            if time.monotonic() - self._loaded_at < self.refresh_s:
                return self._cache
        cache: dict[tuple[str, str, str], list[tuple[datetime, datetime, list | None]]] = {}
        with self._session() as db:
            rows = db.execute(
                select(
                    SuppressionRow.camera_id,
                    SuppressionRow.zone,
                    SuppressionRow.type,
                    SuppressionRow.created_at,
                    SuppressionRow.expires_at,
                    SuppressionRow.region,
                ).where(SuppressionRow.removed_at.is_(None), SuppressionRow.expires_at > _now())
            ).all()
        for camera, zone, type, created, expires, region in rows:
            cache.setdefault((camera, zone, type), []).append(
                (as_utc(created), as_utc(expires), region)
            )
        with self._lock:
            self._cache, self._loaded_at = cache, time.monotonic()
        return cache

    def matches(
        self,
        camera_id: str,
        zone: str,
        type: str,
        boxes: Sequence[Box],
        now: datetime | None = None,
    ) -> bool:
        """Whether a candidate (its camera, zone, type and boxes, at ``now``) falls under an
        active suppression."""
        now = now or _now()
        entries = self._active().get((camera_id, zone, type))
        if not entries:
            return False
        extent = hull(boxes)
        for created, expires, region in entries:
            if not created <= now < expires:
                continue
            if region is None or extent is None or coverage(extent, region) >= self.min_overlap:
                return True
        return False
