"""The case store (SQLAlchemy: SQLite by default, PostgreSQL by URL).

A case is what the dispatch centre handles: one or more events of the same type at the same
place. Every status change is recorded with who, when and why.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

from service.cases.db import Base, as_utc, create_tables, engine_for
from service.cases.lifecycle import ACTIVE, Action, Status, next_status
from service.cases.routing import Router
from vision.types import Event, parse_iso

SYSTEM = "system"


def _now() -> datetime:
    return datetime.now(UTC)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_seen: Mapped[str] = mapped_column(String(32))
    last_seen: Mapped[str] = mapped_column(String(32))
    ground_x: Mapped[float | None] = mapped_column(Float, nullable=True)
    ground_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified: Mapped[bool | None] = mapped_column(nullable=True)
    events: Mapped[list[CaseEventRow]] = relationship(
        back_populates="case", order_by="CaseEventRow.added_at", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[TransitionRow]] = relationship(
        back_populates="case", order_by="TransitionRow.id", cascade="all, delete-orphan"
    )


class CaseEventRow(Base):
    __tablename__ = "case_events"
    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict] = mapped_column(JSON)
    case: Mapped[CaseRow] = relationship(back_populates="events")


class TransitionRow(Base):
    __tablename__ = "case_transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    case: Mapped[CaseRow] = relationship(back_populates="transitions")


@dataclass(frozen=True, slots=True)
class Attached:
    case_id: str
    created: bool
    reopened: bool


class CaseNotFound(KeyError):
    pass


@dataclass(frozen=True, slots=True)
class ActionRecord:
    action: str


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """What analytics needs of a case, read without loading events or whole histories."""

    id: str
    type: str
    camera_id: str
    department: str
    status: str
    created_at: datetime
    deadline: datetime
    closed_at: datetime | None
    transitions: list[ActionRecord]


class CaseStore:
    def __init__(self, url: str, router: Router | None = None, merge_distance_m: float = 15.0):
        self.url = url
        self.engine = engine_for(url)
        create_tables(Base.metadata, self.engine)
        self.router = router or Router()
        self.merge_distance_m = merge_distance_m

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- events into cases ------------------------------------------------------------------

    def attach(
        self, event: Event, ground: tuple[float, float] | None = None, now: datetime | None = None
    ) -> Attached:
        """Add (or refresh) ``event`` in the case of its place, creating the case if needed.
        Idempotent: the same event twice changes nothing but its stored payload."""
        now = now or _now()
        payload = json.loads(event.model_dump_json())
        with self.session() as db, db.begin():
            known = db.get(CaseEventRow, event.id)
            if known is not None:
                known.payload = payload
                case = known.case
                case.last_seen = max(case.last_seen, event.last_seen)
                case.updated_at = now
                reopened = self._reopen_if_seen_after_resolve(db, case, event, now)
                return Attached(case.id, False, reopened)
            case = self._matching_case(db, event, ground)
            created = case is None
            if case is None:
                case = self._new_case(db, event, ground, now)
            reopened = self._reopen_if_seen_after_resolve(db, case, event, now)
            db.add(
                CaseEventRow(
                    event_id=event.id,
                    case_id=case.id,
                    camera_id=event.camera_id,
                    added_at=now,
                    payload=payload,
                )
            )
            case.last_seen = max(case.last_seen, event.last_seen)
            case.first_seen = min(case.first_seen, event.first_seen)
            case.updated_at = now
            return Attached(case.id, created, reopened)

    def _matching_case(
        self, db: Session, event: Event, ground: tuple[float, float] | None
    ) -> CaseRow | None:
        open_statuses = [s.value for s in (*ACTIVE, Status.RESOLVED)]
        query = select(CaseRow).where(CaseRow.type == event.type, CaseRow.status.in_(open_statuses))
        candidates = db.scalars(query.order_by(CaseRow.created_at)).all()
        for case in candidates:
            if case.camera_id == event.camera_id and case.zone == event.zone:
                return case
        if ground is not None:
            for case in candidates:
                if case.ground_x is None or case.ground_y is None:
                    continue
                distance = math.dist((case.ground_x, case.ground_y), ground)
                if distance <= self.merge_distance_m:
                    return case
        return None

    def _new_case(
        self, db: Session, event: Event, ground: tuple[float, float] | None, now: datetime
    ) -> CaseRow:
        route = self.router.route(event.type)
        case = CaseRow(
            id=uuid.uuid4().hex[:12],
            type=event.type,
            camera_id=event.camera_id,
            zone=event.zone,
            status=Status.NEW.value,
            department=route.department,
            severity=route.severity,
            created_at=now,
            updated_at=now,
            deadline=now + self.router.deadline(event.type),
            first_seen=event.first_seen,
            last_seen=event.last_seen,
            ground_x=ground[0] if ground else None,
            ground_y=ground[1] if ground else None,
            escalation_level=0,
        )
        db.add(case)
        db.flush()
        self._record(db, case, None, Status.NEW, "create", SYSTEM, f"first event {event.id}", now)
        return case

    def _reopen_if_seen_after_resolve(
        self, db: Session, case: CaseRow, event: Event, now: datetime
    ) -> bool:
        resolved_at = as_utc(case.resolved_at)
        if case.status != Status.RESOLVED or resolved_at is None:
            return False
        seen = parse_iso(event.last_seen)
        if seen <= resolved_at:
            return False
        reason = f"camera {event.camera_id} still sees the violation (event {event.id})"
        self._apply(db, case, Action.REOPEN, SYSTEM, reason, now)
        case.verified = False
        return True

    # -- people act on cases ----------------------------------------------------------------

    def transition(
        self,
        case_id: str,
        action: Action | str,
        actor: str,
        reason: str = "",
        *,
        department: str | None = None,
        now: datetime | None = None,
    ) -> CaseRow:
        now = now or _now()
        with self.session() as db, db.begin():
            case = db.get(CaseRow, case_id, with_for_update=True)
            if case is None:
                raise CaseNotFound(case_id)
            if department:
                case.department = department
            self._apply(db, case, Action(action), actor, reason, now)
            return case

    def _apply(
        self, db: Session, case: CaseRow, action: Action, actor: str, reason: str, now: datetime
    ) -> None:
        before = Status(case.status)
        after = next_status(before, action)
        case.status = after.value
        case.updated_at = now
        if after is Status.RESOLVED:
            case.resolved_at = now
        if after is Status.CLOSED:
            case.closed_at = now
        if after is Status.REOPENED:
            case.closed_at = None
            case.verified = None
            case.deadline = now + self.router.deadline(case.type)
        self._record(db, case, before, after, action.value, actor, reason, now)

    def _record(
        self,
        db: Session,
        case: CaseRow,
        before: Status | None,
        after: Status,
        action: str,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None:
        db.add(
            TransitionRow(
                case_id=case.id,
                action=action,
                from_status=before.value if before else None,
                to_status=after.value,
                actor=actor,
                reason=reason,
                at=now,
            )
        )

    def comment(self, case_id: str, actor: str, text: str, now: datetime | None = None) -> None:
        now = now or _now()
        with self.session() as db, db.begin():
            case = db.get(CaseRow, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            status = Status(case.status)
            self._record(db, case, status, status, "comment", actor, text, now)

    # -- the clock: verification and escalation ---------------------------------------------

    def close_verified(self, window_s: float, now: datetime | None = None) -> list[str]:
        """Resolved cases whose place stayed clean for ``window_s`` close as verified."""
        now = now or _now()
        closed = []
        with self.session() as db, db.begin():
            for case in db.scalars(select(CaseRow).where(CaseRow.status == Status.RESOLVED)):
                resolved_at = as_utc(case.resolved_at)
                if resolved_at and (now - resolved_at).total_seconds() >= window_s:
                    reason = f"no violation seen for {window_s:g}s after resolve"
                    self._apply(db, case, Action.CLOSE, SYSTEM, reason, now)
                    case.verified = True
                    closed.append(case.id)
        return closed

    def escalate_overdue(self, now: datetime | None = None) -> list[CaseRow]:
        """Active cases past their deadline move up one level (once per deadline period)."""
        now = now or _now()
        escalated = []
        with self.session() as db, db.begin():
            query = select(CaseRow).where(
                CaseRow.status.in_([s.value for s in ACTIVE]), CaseRow.deadline < now
            )
            for case in db.scalars(query):
                period = self.router.deadline(case.type)
                last = as_utc(case.escalated_at)
                if last is not None and now - last < period:
                    continue
                case.escalation_level += 1
                case.escalated_at = now
                route = self.router.route(case.type)
                db.add(
                    TransitionRow(
                        case_id=case.id,
                        action="escalate",
                        from_status=case.status,
                        to_status=case.status,
                        actor=SYSTEM,
                        reason=f"overdue: escalated to {route.escalate_to} "
                        f"(level {case.escalation_level})",
                        at=now,
                    )
                )
                escalated.append(case)
        return escalated

    # -- reading ----------------------------------------------------------------------------

    def get(self, case_id: str) -> CaseRow:
        with self.session() as db:
            case = db.get(CaseRow, case_id)
            if case is None:
                raise CaseNotFound(case_id)
            _ = case.events, case.transitions  # load before the session closes
            return case

    def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        department: str | None = None,
        camera_id: str | None = None,
        overdue: bool | None = None,
        now: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseRow], int]:
        now = now or _now()
        query = select(CaseRow)
        if status:
            query = query.where(CaseRow.status == status)
        if type:
            query = query.where(CaseRow.type == type)
        if department:
            query = query.where(CaseRow.department == department)
        if camera_id:
            query = query.where(CaseRow.camera_id == camera_id)
        if overdue is not None:
            active = CaseRow.status.in_([s.value for s in ACTIVE])
            late = active & (CaseRow.deadline < now)
            query = query.where(late if overdue else ~late)
        with self.session() as db:
            total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = db.scalars(
                query.order_by(CaseRow.created_at.desc(), CaseRow.id).limit(limit).offset(offset)
            ).all()
            for row in rows:
                _ = row.events
            return list(rows), int(total)

    def review_queue(
        self,
        *,
        statuses: list[str] | None = None,
        type: str | None = None,
        camera_id: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseRow], int]:
        """Cases for the review page, earliest deadline first, events loaded in one query;
        ``since`` (ISO 8601 UTC) keeps cases last seen at or after it."""
        query = select(CaseRow)
        if statuses:
            query = query.where(CaseRow.status.in_(statuses))
        if type:
            query = query.where(CaseRow.type == type)
        if camera_id:
            query = query.where(CaseRow.camera_id == camera_id)
        if since:
            query = query.where(CaseRow.last_seen >= since)
        with self.session() as db:
            total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = db.scalars(
                query.options(selectinload(CaseRow.events))
                .order_by(CaseRow.deadline, CaseRow.created_at, CaseRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return list(rows), int(total)

    def count_by_status(self) -> dict[str, int]:
        with self.session() as db:
            rows = db.execute(select(CaseRow.status, func.count()).group_by(CaseRow.status)).all()
        return {status: int(n) for status, n in rows}

    def known_event_ids(self, event_ids: list[str]) -> set[str]:
        """Which of ``event_ids`` already belong to a case."""
        if not event_ids:
            return set()
        with self.session() as db:
            query = select(CaseEventRow.event_id).where(CaseEventRow.event_id.in_(event_ids))
            return set(db.scalars(query).all())

    def reviewed_since(self, since: datetime) -> list[CaseRow]:
        """Cases confirmed or rejected at or after ``since`` (events and history loaded)."""
        reviewed = select(TransitionRow.case_id).where(
            TransitionRow.action.in_([Action.CONFIRM.value, Action.REJECT.value]),
            TransitionRow.at >= since.astimezone(UTC),
        )
        with self.session() as db:
            rows = db.scalars(
                select(CaseRow)
                .where(CaseRow.id.in_(reviewed))
                .options(selectinload(CaseRow.events), selectinload(CaseRow.transitions))
                .order_by(CaseRow.created_at, CaseRow.id)
            ).all()
            return list(rows)

    def summaries(self) -> list[CaseSummary]:
        """Every case with its review and dispatch actions, for analytics over many cases."""
        counted = [Action.CONFIRM.value, Action.REJECT.value, Action.DISPATCH.value]
        with self.session() as db:
            actions: dict[str, list[ActionRecord]] = {}
            for case_id, action in db.execute(
                select(TransitionRow.case_id, TransitionRow.action).where(
                    TransitionRow.action.in_(counted)
                )
            ):
                actions.setdefault(case_id, []).append(ActionRecord(action))
            rows = db.execute(
                select(
                    CaseRow.id,
                    CaseRow.type,
                    CaseRow.camera_id,
                    CaseRow.department,
                    CaseRow.status,
                    CaseRow.created_at,
                    CaseRow.deadline,
                    CaseRow.closed_at,
                )
            ).all()
        return [CaseSummary(*row, transitions=actions.get(row[0], [])) for row in rows]

    def all_cases(self) -> list[CaseRow]:
        with self.session() as db:
            rows = db.scalars(select(CaseRow)).all()
            for row in rows:
                _ = row.transitions
            return list(rows)


def is_overdue(case: CaseRow, now: datetime | None = None) -> bool:
    now = now or _now()
    deadline = as_utc(case.deadline)
    return Status(case.status) in ACTIVE and deadline is not None and deadline < now
