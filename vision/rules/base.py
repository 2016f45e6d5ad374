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

from typing import Protocol, runtime_checkable

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
