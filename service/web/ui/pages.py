"""The review UI: server-rendered pages (Jinja2) over the same stores as the API, with a little
vanilla JS (``static/review.js``) for keyboard actions, which call the JSON API.

Pages: ``/`` review queue, ``/ui/cases/{id}`` case, ``/ui/cameras``, ``/ui/dashboard``,
``/ui/suppressions``, ``/login``. Labels are Chinese with English beside them (``?lang=en``:
English only); times are shown in the config's time zone.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from service.cases.analytics import analytics
from service.cases.db import as_utc
from service.cases.lifecycle import ACTIVE, ALLOWED_FROM, Action, Status
from service.cases.routing import FALLBACK, Router
from service.cases.store import CaseNotFound, CaseRow, is_overdue
from service.cases.suppressions import RejectReason, parse_reason
from service.config import Config
from service.feedback.yolo_samples import clean_frame_of
from service.web.auth import COOKIE, Principal
from service.web.deps import Services, ServicesDep
from service.web.evidence_files import EvidenceFiles
from service.web.i18n import LABELS, LANGS, Lang, parts, pick_lang, text
from service.web.schemas import QueueStats
from service.web.ui import charts as ui_charts
from vision.types import Event, parse_iso, utc_iso

logger = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
REVIEW = ("new", "reopened")
PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
SESSION_S = 12 * 3600
KEYS_QUEUE = [
    ("j / k", "next / previous", "下一个 / 上一个"),
    ("c", "confirm", "确认"),
    ("r", "reject (then 1-5 or Enter)", "驳回（再按 1-5 或回车）"),
    ("d", "dispatch (confirms a new case first)", "派单（新案件先确认）"),
    ("Enter", "open the case", "打开案件"),
    ("u", "reload", "刷新"),
    ("?", "this help", "帮助"),
]
KEYS_CASE = [
    ("c / r / d", "confirm / reject / dispatch", "确认 / 驳回 / 派单"),
    ("h / s / x / o", "handling / resolve / close / reopen", "处置中 / 处置完成 / 结案 / 重新打开"),
    ("m", "write a comment", "写备注"),
    ("b / Esc", "back to the queue", "返回队列"),
]
ACTION_KEYS = {
    Action.CONFIRM: "c",
    Action.REJECT: "r",
    Action.DISPATCH: "d",
    Action.HANDLE: "h",
    Action.RESOLVE: "s",
    Action.CLOSE: "x",
    Action.REOPEN: "o",
}


# -- formatting -------------------------------------------------------------------------------


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        moment = parse_iso(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Formatter:
    """Per-request helpers the templates call: labels in the request's language, local times."""

    def __init__(self, lang: Lang, config: Config, now: datetime) -> None:
        self.lang, self.tz, self.now = lang, config.tz, now

    def label(self, kind: str, value: str | None) -> Markup:
        main, secondary = parts(kind, value or "", self.lang)
        html = f'<span class="l-main">{escape(main)}</span>'
        if secondary:
            html += f' <span class="l-en">{escape(secondary)}</span>'
        return Markup(html)

    def plain(self, kind: str, value: str) -> str:
        return text(kind, value, self.lang)

    def ui(self, key: str) -> Markup:
        return self.label("ui", key)

    def time(self, value: str | datetime | None, seconds: bool = True) -> str:
        moment = parse_time(value)
        if moment is None:
            return "—"
        local = moment.astimezone(self.tz)
        return local.strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")

    def ago(self, value: str | datetime | None) -> str:
        moment = parse_time(value)
        if moment is None:
            return ""
        return self.duration((self.now - moment).total_seconds(), suffix=True)

    def duration(self, seconds: float | None, suffix: bool = False) -> str:
        if seconds is None:
            return "—"
        future = seconds < 0
        seconds = abs(seconds)
        if seconds < 60:
            amount = f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
        elif seconds < 3600:
            amount = f"{seconds / 60:.0f} min"
        elif seconds < 86400 * 2:
            amount = f"{seconds / 3600:.1f} h"
        else:
            amount = f"{seconds / 86400:.0f} d"
        if not suffix:
            return amount
        if self.lang == "en":
            return f"in {amount}" if future else f"{amount} ago"
        return f"{amount}后" if future else f"{amount}前"

    def short(self, kind: str, value: str) -> str:
        """The main label only (Chinese in zh): for tight places like status changes."""
        return parts(kind, value, self.lang)[0]

    def due(self, deadline: datetime, overdue: bool, active: bool = True) -> str:
        if not active:
            return "—"
        left = (deadline - self.now).total_seconds()
        if overdue:
            late = self.duration(-left)
            return f"overdue {late}" if self.lang == "en" else f"已超期 {late}"
        left_text = self.duration(left)
        return f"due in {left_text}" if self.lang == "en" else f"剩余 {left_text}"


