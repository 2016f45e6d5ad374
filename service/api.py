"""The HTTP API and the review page: FastAPI over the dispatch queue and the evidence files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from service.api_cases import case_routes
from service.case_store import CaseStore
from service.config import Config
from service.event_queue import SqliteEventQueue
from service.health_store import CameraHealthStore
from service.routing import Router
from vision.types import Event, utc_iso

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
VERSION = "0.1.0"


class Health(BaseModel):
    status: str
    version: str
    queue: str
    events: int
    cameras: list[str]


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


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(422, f"since: '{value}' is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment)


def create_app(config: Config, cases: CaseStore | None = None) -> FastAPI:
    queue = SqliteEventQueue(config.queue_url)
    cases = cases or CaseStore(
        config.cases_url, Router(config.dispatch.routing), config.dispatch.merge_distance_m
    )
    health_store = CameraHealthStore(config.queue_url)
    evidence_root = config.evidence_path.resolve()
    app = FastAPI(
        title="streetwatch",
        version=VERSION,
        description="Street inspection events: crowding, street vending, garbage, helmets, water.",
    )

    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health(
            status="ok",
            version=VERSION,
            queue=config.queue_url,
            events=queue.count(),
            cameras=[c.id for c in config.cameras],
        )

    @app.get("/events", response_model=EventList)
    def list_events(
        type: Annotated[str | None, Query(max_length=64, description="Event type")] = None,
        camera: Annotated[str | None, Query(max_length=64, description="Camera id")] = None,
        since: Annotated[str | None, Query(description="Last seen at or after (ISO 8601)")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> EventList:
        page = queue.list(
            type=type, camera_id=camera, since=_since(since), limit=limit, offset=offset
        )
        return EventList(items=page.items, total=page.total, limit=page.limit, offset=page.offset)

    @app.get("/events/{event_id}", response_model=Event)
    def get_event(event_id: str) -> Event:
        event = queue.get(event_id)
        if event is None:
            raise HTTPException(404, f"no event '{event_id}'")
        return event

    @app.get("/events/{event_id}/snapshot", response_class=FileResponse)
    def get_snapshot(event_id: str) -> FileResponse:
        event = queue.get(event_id)
        if event is None:
            raise HTTPException(404, f"no event '{event_id}'")
        if not event.snapshot:
            raise HTTPException(404, f"event '{event_id}' has no snapshot")
        path = Path(event.snapshot).resolve()
        if not path.is_relative_to(evidence_root) or not path.is_file():
            raise HTTPException(404, f"snapshot of event '{event_id}' is missing")
        return FileResponse(path, media_type="image/jpeg")

    def camera_statuses() -> list[CameraStatus]:
        stored = health_store.read()
        statuses = []
        for camera in config.cameras:
            record = stored.get(camera.id, {})
            fields = {k: v for k, v in record.items() if k in CameraStatus.model_fields}
            fields.pop("camera_id", None)
            statuses.append(CameraStatus(id=camera.id, kind=camera.kind, **fields))
        return statuses

    @app.get("/cameras", response_model=list[CameraStatus])
    def list_cameras() -> list[CameraStatus]:
        """Every configured camera with the health its worker last reported."""
        return camera_statuses()

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus text format: camera states and counters, events per type."""
        lines = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]):
            lines.append(f"# HELP streetwatch_{name} {help_text}")
            lines.append(f"# TYPE streetwatch_{name} {kind}")
            lines.extend(f"streetwatch_{name}{labels} {value:g}" for labels, value in samples)

        cams = camera_statuses()
        states = ["starting", "online", "frozen", "offline", "stopped", "unknown"]
        metric(
            "camera_up",
            "gauge",
            "1 when the camera delivers frames",
            [(f'{{camera="{c.id}"}}', float(c.state in ("online", "frozen"))) for c in cams],
        )
        metric(
            "camera_state",
            "gauge",
            "Camera health state (one-hot)",
            [
                (f'{{camera="{c.id}",state="{s}"}}', float(c.state == s))
                for c in cams
                for s in states
            ],
        )
        for name, attr, help_text in [
            ("frames_in_total", "frames_in", "Frames decoded"),
            ("frames_analysed_total", "frames_analysed", "Frames run through detection"),
            ("frames_dropped_total", "frames_dropped", "Frames replaced before analysis"),
            ("decoder_restarts_total", "restarts", "Decoder restarts"),
        ]:
            samples = [(f'{{camera="{c.id}"}}', float(getattr(c, attr))) for c in cams]
            metric(name, "counter", help_text, samples)
        ages = [(f'{{camera="{c.id}"}}', c.last_frame_age_s) for c in cams]
        metric(
            "last_frame_age_seconds",
            "gauge",
            "Age of the newest frame when last reported",
            [(labels, age) for labels, age in ages if age is not None],
        )
        metric(
            "events",
            "gauge",
            "Events in the queue by type",
            [(f'{{type="{t}"}}', float(n)) for t, n in sorted(queue.count_by_type().items())],
        )
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def review_page(
        request: Request,
        type: str | None = None,
        camera: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> HTMLResponse:
        page = queue.list(type=type, camera_id=camera, limit=limit)
        return TEMPLATES.TemplateResponse(
            request,
            "events.html",
            {
                "events": page.items,
                "total": page.total,
                "cameras": [c.id for c in config.cameras],
                "type": type or "",
                "camera": camera or "",
            },
        )

    app.include_router(case_routes(cases))
    return app
