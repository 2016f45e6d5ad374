"""Case endpoints: list, detail, transitions (confirm, reject, dispatch, handle, resolve,
close, reopen), comments, analytics; and the suppressions that rejections add."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from service.cases.analytics import Analytics, analytics
from service.cases.lifecycle import Action, Status, TransitionError
from service.cases.store import CaseNotFound, CaseRow, CaseStore, _utc, is_overdue
from service.cases.suppressions import (
    RejectReason,
    Suppression,
    SuppressionIn,
    SuppressionNotFound,
    SuppressionStore,
    parse_reason,
)
from service.feedback.hard_negatives import HardNegativeExporter
from service.web.auth import actor_for, principal_of
from vision.types import Event

logger = logging.getLogger(__name__)


class CaseOut(BaseModel):
    id: str
    type: str
    camera_id: str
    zone: str
    status: Status
    department: str
    severity: str
    created_at: datetime
    updated_at: datetime
    deadline: datetime
    overdue: bool
    escalation_level: int
    first_seen: str
    last_seen: str
    events: int
    verified: bool | None = None
    ground: tuple[float, float] | None = None


class TransitionOut(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    reason_code: RejectReason | None = Field(None, description="Set on rejections")
    at: datetime


class CaseDetail(CaseOut):
    evidence: list[Event]
    history: list[TransitionOut]
    suppressions: list[Suppression] = Field(
        default_factory=list, description="Active suppressions this case's rejection added"
    )


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    actor: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Local mode only: who acts (default 'local'). With tokens the token's name "
        "is the actor and this field is ignored",
    )
    reason_code: RejectReason | None = Field(
        None,
        description="Why a case is rejected: wrong_object, outside_zone, permitted, "
        "duplicate or other (a rejection needs this or a reason text)",
    )
    reason: str = Field("", max_length=2000, description="Why, in words")
    department: str | None = Field(None, min_length=1, max_length=64, description="dispatch to")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str | None = Field(None, min_length=1, max_length=64, description="Local mode only")
    text: str = Field(min_length=1, max_length=4000)


SuppressionId = Annotated[int, Path(ge=1, le=2**62, description="Suppression id")]


class SuppressionList(BaseModel):
    items: list[Suppression]
    total: int
    limit: int
    offset: int


@dataclass
class Feedback:
    """What a rejection teaches: a suppression per camera/zone and hard-negative samples (as
    the reason's policy says); reopening the case takes both back."""

    suppressions: SuppressionStore
    hard_negatives: HardNegativeExporter

    def rejected(
        self, case: CaseRow, reason: RejectReason | None, note: str, actor: str
    ) -> list[Suppression]:
        reason = reason or RejectReason.OTHER
        events = [Event.model_validate(row.payload) for row in case.events]
        added = []
        if reason.suppresses:
            added = self.suppressions.add_for_events(
                events, reason=reason, note=note, actor=actor, case_id=case.id
            )
        if reason.hard_negative:
            self.hard_negatives.export(case.id, events, reason=reason, note=note, actor=actor)
        return added

    def reopened(self, case_id: str, actor: str) -> None:
        lifted = self.suppressions.lift_for_case(case_id, actor)
        removed = self.hard_negatives.remove(case_id)
        if lifted or removed:
            logger.info(
                "case %s reopened by %s: %d suppressions lifted, %d sample files removed",
                case_id,
                actor,
                lifted,
                removed,
            )


def case_out(case: CaseRow) -> CaseOut:
    ground = None
    if case.ground_x is not None and case.ground_y is not None:
        ground = (case.ground_x, case.ground_y)
    return CaseOut(
        id=case.id,
        type=case.type,
        camera_id=case.camera_id,
        zone=case.zone,
        status=Status(case.status),
        department=case.department,
        severity=case.severity,
        created_at=_utc(case.created_at),
        updated_at=_utc(case.updated_at),
        deadline=_utc(case.deadline),
        overdue=is_overdue(case),
        escalation_level=case.escalation_level,
        first_seen=case.first_seen,
        last_seen=case.last_seen,
        events=len(case.events),
        verified=case.verified,
        ground=ground,
    )


def transition_out(t) -> TransitionOut:  # noqa: ANN001 - a TransitionRow
    code = parse_reason(t.reason)[0] if t.action == "reject" else None
    return TransitionOut(
        action=t.action,
        from_status=t.from_status,
        to_status=t.to_status,
        actor=t.actor,
        reason=t.reason,
        reason_code=code,
        at=_utc(t.at),
    )


def case_detail(case: CaseRow, suppressions: list[Suppression] | None = None) -> CaseDetail:
    return CaseDetail(
        **case_out(case).model_dump(),
        evidence=[Event.model_validate(e.payload) for e in case.events],
        history=[transition_out(t) for t in case.transitions],
        suppressions=suppressions or [],
    )


def stored_reason(code: RejectReason | None, text: str) -> str:
    """What the transition records: ``code: words``, ``code`` or ``words``."""
    text = text.strip()
    if code is None:
        return text
    return f"{code.value}: {text}" if text else code.value


def case_routes(store: CaseStore, feedback: Feedback | None = None) -> APIRouter:
    router = APIRouter(tags=["cases"])

    def load(case_id: str) -> CaseRow:
        try:
            return store.get(case_id)
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None

    def detail(case: CaseRow) -> CaseDetail:
        found = []
        if feedback is not None:
            found, _ = feedback.suppressions.list(case_id=case.id)
        return case_detail(case, found)

    @router.get("/cases", response_model=CaseList)
    def list_cases(
        status: Annotated[Status | None, Query(description="Only cases in this status")] = None,
        type: Annotated[str | None, Query(max_length=64, description="Event type")] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        camera: Annotated[str | None, Query(max_length=64, description="Camera id")] = None,
        overdue: Annotated[bool | None, Query(description="Past their deadline")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> CaseList:
        """Cases newest first, with filters and paging (``total`` counts all matches)."""
        rows, total = store.list(
            status=status.value if status else None,
            type=type,
            department=department,
            camera_id=camera,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )
        return CaseList(items=[case_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @router.get("/cases/{case_id}", response_model=CaseDetail)
    def get_case(case_id: str) -> CaseDetail:
        return detail(load(case_id))

    @router.post("/cases/{case_id}/transitions", response_model=CaseDetail)
    def transition(case_id: str, body: TransitionIn, request: Request) -> CaseDetail:
        """Move a case on. Rejecting needs ``reason_code`` (or a ``reason``) and adds a
        suppression and hard-negative samples; reopening a rejected case takes them back."""
        actor = actor_for(principal_of(request), body.actor)
        if body.action is Action.REJECT and body.reason_code is None and not body.reason.strip():
            load(case_id)  # 404 before 422 for an unknown case
            raise HTTPException(
                422,
                "reason_code: a rejection needs a reason (wrong_object, outside_zone, permitted, "
                "duplicate or other) or a reason text",
            )
        if body.action is Action.DISPATCH and body.department is None:
            load(case_id)  # 404 before the transition for an unknown case
        before = load(case_id).status
        try:
            store.transition(
                case_id,
                body.action,
                actor,
                stored_reason(body.reason_code, body.reason),
                department=body.department,
            )
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        case = load(case_id)
        if feedback is not None and body.action is Action.REJECT:
            feedback.rejected(case, body.reason_code, body.reason.strip(), actor)
        if feedback is not None and body.action is Action.REOPEN and before == Status.REJECTED:
            feedback.reopened(case_id, actor)
        logger.info("case %s: %s by %s", case_id, body.action.value, actor)
        return detail(case)

    @router.post("/cases/{case_id}/comments", response_model=CaseDetail)
    def comment(case_id: str, body: CommentIn, request: Request) -> CaseDetail:
        actor = actor_for(principal_of(request), body.actor)
        try:
            store.comment(case_id, actor, body.text)
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None
        return detail(load(case_id))

    @router.get("/analytics", response_model=Analytics)
    def get_analytics() -> Analytics:
        return analytics(store.summaries())  # type: ignore[arg-type]

    return router


def suppression_routes(suppressions: SuppressionStore) -> APIRouter:
    router = APIRouter(tags=["suppressions"])

    @router.get("/suppressions", response_model=SuppressionList)
    def list_suppressions(
        active: Annotated[
            bool, Query(description="Only active ones (not lifted, not expired)")
        ] = True,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        type: Annotated[str | None, Query(max_length=64)] = None,
        case: Annotated[str | None, Query(max_length=24, description="Added by this case")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> SuppressionList:
        items, total = suppressions.list(
            active_only=active, camera_id=camera, type=type, case_id=case, limit=limit,
            offset=offset,
        )  # fmt: skip
        return SuppressionList(items=items, total=total, limit=limit, offset=offset)

    @router.post("/suppressions", response_model=Suppression, status_code=201)
    def add_suppression(body: SuppressionIn, request: Request) -> Suppression:
        """Suppress a type at a camera zone (optionally only inside ``boxes``) by hand."""
        for index, box in enumerate(body.boxes):
            if len(box) != 4 or box[2] <= box[0] or box[3] <= box[1]:
                raise HTTPException(422, f"boxes[{index}]: not [x1, y1, x2, y2] with x2>x1, y2>y1")
        return suppressions.add(
            camera_id=body.camera_id,
            zone=body.zone,
            type=body.type,
            boxes=body.boxes,
            reason=body.reason,
            note=body.note,
            actor=actor_for(principal_of(request), None),
            hours=body.hours,
        )

    @router.get("/suppressions/{suppression_id}", response_model=Suppression)
    def get_suppression(suppression_id: SuppressionId) -> Suppression:
        try:
            return suppressions.get(suppression_id)
        except SuppressionNotFound:
            raise HTTPException(404, f"no suppression {suppression_id}") from None

    @router.delete("/suppressions/{suppression_id}", response_model=Suppression)
    def remove_suppression(suppression_id: SuppressionId, request: Request) -> Suppression:
        """Lift a suppression now (it stays listed with ``active=false``)."""
        try:
            return suppressions.remove(suppression_id, actor_for(principal_of(request), None))
        except SuppressionNotFound:
            raise HTTPException(
                404, f"no active suppression {suppression_id} (unknown or already lifted)"
            ) from None

    return router