# -- view models ------------------------------------------------------------------------------


@dataclass
class CaseCard:
    id: str
    type: str
    status: str
    camera_id: str
    cameras: list[str]
    zone: str
    department: str
    severity: str
    score: float
    count: int | None
    events: int
    first_seen: str
    last_seen: str
    snapshot_url: str | None
    deadline: datetime
    overdue: bool
    active: bool


@dataclass
class EventCard:
    id: str
    type: str
    status: str
    camera_id: str
    zone: str
    score: float
    count: int | None
    first_seen: str
    last_seen: str
    snapshot_url: str | None


@dataclass
class EvidenceView:
    event: Event
    snapshot_url: str | None
    clean_url: str | None
    clip_url: str | None


def case_card(case: CaseRow, evidence: EvidenceFiles) -> CaseCard:
    events = [Event.model_validate(row.payload) for row in case.events]
    latest = max(events, key=lambda e: e.last_seen) if events else None
    snapshot = None
    for event in sorted(events, key=lambda e: e.last_seen, reverse=True):
        snapshot = evidence.url(event.snapshot)
        if snapshot:
            break
    return CaseCard(
        id=case.id,
        type=case.type,
        status=case.status,
        camera_id=case.camera_id,
        cameras=sorted({e.camera_id for e in events} or {case.camera_id}),
        zone=case.zone,
        department=case.department,
        severity=case.severity,
        score=max((e.score for e in events), default=0.0),
        count=latest.count if latest else None,
        events=len(events),
        first_seen=case.first_seen,
        last_seen=case.last_seen,
        snapshot_url=snapshot,
        deadline=as_utc(case.deadline),
        overdue=is_overdue(case),
        active=Status(case.status) in ACTIVE,
    )


def event_card(event: Event) -> EventCard:
    return EventCard(
        id=event.id,
        type=event.type,
        status=event.status,
        camera_id=event.camera_id,
        zone=event.zone,
        score=event.score,
        count=event.count,
        first_seen=event.first_seen,
        last_seen=event.last_seen,
        snapshot_url=f"/events/{event.id}/snapshot" if event.snapshot else None,
    )


def departments(router: Router) -> list[str]:
    names = {route.department for route in router.routes.values()} | {FALLBACK.department}
    return sorted(names)


def known_types() -> list[str]:
    return list(LABELS["type"])


def _filter_url(request: Request, **changes: Any) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return request.url.path + ("?" + urlencode(query) if query else "")


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- routes -----------------------------------------------------------------------------------


router = APIRouter(include_in_schema=False)


