"""Case endpoints: list, detail, transitions (confirm, reject, dispatch, handle, resolve,
close, reopen), comments and analytics."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from service.cases.analytics import Analytics, analytics
from service.cases.db import as_utc
from service.cases.lifecycle import Action, Status, TransitionError
from service.cases.store import CaseNotFound, CaseRow, is_overdue
from service.cases.suppressions import RejectReason, Suppression, parse_reason
from service.web.auth import actor_for, principal_of
from service.web.deps import Services, ServicesDep
from service.web.schemas import (
    CaseDetail,
    CaseList,
    CaseOut,
    CommentIn,
    TransitionIn,
    TransitionOut,
)
from vision.types import Event

logger = logging.getLogger(__name__)

router = APIRouter(tags=["cases"])


def load(ctx: Services, case_id: str) -> CaseRow:
    try:
        return ctx.cases.get(case_id)
    except CaseNotFound:
        raise HTTPException(404, f"no case '{case_id}'") from None


def detail(ctx: Services, case: CaseRow) -> CaseDetail:
    found, _ = ctx.feedback.suppressions.list(case_id=case.id)
    return case_detail(case, found)


@router.get("/cases", response_model=CaseList)
def list_cases(
    ctx: ServicesDep,
    status: Annotated[Status | None, Query(description="Only cases in this status")] = None,
    type: Annotated[str | None, Query(max_length=64, description="Event type")] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    camera: Annotated[str | None, Query(max_length=64, description="Camera id")] = None,
    overdue: Annotated[bool | None, Query(description="Past their deadline")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CaseList:
    """Cases newest first, with filters and paging (``total`` counts all matches)."""
    rows, total = ctx.cases.list(
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
def get_case(ctx: ServicesDep, case_id: str) -> CaseDetail:
    return detail(ctx, load(ctx, case_id))


@router.post("/cases/{case_id}/transitions", response_model=CaseDetail)
def transition(ctx: ServicesDep, case_id: str, body: TransitionIn, request: Request) -> CaseDetail:
    """Move a case on. Rejecting needs ``reason_code`` (or a ``reason``) and adds a
    suppression and hard-negative samples; reopening a rejected case takes them back."""
    actor = actor_for(principal_of(request), body.actor)
    if body.action is Action.REJECT and body.reason_code is None and not body.reason.strip():
        load(ctx, case_id)  # 404 before 422 for an unknown case
        raise HTTPException(
            422,
            "reason_code: a rejection needs a reason (wrong_object, outside_zone, permitted, "
            "duplicate or other) or a reason text",
        )
    if body.action is Action.DISPATCH and body.department is None:
        load(ctx, case_id)  # 404 before the transition for an unknown case
    before = load(ctx, case_id).status
    try:
        ctx.cases.transition(
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
    case = load(ctx, case_id)
    if body.action is Action.REJECT:
        ctx.feedback.rejected(case, body.reason_code, body.reason.strip(), actor)
    if body.action is Action.REOPEN and before == Status.REJECTED:
        ctx.feedback.reopened(case_id, actor)
    logger.info("case %s: %s by %s", case_id, body.action.value, actor)
    return detail(ctx, case)


@router.post("/cases/{case_id}/comments", response_model=CaseDetail)
def comment(ctx: ServicesDep, case_id: str, body: CommentIn, request: Request) -> CaseDetail:
    actor = actor_for(principal_of(request), body.actor)
    try:
        ctx.cases.comment(case_id, actor, body.text)
    except CaseNotFound:
        raise HTTPException(404, f"no case '{case_id}'") from None
    return detail(ctx, load(ctx, case_id))


@router.get("/analytics", response_model=Analytics)
def get_analytics(ctx: ServicesDep) -> Analytics:
    return analytics(ctx.cases.summaries())  # type: ignore[arg-type]


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
        created_at=as_utc(case.created_at),
        updated_at=as_utc(case.updated_at),
        deadline=as_utc(case.deadline),
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
        at=as_utc(t.at),
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
