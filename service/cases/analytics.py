"""Dispatch analytics: the funnel detected -> reviewed -> confirmed -> dispatched -> closed,
closure rate and mean time to close, overall and per type, camera, department and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel

from service.cases.db import as_utc
from service.cases.lifecycle import Status
from service.cases.store import CaseRow, is_overdue

STAGES = ("detected", "reviewed", "confirmed", "dispatched", "closed")


class Funnel(BaseModel):
    detected: int = 0
    reviewed: int = 0
    confirmed: int = 0
    rejected: int = 0
    dispatched: int = 0
    closed: int = 0
    overdue: int = 0
    closure_rate: float | None = None
    """closed / (detected - rejected): the share of real problems fixed."""
    precision: float | None = None
    """confirmed / reviewed: how often reviewers agreed with the AI."""
    mean_hours_to_close: float | None = None


class Analytics(BaseModel):
    total: Funnel
    by_type: dict[str, Funnel]
    by_camera: dict[str, Funnel]
    by_department: dict[str, Funnel]
    by_day: dict[str, Funnel]


def _funnel(cases: Iterable[CaseRow], now: datetime | None) -> Funnel:
    counts = dict.fromkeys(
        ("detected", "reviewed", "confirmed", "rejected", "dispatched", "closed", "overdue"), 0
    )  # plain ints: a validated pydantic assignment per case is slow at city scale
    hours = []
    for case in cases:
        actions = {t.action for t in case.transitions}
        counts["detected"] += 1
        counts["reviewed"] += bool(actions & {"confirm", "reject"})
        counts["confirmed"] += "confirm" in actions
        counts["rejected"] += case.status == Status.REJECTED
        counts["dispatched"] += "dispatch" in actions
        if case.status == Status.CLOSED:
            counts["closed"] += 1
            closed_at, created = as_utc(case.closed_at), as_utc(case.created_at)
            if closed_at and created:
                hours.append((closed_at - created).total_seconds() / 3600)
        counts["overdue"] += is_overdue(case, now)
    real = counts["detected"] - counts["rejected"]
    reviewed = counts["reviewed"]
    return Funnel(
        **counts,
        closure_rate=round(counts["closed"] / real, 4) if real else None,
        precision=round(counts["confirmed"] / reviewed, 4) if reviewed else None,
        mean_hours_to_close=round(sum(hours) / len(hours), 3) if hours else None,
    )


def _grouped(
    cases: list[CaseRow], key: Callable[[CaseRow], str], now: datetime | None
) -> dict[str, Funnel]:
    groups: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases:
        groups[key(case)].append(case)
    return {name: _funnel(members, now) for name, members in sorted(groups.items())}


def analytics(cases: list[CaseRow], now: datetime | None = None) -> Analytics:
    return Analytics(
        total=_funnel(cases, now),
        by_type=_grouped(cases, lambda c: c.type, now),
        by_camera=_grouped(cases, lambda c: c.camera_id, now),
        by_department=_grouped(cases, lambda c: c.department, now),
        by_day=_grouped(cases, lambda c: (as_utc(c.created_at) or now).date().isoformat(), now),
    )
