"""One camera's chain: frames -> detector -> rules -> dedup -> evidence -> sinks."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from service.config import CameraConfig, Config
from service.edge.detector_set import DetectorSet
from service.edge.sinks import EventSink, EvidenceWriter
from vision.dedup import DedupSettings, EventDeduplicator, EventUpdate
from vision.detectors.base import Detector
from vision.rules.base import Rule
from vision.rules.registry import RULES
from vision.schedule import RoleSchedule
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

logger = logging.getLogger(__name__)


class Suppressions(Protocol):
    """What the edge asks of the review loop: does a reviewer's suppression cover this
    candidate (its camera, zone, type and boxes, at ``now``)? The case database's
    ``SuppressionStore`` answers; ``streetwatch run`` hands it to the worker."""

    def matches(
        self,
        camera_id: str,
        zone: str,
        type: str,
        boxes: Sequence[Sequence[float]],
        now: datetime | None = None,
    ) -> bool: ...


def build_zones(config: Config, camera: CameraConfig) -> list[Zone]:
    return [
        Zone.from_points(
            zone.name,
            zone.polygon,
            [(hours.start, hours.end) for hours in zone.active_hours],
            config.tz,
        )
        for zone in camera.zones
    ]


def rule_needs(camera: CameraConfig, rule: str) -> frozenset[str]:
    """The detector roles ``rule`` needs on ``camera`` (see vision.rules.base)."""
    return RULES[rule].needs(camera.kind)


def camera_roles(cameras: Iterable[CameraConfig]) -> frozenset[str]:
    """Every detector role the zones of ``cameras`` need."""
    return frozenset(
        role
        for camera in cameras
        for zone in camera.zones
        for rule in zone.rule_names()
        for role in rule_needs(camera, rule)
    )


def build_rules(config: Config, camera: CameraConfig) -> list[Rule]:
    """One rule per zone and rule it enforces, each with its zone's settings."""
    rules: list[Rule] = []
    for zone_config, zone in zip(camera.zones, build_zones(config, camera), strict=True):
        for name in zone_config.rule_names():
            settings = config.rule_settings(zone_config, name).resolved(
                lambda path: str(config.resolve(path))
            )
            rules.append(RULES[name].build(camera.id, zone, settings, rule_needs(camera, name)))
    return rules


def dedup_settings(config: Config, *, live: bool = False) -> DedupSettings:
    return DedupSettings(
        close_after_s=config.events.close_after_s,
        cooldown_s=config.events.cooldown_s,
        id_bucket_s=config.events.id_bucket_s,
        bucket_by_wall=live,
    )


@dataclass
class StageTimes:
    """Seconds spent per stage, for progress lines and benchmarks."""

    detect_s: float = 0.0
    rules_s: float = 0.0
    sinks_s: float = 0.0
    frames: int = 0
    events_opened: int = 0
    peak_people: int = 0


class CameraPipeline:
    """Everything after decoding for one camera; the detector may be shared between cameras."""

    def __init__(
        self,
        config: Config,
        camera: CameraConfig,
        detectors: DetectorSet | Detector,
        source_key: str,
        sinks: Sequence[EventSink],
        *,
        live: bool = False,
        suppressions: Suppressions | None = None,
    ) -> None:
        self.camera = camera
        if not isinstance(detectors, DetectorSet):
            detectors = DetectorSet(config, person=detectors)
        self.detectors = detectors
        self.rules = build_rules(config, camera)
        models = config.models
        self.schedule = RoleSchedule(
            camera_roles([camera]), models.static_every_s, models.skip_unchanged
        )
        self._held: dict[int, list[Candidate]] = {}
        self.dedup = EventDeduplicator(camera.id, source_key, dedup_settings(config, live=live))
        polygons = {(camera.id, z.name): z.polygon for z in build_zones(config, camera)}
        self.evidence = EvidenceWriter(config.evidence_path, polygons)
        self.sinks = list(sinks)
        self.suppressions = suppressions
        self.suppressed = 0
        self.times = StageTimes()

    def process(self, frame: Frame) -> list[EventUpdate]:
        started = time.perf_counter()
        due = self.schedule.due(frame)
        dets = self.detectors.detect([frame], [due])[0]
        detected = time.perf_counter()
        updates = self.observe(frame, dets, due)
        self.times.detect_s += detected - started
        return updates

    def observe(
        self, frame: Frame, dets: Detections, fresh: frozenset[str] | None = None
    ) -> list[EventUpdate]:
        """Rules, dedup and sinks for a frame already run through the detectors of the roles
        in ``fresh`` (None: every role; boxes in the frame's own pixels, scaled here to source
        pixels when the decoder downscaled). A rule whose roles did not all run on this frame
        repeats its last answer."""
        started = time.perf_counter()
        if frame.scale != 1.0 and len(dets):
            dets = Detections(dets.xyxy * frame.scale, dets.label, dets.score)
        candidates: list[Candidate] = []
        for index, rule in enumerate(self.rules):
            if fresh is None or rule.needs <= fresh:
                self._held[index] = found = rule.update(frame, dets)
            else:
                found = [
                    dataclasses.replace(c, pts=frame.pts, wall=frame.wall)
                    for c in self._held.get(index, [])
                ]
            candidates.extend(found)
        self.times.rules_s += time.perf_counter() - started
        self.times.frames += 1
        people = int(np.count_nonzero(dets.label == "person"))
        self.times.peak_people = max(self.times.peak_people, people)
        return self.report(frame, candidates)

    def report(self, frame: Frame, candidates: list[Candidate]) -> list[EventUpdate]:
        """Dedup and dispatch candidates (from the rules, or from camera health)."""
        started = time.perf_counter()
        if self.suppressions is not None and candidates:
            kept = [
                c
                for c in candidates
                if not self.suppressions.matches(c.camera_id, c.zone, c.type, c.boxes, c.wall)
            ]
            self.suppressed += len(candidates) - len(kept)
            candidates = kept
        updates = self.dedup.update(frame, candidates)
        self._dispatch(updates)
        self.times.sinks_s += time.perf_counter() - started
        return updates

    def finish(self) -> list[EventUpdate]:
        updates = self.dedup.flush()
        self._dispatch(updates)
        return updates

    def _dispatch(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            if update.change == "opened" and update.event.observations == 1:
                self.times.events_opened += 1
            self.evidence.annotate(update)
            for sink in self.sinks:
                sink.post(update)
