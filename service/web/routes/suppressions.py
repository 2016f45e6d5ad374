"""Suppressions: what rejections added (and what staff add by hand), listed, read and lifted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from service.cases.suppressions import Suppression, SuppressionIn, SuppressionNotFound
from service.web.auth import actor_for, principal_of
from service.web.deps import ServicesDep
from service.web.schemas import SuppressionList

SuppressionId = Annotated[int, Path(ge=1, le=2**62, description="Suppression id")]

router = APIRouter(tags=["suppressions"])


@router.get("/suppressions", response_model=SuppressionList)
def list_suppressions(
    ctx: ServicesDep,
    active: Annotated[bool, Query(description="Only active ones (not lifted, not expired)")] = True,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    case: Annotated[str | None, Query(max_length=24, description="Added by this case")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SuppressionList:
    items, total = ctx.suppressions.list(
        active_only=active, camera_id=camera, type=type, case_id=case, limit=limit,
        offset=offset,
    )  # fmt: skip
    return SuppressionList(items=items, total=total, limit=limit, offset=offset)


@router.post("/suppressions", response_model=Suppression, status_code=201)
def add_suppression(ctx: ServicesDep, body: SuppressionIn, request: Request) -> Suppression:
    """Suppress a type at a camera zone (optionally only inside ``boxes``) by hand."""
    for index, box in enumerate(body.boxes):
        if len(box) != 4 or box[2] <= box[0] or box[3] <= box[1]:
            raise HTTPException(422, f"boxes[{index}]: not [x1, y1, x2, y2] with x2>x1, y2>y1")
    return ctx.suppressions.add(
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
def get_suppression(ctx: ServicesDep, suppression_id: SuppressionId) -> Suppression:
    try:
        return ctx.suppressions.get(suppression_id)
    except SuppressionNotFound:
        raise HTTPException(404, f"no suppression {suppression_id}") from None


@router.delete("/suppressions/{suppression_id}", response_model=Suppression)
def remove_suppression(
    ctx: ServicesDep, suppression_id: SuppressionId, request: Request
) -> Suppression:
    """Lift a suppression now (it stays listed with ``active=false``)."""
    try:
        return ctx.suppressions.remove(suppression_id, actor_for(principal_of(request), None))
    except SuppressionNotFound:
        raise HTTPException(
            404, f"no active suppression {suppression_id} (unknown or already lifted)"
        ) from None
