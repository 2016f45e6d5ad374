"""The ``dispatch`` section: the case store, routing overrides, deadlines and webhooks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from service.cases.routing import Route
from service.config.base import FiniteFloat, StrictModel


class WebhookConfig(StrictModel):
    url: str = Field(pattern=r"^https?://", description="Where to POST notifications")
    secret_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the HMAC secret (secrets stay out of configs)",
    )
    events: list[Literal["case.created", "case.escalated", "case.reopened"]] = Field(
        default_factory=lambda: ["case.created", "case.escalated"], min_length=1
    )


class DispatchConfig(StrictModel):
    """Cases: merging events, routing, deadlines, verified closure, notifications."""

    cases_url: str | None = Field(
        None, description="SQLAlchemy URL of the case store; default sqlite:///<data_dir>/cases.db"
    )
    merge_distance_m: FiniteFloat = Field(
        15.0, gt=0, description="Events of one type this close on the ground share a case"
    )
    verify_window_s: FiniteFloat = Field(
        300.0, ge=0, description="After resolve, the camera must stay clean this long to close"
    )
    tick_s: FiniteFloat = Field(5.0, gt=0, le=3600, description="Deadline / verification clock")
    routing: dict[str, Route] = Field(
        default_factory=dict, description="Overrides of the default type -> department table"
    )
    webhooks: list[WebhookConfig] = Field(default_factory=list)
