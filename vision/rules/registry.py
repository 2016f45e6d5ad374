"""Every rule this build implements, gathered from the ``SPEC`` each rule file declares.

Config (``rules.<name>`` and a zone's ``rules``), ``build_rules``, detector scheduling, golden
evaluation, routing defaults, dataset classes and page labels all derive from ``RULES``; a rule
is added by writing its file and listing its module here.
"""

from __future__ import annotations

from vision.rules import crowding, garbage, helmet, vending, waterlogging
from vision.rules.base import EventKind, RuleSpec

RULES: dict[str, RuleSpec] = {
    spec.name: spec
    for spec in (crowding.SPEC, vending.SPEC, garbage.SPEC, helmet.SPEC, waterlogging.SPEC)
}
"""Rule name -> its spec, in the order pages and reports list them."""

EVENT_KINDS: dict[str, EventKind] = {
    kind.name: kind for spec in RULES.values() for kind in spec.events
}
"""Every event type a rule can report -> what the product knows of it."""

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_KINDS)
