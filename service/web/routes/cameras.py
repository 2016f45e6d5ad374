"""Cameras: the health their workers report, and a picture of each."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from service.web.deps import ServicesDep
from service.web.schemas import CameraStatus

router = APIRouter(tags=["cameras"])


@router.get("/cameras", response_model=list[CameraStatus])
def list_cameras(ctx: ServicesDep) -> list[CameraStatus]:
    """Every configured camera with the health its worker last reported."""
    return ctx.cameras()


@router.get("/cameras/{camera_id}/thumbnail")
def camera_thumbnail(ctx: ServicesDep, camera_id: str) -> Response:
    """The snapshot of the camera's newest event, or a placeholder picture."""
    if camera_id not in {c.id for c in ctx.config.cameras}:
        raise HTTPException(404, f"no camera '{camera_id}' in the config")
    for event in ctx.queue.list(camera_id=camera_id, limit=5).items:
        path = ctx.evidence.inside(event.snapshot)
        if path is not None:
            return FileResponse(path, media_type="image/jpeg")
    return Response(PLACEHOLDER_SVG, media_type="image/svg+xml")


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180" width="320" height="180">'
    '<rect width="320" height="180" fill="#2b3242"/>'
    '<g fill="none" stroke="#8a93a6" stroke-width="6" stroke-linejoin="round">'
    '<rect x="115" y="62" width="70" height="50" rx="8"/><path d="M185 80l25-14v48l-25-14"/>'
    "</g>"
    '<text x="160" y="145" fill="#c8cfdc" font-family="sans-serif" font-size="14" '
    'text-anchor="middle">no picture yet</text></svg>'
)
