"""Events as the queue holds them, with their snapshot, clip and evidence files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from service.web.deps import Services, ServicesDep
from service.web.schemas import EventList
from vision.types import Event, parse_iso, utc_iso

router = APIRouter(tags=["events"])


@router.get("/events", response_model=EventList)
def list_events(
    ctx: ServicesDep,
    type: Annotated[str | None, Query(max_length=64, description="Event type")] = None,
    camera: Annotated[str | None, Query(max_length=64, description="Camera id")] = None,
    since: Annotated[str | None, Query(description="Last seen at or after (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EventList:
    """Events newest first (by last seen), with filters and paging."""
    page = ctx.queue.list(
        type=type, camera_id=camera, since=parse_since(since), limit=limit, offset=offset
    )
    return EventList(items=page.items, total=page.total, limit=page.limit, offset=page.offset)


def load_event(ctx: Services, event_id: str) -> Event:
    event = ctx.queue.get(event_id)
    if event is None:
        raise HTTPException(404, f"no event '{event_id}'")
    return event


@router.get("/events/{event_id}", response_model=Event)
def get_event(ctx: ServicesDep, event_id: str) -> Event:
    return load_event(ctx, event_id)


@router.get("/events/{event_id}/snapshot", response_class=FileResponse)
def get_snapshot(ctx: ServicesDep, event_id: str) -> FileResponse:
    """The event's JPEG (zone and boxes drawn)."""
    event = load_event(ctx, event_id)
    if not event.snapshot:
        raise HTTPException(404, f"event '{event_id}' has no snapshot")
    return ctx.evidence.response(event.snapshot, f"snapshot of event '{event_id}'")


@router.get("/events/{event_id}/clip", response_class=FileResponse)
def get_clip(ctx: ServicesDep, event_id: str) -> FileResponse:
    """The event's MP4 clip (live cameras)."""
    event = load_event(ctx, event_id)
    if not event.clip:
        raise HTTPException(404, f"event '{event_id}' has no clip")
    return ctx.evidence.response(event.clip, f"clip of event '{event_id}'")


@router.get("/evidence/{path:path}", response_class=FileResponse)
def get_evidence(ctx: ServicesDep, path: str) -> FileResponse:
    """A file of the evidence folder (snapshots, clean frames, clips); nothing outside it."""
    return ctx.evidence.response_for_relative(path)


def parse_since(value: str | None) -> str | None:
    """An ISO 8601 time as the queue's UTC text, or a 422 naming the parameter."""
    if value is None:
        return None
    try:
        return utc_iso(parse_iso(value))
    except (ValueError, OverflowError):
        raise HTTPException(422, f"since: '{value}' is not an ISO 8601 time") from None
