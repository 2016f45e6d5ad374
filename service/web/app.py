"""The HTTP API and the review UI: one FastAPI app over the dispatch queue, the case store and
the evidence files (``service.web.deps.Services``), behind API tokens (or in local mode, see
``service.web.auth``). Routes live in ``routes/`` (JSON) and ``ui/`` (pages), one module per
resource; this module wires them with the body limit, the error handlers and the static files."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service.cases.store import CaseStore
from service.config import Config
from service.web.auth import Authenticator, LoginRequired, TokenRegistry, install_log_redaction
from service.web.body_limit import BodyLimit
from service.web.deps import Services
from service.web.routes import cameras, events, health, suppressions
from service.web.routes import cases as cases_routes
from service.web.routes.health import VERSION
from service.web.schemas import ValidationProblem
from service.web.ui import pages

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


def validation_message(errors: list[dict]) -> str:
    return "; ".join(f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


MAX_BODY_BYTES = 1 << 20
"""Every request body the API accepts is small JSON or a form; anything bigger is refused (413)
while it streams in, chunked or not (``service.web.body_limit``)."""


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'",
}
"""On every response: no sniffing, no framing (clickjacking), no plugins, forms post home."""


def create_app(
    config: Config,
    cases: CaseStore | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The API + UI app over the stores ``config`` names (``cases``: a case store already open,
    e.g. the case service's). Raises ``service.web.auth.AuthConfigError`` (a ValueError) when
    configured tokens cannot be loaded."""
    registry = TokenRegistry.from_config(config, environ)
    install_log_redaction(registry)
    auth = Authenticator(registry)
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
    app.state.services = Services.open(config, auth, cases)

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

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

    for module in (health, events, cameras, cases_routes, suppressions, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
