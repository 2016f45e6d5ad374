"""Every request and response body of the HTTP API, in one place (OpenAPI is the contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.cases.lifecycle import Action, Status
from service.cases.suppressions import RejectReason, Suppression
from vision.types import Event


class Health(BaseModel):
    status: str
    version: str
    queue: str
    events: int
    cameras: list[str]
    auth: str = Field(description="'local' (no tokens: loopback only, no login) or 'tokens'")


class CameraStatus(BaseModel):
    id: str
    kind: str
    state: str = "unknown"
    since: str | None = None
    last_frame_age_s: float | None = None
    frames_in: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0
    restarts: int = 0
    last_error: str | None = None
    width: int | None = None
    height: int | None = None
    updated_at: str | None = None


class EventList(BaseModel):
    items: list[Event]
    total: int
    limit: int
    offset: int


class ValidationProblem(BaseModel):
    """A 422: ``message`` names every bad field; ``detail`` is FastAPI's list of errors."""

    message: str
    detail: list[dict]


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


class SuppressionList(BaseModel):
    items: list[Suppression]
    total: int
    limit: int
    offset: int


class QueueStats(BaseModel):
    review: int
    pending_events: int
