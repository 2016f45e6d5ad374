"""The HTTP API and the review UI: FastAPI over the dispatch queue, the case store and the
evidence files, behind API tokens (or in local mode, see service.web.auth)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from service.cases.routing import Router
from service.cases.store import CaseStore
from service.cases.suppressions import SuppressionStore
from service.config import Config
from service.edge.health_store import open_health_store
from service.feedback.hard_negatives import HardNegativeExporter
from service.queue import open_queue, redact
from service.web.auth import Authenticator, LoginRequired, TokenRegistry, install_log_redaction
from service.web.evidence_files import EvidenceFiles
from service.web.routes.cases import Feedback, case_routes, suppression_routes
from service.web.ui.pages import UiContext, ui_routes
from vision.types import Event, utc_iso

logger = logging.getLogger(__name__)
VERSION = "0.1.0"
STATIC = Path(__file__).with_name("static")


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


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


def validation_message(errors: list[dict]) -> str:
    return "; ".join(f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


MAX_BODY_BYTES = 1 << 20
"""Every request body the API accepts is small JSON; anything bigger is refused (413)."""


def create_app(
    config: Config,
    cases: CaseStore | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The API + UI app. Raises ``service.web.auth.AuthConfigError`` (a ValueError) when configured
    tokens cannot be loaded."""
    registry = TokenRegistry.from_config(config, environ)
    install_log_redaction(registry)
    auth = Authenticator(registry)
    queue = open_queue(config.queue_url)
    cases = cases or CaseStore(
        config.cases_url, Router(config.dispatch.routing), config.dispatch.merge_distance_m
    )
    health_store = open_health_store(config.queue_url)
    evidence = EvidenceFiles(config.evidence_path)
    suppressions = SuppressionStore(
        cases.engine,
        default_hours=config.feedback.suppression_hours,
        min_overlap=config.feedback.suppression_min_overlap,
    )
    feedback = Feedback(
        suppressions,
        HardNegativeExporter(config.dataset_path / "hard_negatives", config.evidence_path),
    )
    if auth.local:
        logger.warning("no API token configured: local mode (no login; serve on 127.0.0.1 only)")
    app = FastAPI(
        title="streetwatch",
        version=VERSION,
        description="Street inspection events and cases: crowding, street vending, garbage, "
        "helmets, water. Send `Authorization: Bearer <token>` (reads: any role; writes: "
        "reviewer or admin) unless the service runs in local mode.",
        dependencies=[Depends(auth)],
    )

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):  # noqa: ANN001, ANN202
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse(
                {"detail": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(exc.errors())
        problem = ValidationProblem(message=validation_message(errors), detail=errors)
        return JSONResponse(problem.model_dump(), status_code=422)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=401, headers=exc.headers)

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness and what this service serves (public: no token needed)."""
        return Health(
            status="ok",
            version=VERSION,
            queue=redact(config.queue_url),
            events=queue.count(),
            cameras=[c.id for c in config.cameras],
            auth="local" if auth.local else "tokens",
        )

    @app.get("/events", response_model=EventList, tags=["events"])
    def list_events(
        type: Annotated[str | None, Query(max_length=64, description="Event type")] = None,
        camera: Annotated[str | None, Query(max_length=64, description="Camera id")] = None,
        since: Annotated[str | None, Query(description="Last seen at or after (ISO 8601)")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ) -> EventList:
        """Events newest first (by last seen), with filters and paging."""
        page = queue.list(
            type=type, camera_id=camera, since=parse_since(since), limit=limit, offset=offset
        )
        return EventList(items=page.items, total=page.total, limit=page.limit, offset=page.offset)

    def load_event(event_id: str) -> Event:
        event = queue.get(event_id)
        if event is None:
            raise HTTPException(404, f"no event '{event_id}'")
        return event

    @app.get("/events/{event_id}", response_model=Event, tags=["events"])
    def get_event(event_id: str) -> Event:
        return load_event(event_id)

    @app.get("/events/{event_id}/snapshot", response_class=FileResponse, tags=["events"])
    def get_snapshot(event_id: str) -> FileResponse:
        """The event's JPEG (zone and boxes drawn)."""
        event = load_event(event_id)
        if not event.snapshot:
            raise HTTPException(404, f"event '{event_id}' has no snapshot")
        return evidence.response(event.snapshot, f"snapshot of event '{event_id}'")

    @app.get("/events/{event_id}/clip", response_class=FileResponse, tags=["events"])
    def get_clip(event_id: str) -> FileResponse:
        """The event's MP4 clip (live cameras)."""
        event = load_event(event_id)
        if not event.clip:
            raise HTTPException(404, f"event '{event_id}' has no clip")
        return evidence.response(event.clip, f"clip of event '{event_id}'")

    @app.get("/evidence/{path:path}", response_class=FileResponse, tags=["events"])
    def get_evidence(path: str) -> FileResponse:
        """A file of the evidence folder (snapshots, clean frames, clips); nothing outside it."""
        return evidence.response_for_relative(path)

    def camera_statuses() -> list[CameraStatus]:
        stored = health_store.read()
        statuses = []
        for camera in config.cameras:
            record = stored.get(camera.id, {})
            fields = {k: v for k, v in record.items() if k in CameraStatus.model_fields}
            fields.pop("id", None)
            statuses.append(CameraStatus(id=camera.id, kind=camera.kind, **fields))
        return statuses

    @app.get("/cameras", response_model=list[CameraStatus], tags=["cameras"])
    def list_cameras() -> list[CameraStatus]:
        """Every configured camera with the health its worker last reported."""
        return camera_statuses()

    @app.get("/cameras/{camera_id}/thumbnail", tags=["cameras"])
    def camera_thumbnail(camera_id: str) -> Response:
        """The snapshot of the camera's newest event, or a placeholder picture."""
        if camera_id not in {c.id for c in config.cameras}:
            raise HTTPException(404, f"no camera '{camera_id}' in the config")
        for event in queue.list(camera_id=camera_id, limit=5).items:
            path = evidence.inside(event.snapshot)
            if path is not None:
                return FileResponse(path, media_type="image/jpeg")
        return Response(PLACEHOLDER_SVG, media_type="image/svg+xml")

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def metrics() -> PlainTextResponse:
        """Prometheus text format: camera states and counters, events per type, cases."""
        return PlainTextResponse(
            prometheus_text(camera_statuses(), queue.count_by_type(), cases.count_by_status()),
            media_type="text/plain; version=0.0.4",
        )

    app.include_router(case_routes(cases, feedback))
    app.include_router(suppression_routes(suppressions))
    app.include_router(
        ui_routes(
            UiContext(
                config=config,
                queue=queue,
                cases=cases,
                suppressions=suppressions,
                evidence=evidence,
                auth=auth,
                cameras=camera_statuses,
            )
        )
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def parse_since(value: str | None) -> str | None:
    """An ISO 8601 time as the queue's UTC text, or a 422 naming the parameter."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(422, f"since: '{value}' is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment)


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180" width="320" height="180">'
    '<rect width="320" height="180" fill="#2b3242"/>'
    '<g fill="none" stroke="#8a93a6" stroke-width="6" stroke-linejoin="round">'
    '<rect x="115" y="62" width="70" height="50" rx="8"/><path d="M185 80l25-14v48l-25-14"/>'
    "</g>"
    '<text x="160" y="145" fill="#c8cfdc" font-family="sans-serif" font-size="14" '
    'text-anchor="middle">no picture yet</text></svg>'
)


def prometheus_text(
    cams: list[CameraStatus], events_by_type: dict[str, int], cases_by_status: dict[str, int]
) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP streetwatch_{name} {help_text}")
        lines.append(f"# TYPE streetwatch_{name} {kind}")
        lines.extend(f"streetwatch_{name}{labels} {value:g}" for labels, value in samples)

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
        [(f'{{camera="{c.id}",state="{s}"}}', float(c.state == s)) for c in cams for s in states],
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
        [(f'{{type="{t}"}}', float(n)) for t, n in sorted(events_by_type.items())],
    )
    metric(
        "cases",
        "gauge",
        "Cases by status",
        [(f'{{status="{s}"}}', float(n)) for s, n in sorted(cases_by_status.items())],
    )
    return "\n".join(lines) + "\n"