def render(
    ctx: Services, request: Request, template: str, values: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = pick_lang(request.query_params.get("lang") or request.cookies.get("lang"))
    principal: Principal | None = getattr(request.state, "principal", None)
    fmt = Formatter(lang, ctx.config, datetime.now(UTC))
    other = "en" if lang == "zh" else "zh"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "f": fmt,
            "L": fmt.label,
            "T": fmt.ui,
            "lang": lang,
            "lang_url": _filter_url(request)
            + ("&" if request.url.query else "?")
            + f"lang={other}",
            "other_lang": other,
            "principal": principal,
            "local": ctx.auth.local,
            "can_write": bool(principal and principal.can_write),
            "js_text": js_text(lang),
            **values,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def review_queue(
    ctx: ServicesDep,
    request: Request,
    type: Annotated[str | None, Query(max_length=64)] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str, Query(max_length=16)] = "review",
    period: Annotated[str, Query(max_length=8)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    status = status if status in {"review", "all", *Status} else "review"
    delta = PERIODS.get(period)
    since = utc_iso(datetime.now(UTC) - delta) if delta else None
    statuses = list(REVIEW) if status == "review" else None if status == "all" else [status]
    rows, total = ctx.cases.review_queue(
        statuses=statuses,
        type=type or None,
        camera_id=camera or None,
        since=since,
        limit=limit,
        offset=offset,
    )
    pending: list[EventCard] = []
    if status in ("review", "all") and offset == 0:
        page = ctx.queue.list(type=type or None, camera_id=camera or None, since=since, limit=limit)
        known = ctx.cases.known_event_ids([e.id for e in page.items])
        pending = [event_card(e) for e in page.items if e.id not in known]
    return render(
        ctx,
        request,
        "queue.html",
        {
            "nav": "queue",
            "cards": [case_card(row, ctx.evidence) for row in rows],
            "pending": pending,
            "total": total,
            "limit": limit,
            "offset": offset,
            "prev_url": _filter_url(request, offset=max(offset - limit, 0)) if offset else None,
            "next_url": _filter_url(request, offset=offset + limit)
            if offset + limit < total
            else None,
            "filters": {
                "type": type or "",
                "camera": camera or "",
                "status": status,
                "period": period if delta else "",
            },
            "types": known_types(),
            "cameras": [c.id for c in ctx.config.cameras],
            "statuses": [s.value for s in Status],
            "reasons": [r.value for r in RejectReason],
            "keys": KEYS_QUEUE,
            "review_total": review_total(ctx),
        },
    )


@router.get("/ui/queue/stats", response_model=QueueStats)
def queue_stats(ctx: ServicesDep) -> QueueStats:
    page = ctx.queue.list(limit=50)
    known = ctx.cases.known_event_ids([e.id for e in page.items])
    return QueueStats(
        review=review_total(ctx), pending_events=sum(e.id not in known for e in page.items)
    )


@router.get("/ui/cases/{case_id}", response_class=HTMLResponse)
def case_page(ctx: ServicesDep, request: Request, case_id: str) -> HTMLResponse:
    try:
        case = ctx.cases.get(case_id)
    except CaseNotFound:
        return render(
            ctx,
            request,
            "not_found.html",
            {"nav": "queue", "what": f"case '{case_id}'"},
            status_code=404,
        )
    events = [Event.model_validate(row.payload) for row in case.events]
    by_camera: dict[str, list[EvidenceView]] = {}
    for event in sorted(events, key=lambda e: e.last_seen, reverse=True):
        clean = clean_frame_of(event, ctx.evidence.root)
        by_camera.setdefault(event.camera_id, []).append(
            EvidenceView(
                event=event,
                snapshot_url=ctx.evidence.url(event.snapshot),
                clean_url=ctx.evidence.url(str(clean)) if clean else None,
                clip_url=ctx.evidence.url(event.clip),
            )
        )
    status = Status(case.status)
    allowed = [a for a in Action if status in ALLOWED_FROM[a]]
    if status is Status.NEW:
        allowed.append(Action.DISPATCH)  # the UI confirms first, then dispatches
    suppressions, _ = ctx.suppressions.list(case_id=case.id, active_only=False)
    return render(
        ctx,
        request,
        "case.html",
        {
            "nav": "queue",
            "case": case,
            "card": case_card(case, ctx.evidence),
            "by_camera": by_camera,
            "history": [
                (t, parse_reason(t.reason) if t.action == "reject" else (None, t.reason))
                for t in case.transitions
            ],
            "allowed": [a.value for a in Action if a in allowed],
            "action_keys": {a.value: k for a, k in ACTION_KEYS.items()},
            "departments": departments(ctx.router),
            "reasons": [r.value for r in RejectReason],
            "suppressions": suppressions,
            "timeline": case_timeline(case, events, Formatter("en", ctx.config, _now())),
            "keys": KEYS_CASE,
        },
    )


@router.get("/ui/cameras", response_class=HTMLResponse)
def cameras_page(ctx: ServicesDep, request: Request) -> HTMLResponse:
    statuses = ctx.cameras()
    counts = Counter(s.state for s in statuses)
    return render(
        ctx,
        request,
        "cameras.html",
        {
            "nav": "cameras",
            "cameras": statuses,
            "counts": counts,
            "kinds": {c.id: c.kind for c in ctx.config.cameras},
        },
    )


@router.get("/ui/dashboard", response_class=HTMLResponse)
def dashboard_page(ctx: ServicesDep, request: Request) -> HTMLResponse:
    lang = pick_lang(request.query_params.get("lang") or request.cookies.get("lang"))
    now = datetime.now(UTC)
    stats = analytics(ctx.cases.summaries(), now)  # type: ignore[arg-type]
    total = stats.total
    detected = total.detected or 0

    def share(value: int) -> str:
        return f"{value / detected:.0%}" if detected else ""

    names = [
        ("ui", "detected"),
        ("ui", "reviewed"),
        ("status", "confirmed"),
        ("status", "dispatched"),
        ("status", "closed"),
    ]
    values = [total.detected, total.reviewed, total.confirmed, total.dispatched, total.closed]
    stages = [
        ui_charts.Bar(
            parts(kind, name, lang)[0],
            value,
            share(value) if index else "",
            parts(kind, name, lang)[1] or "",
        )
        for index, ((kind, name), value) in enumerate(zip(names, values, strict=True))
    ]
    by_type = [
        ui_charts.Bar(
            parts("type", name, lang)[0],
            funnel.precision,
            f"{funnel.confirmed}/{funnel.reviewed}",
            parts("type", name, lang)[1] or "",
        )
        for name, funnel in stats.by_type.items()
        if funnel.precision is not None
    ]
    by_camera = [
        ui_charts.Bar(name, funnel.precision, f"{funnel.confirmed}/{funnel.reviewed}")
        for name, funnel in stats.by_camera.items()
        if funnel.precision is not None
    ]
    hours, window_end = events_per_hour(ctx, now)
    fmt = Formatter(lang, ctx.config, now)
    overdue_rows, overdue_total = ctx.cases.list(overdue=True, limit=20, now=now)
    empty = "no reviews yet" if lang == "en" else "尚无审核 no reviews yet"
    return render(
        ctx,
        request,
        "dashboard.html",
        {
            "nav": "dashboard",
            "total": total,
            "stats": stats,
            "funnel_svg": ui_charts.funnel(stages),
            "type_svg": ui_charts.share_bars(by_type, empty=empty),
            "camera_svg": ui_charts.share_bars(by_camera, empty=empty),
            "hours_svg": ui_charts.columns(
                [
                    ui_charts.Bar(fmt.time(start, seconds=False)[-5:], count)
                    for start, count in hours
                ]
            ),
            "hours_total": sum(count for _, count in hours),
            "window_end": window_end,
            "overdue": [case_card(row, ctx.evidence) for row in overdue_rows],
            "overdue_total": overdue_total,
        },
    )


@router.get("/ui/suppressions", response_class=HTMLResponse)
def suppressions_page(
    ctx: ServicesDep,
    request: Request,
    all: bool = False,
    camera: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    items, total = ctx.suppressions.list(active_only=not all, camera_id=camera or None)
    return render(
        ctx,
        request,
        "suppressions.html",
        {"nav": "suppressions", "items": items, "total": total, "show_all": all},
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(ctx: ServicesDep, request: Request, next: str = "/") -> Response:
    if ctx.auth.local:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(ctx, request, "login.html", {"nav": "", "next": _safe_next(next), "error": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(ctx: ServicesDep, request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    principal = ctx.auth.registry.lookup(token)
    if ctx.auth.local:
        return RedirectResponse(target, status_code=303)
    if principal is None:
        client = request.client.host if request.client else "?"
        logger.warning("failed UI login from %s", client)
        message = "token not recognised / 令牌无效"
        return render(
            ctx,
            request,
            "login.html",
            {"nav": "", "next": target, "error": message},
            status_code=401,
        )
    logger.info("%s (%s) logged in to the UI", principal.name, principal.role.label)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(ctx: ServicesDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _now() -> datetime:
    return datetime.now(UTC)


def review_total(ctx: Services) -> int:
    return ctx.cases.review_queue(statuses=list(REVIEW), limit=1)[1]


def events_per_hour(
    ctx: Services, now: datetime, hours: int = 24
) -> tuple[list[tuple[datetime, int]], datetime]:
    """Events per hour (by when last seen) over the ``hours`` up to the newest event (or now):
    one count query per hour boundary, whatever the number of events."""
    newest = ctx.queue.list(limit=1).items
    end_at = (parse_time(newest[0].last_seen) if newest else None) or now
    end = end_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    bounds = [end - timedelta(hours=hours - i) for i in range(hours + 1)]
    seen_since = [ctx.queue.list(since=utc_iso(b), limit=1).total for b in bounds]
    counts = [seen_since[i] - seen_since[i + 1] for i in range(hours)]
    return list(zip(bounds[:-1], counts, strict=True)), end


def case_timeline(case: CaseRow, events: list[Event], fmt: Formatter) -> Markup:
    spans = []
    for event in events:
        first, last = parse_time(event.first_seen), parse_time(event.last_seen)
        if first and last:
            spans.append((event.camera_id, first, last, event.id))
    marks = [(as_utc(t.at), t.action) for t in case.transitions if t.action != "comment"]
    moments = [s[1] for s in spans] + [s[2] for s in spans] + [m[0] for m in marks]
    if not moments:
        return Markup("")
    t0, t1 = min(moments), max(moments)
    pad = max((t1 - t0).total_seconds() * 0.03, 1.0)
    origin = t0 - timedelta(seconds=pad)

    def sec(moment: datetime) -> float:
        return (moment - origin).total_seconds()

    return ui_charts.timeline(
        [
            ui_charts.Span(cam, sec(a), sec(b), f"{eid}: {fmt.time(a)} → {fmt.time(b)}")
            for cam, a, b, eid in spans
        ],
        [ui_charts.Mark(sec(at), action) for at, action in marks],
        0.0,
        sec(t1) + pad,
    )


def js_text(lang: Lang) -> dict[str, Any]:
    """Words the page's JS shows (toasts), in the page's language."""
    return {
        "status": {s.value: text("status", s.value, lang) for s in Status},
        "status_short": {s.value: parts("status", s.value, lang)[0] for s in Status},
        "reason": {r.value: text("reason", r.value, lang) for r in RejectReason},
        "read_only": text("ui", "read_only", lang),
        "suppressed": "suppression added" if lang == "en" else "已添加抑制规则 suppression added",
        "new_arrived": text("ui", "new_arrived", lang),
        "failed": "failed" if lang == "en" else "操作失败 failed",
    }
