"""``/health`` (public liveness) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from service.queue.base import redact
from service.web.deps import ServicesDep
from service.web.schemas import CameraStatus, Health

VERSION = "0.1.0"

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health(ctx: ServicesDep) -> Health:
    """Liveness and what this service serves (public: no token needed)."""
    return Health(
        status="ok",
        version=VERSION,
        queue=redact(ctx.config.queue_url),
        events=ctx.queue.count(),
        cameras=[c.id for c in ctx.config.cameras],
        auth="local" if ctx.auth.local else "tokens",
    )


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: ServicesDep) -> PlainTextResponse:
    """Prometheus text format: camera states and counters, events per type, cases."""
    return PlainTextResponse(
        prometheus_text(ctx.cameras(), ctx.queue.count_by_type(), ctx.cases.count_by_status()),
        media_type="text/plain; version=0.0.4",
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
