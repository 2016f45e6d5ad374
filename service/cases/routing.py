"""Routing: event type -> department, severity and deadline (the SLA table)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from vision.rules.registry import EVENT_KINDS


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, description="Who handles this type of case")
    severity: str = Field("normal", pattern=r"^(low|normal|high)$")
    deadline_min: float = Field(gt=0, le=60 * 24 * 30, description="Minutes to close the case")
    escalate_to: str = Field("street_office_head", description="Notified when overdue")


DEFAULT_ROUTES: dict[str, Route] = {
    **{
        name: Route(
            department=kind.department, severity=kind.severity, deadline_min=kind.deadline_min
        )
        for name, kind in EVENT_KINDS.items()
    },
    "camera_offline": Route(department="it_operations", deadline_min=240),
}
"""Each rule's event types as the rule declares them (``vision.rules.registry``), plus the
service's own ``camera_offline``."""
FALLBACK = Route(department="street_office", deadline_min=240)


class Router:
    def __init__(self, overrides: dict[str, Route] | None = None) -> None:
        self.routes = {**DEFAULT_ROUTES, **(overrides or {})}

    def route(self, event_type: str) -> Route:
        return self.routes.get(event_type, FALLBACK)

    def deadline(self, event_type: str) -> timedelta:
        return timedelta(minutes=self.route(event_type).deadline_min)
