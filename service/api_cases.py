"""Case endpoints: list, detail, transitions (confirm, reject, dispatch, handle, resolve,
close, reopen), comments, analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from service.analytics import Analytics, analytics
from service.case_store import CaseNotFound, CaseRow, CaseStore, _utc, is_overdue
from service.lifecycle import Action, Status, TransitionError
from vision.types import Event


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
    at: datetime


class CaseDetail(CaseOut):
    evidence: list[Event]
    history: list[TransitionOut]


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    actor: str = Field(min_length=1, max_length=64, description="Who acts (reviewer name)")
    reason: str = Field("", max_length=2000, description="Why: required to reject")
    department: str | None = Field(None, min_length=1, max_length=64, description="dispatch to")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


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


def case_detail(case: CaseRow) -> CaseDetail:
    return CaseDetail(
        **case_out(case).model_dump(),
        evidence=[Event.model_validate(e.payload) for e in case.events],
        history=[
            TransitionOut(
                action=t.action,
                from_status=t.from_status,
                to_status=t.to_status,
                actor=t.actor,
                reason=t.reason,
                at=_utc(t.at),
            )
            for t in case.transitions
        ],
    )


def case_routes(store: CaseStore) -> APIRouter:
    router = APIRouter(tags=["cases"])

    def load(case_id: str) -> CaseRow:
        try:
            return store.get(case_id)
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None

    @router.get("/cases", response_model=CaseList)
    def list_cases(
        status: Status | None = None,
        type: Annotated[str | None, Query(max_length=64)] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        overdue: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> CaseList:
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
        return case_detail(load(case_id))

    @router.post("/cases/{case_id}/transitions", response_model=CaseDetail)
    def transition(case_id: str, body: TransitionIn) -> CaseDetail:
        if body.action is Action.REJECT and not body.reason.strip():
            raise HTTPException(422, "a rejection needs a reason")
        if body.action is Action.DISPATCH and body.department is None:
            load(case_id)  # 404 before 422 for an unknown case
        try:
            store.transition(
                case_id, body.action, body.actor, body.reason, department=body.department
            )
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        return case_detail(load(case_id))

    @router.post("/cases/{case_id}/comments", response_model=CaseDetail)
    def comment(case_id: str, body: CommentIn) -> CaseDetail:
        try:
            store.comment(case_id, body.actor, body.text)
        except CaseNotFound:
            raise HTTPException(404, f"no case '{case_id}'") from None
        return case_detail(load(case_id))

    @router.get("/analytics", response_model=Analytics)
    def get_analytics() -> Analytics:
        return analytics(store.all_cases())

    return router
