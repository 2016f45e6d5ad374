"""What every rule is: one zone's violation logic, fed one frame's detections at a time.

A rule keeps its own state and answers one question per frame: is the violation present in
my zone right now (``update`` -> candidates)? It names the detector roles it needs
(``needs``); the pipeline calls ``update`` only on frames where every one of those roles was
run fresh, and on the frames between (a slow re-check cadence for static things, a skipped
unchanged frame) it repeats the rule's last answer. Roles:

- ``person``: the general detector: people and stall objects (umbrella, table, chair, ...);
- ``helmet``: heads with and without helmets;
- ``garbage``: garbage piles, bins, overflowing bins;
- ``vendor``: street-vendor stalls seen from above (eagle-eye cameras);
- ``water``: no model: the waterlogging rule analyses the frame itself, on the slow cadence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

ROLES = ("person", "helmet", "garbage", "vendor", "water")
STATIC_ROLES = frozenset({"garbage", "vendor", "water"})
"""Roles that look for things that do not move: re-checked on a slow cadence."""


@runtime_checkable
class Rule(Protocol):
    type: str
    """The event type it reports (the garbage rule also reports ``illegal_dumping``)."""
    zone: Zone
    needs: frozenset[str]

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]: ...


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class RuleSettings(BaseModel):
    """A rule's thresholds: the config's ``rules.<name>`` section and a zone's overrides of it
    (unknown keys forbidden, every field described). Frozen: a rule never changes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def resolved(self, resolve: Callable[[str], str]) -> RuleSettings:
        """These settings with their file paths resolved by ``resolve`` (relative to the config
        file); only settings that name files override this."""
        return self


@dataclass(frozen=True)
class EventKind:
    """An event type a rule reports, with what the rest of the product needs to know of it."""

    name: str
    zh: str
    """Label on Chinese pages."""
    en: str
    """Label on English pages."""
    department: str
    """Who handles its cases by default (the routing table can override it)."""
    deadline_min: float
    """Minutes to close a case of this type by default."""
    severity: str = "normal"
    box_class: str | None = None
    """The YOLO class its boxes train as in exported datasets (None: no object boxes)."""


@dataclass(frozen=True)
class RuleSpec:
    """Everything the product knows of one rule, declared once next to it (``SPEC`` in
    ``vision/rules/<rule>.py``) and gathered by ``vision.rules.registry``."""

    name: str
    """The rule's key in config files (``rules.<name>``, a zone's ``rules``)."""
    settings: type[RuleSettings]
    events: tuple[EventKind, ...]
    """The event types it reports; the first is its main one."""
    build: Callable[[str, Zone, RuleSettings, frozenset[str]], Rule]
    """``build(camera_id, zone, settings, needs)`` -> the rule for one zone of one camera."""
    roles: frozenset[str]
    """The detector roles it needs (see the top of this module)."""
    roles_by_camera_kind: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Other roles on some kinds of camera (street vending from above needs the vendor model)."""

    def needs(self, camera_kind: str) -> frozenset[str]:
        return self.roles_by_camera_kind.get(camera_kind, self.roles)
