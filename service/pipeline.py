"""One camera's chain: frames -> detector -> rules -> dedup -> evidence -> sinks."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.config import CameraConfig, Config
from service.detector_set import DetectorSet
from service.sinks import EventSink, EvidenceWriter
from service.suppressions import SuppressionStore
from vision.dedup import DedupSettings, EventDeduplicator, EventUpdate
from vision.detectors.base import Detector
from vision.rules.base import Rule
from vision.rules.crowding import CrowdingRule, CrowdingThresholds
from vision.rules.garbage import GarbageRule, GarbageThresholds
from vision.rules.helmet import MissingHelmetRule, MissingHelmetThresholds
from vision.rules.vending import StreetVendingRule, StreetVendingThresholds
from vision.rules.waterlogging import WaterloggingRule, WaterloggingThresholds
from vision.schedule import RoleSchedule
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

logger = logging.getLogger(__name__)


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
    if rule == "street_vending":
        return frozenset({"vendor" if camera.kind == "eagle_eye" else "person"})
    return RULE_ROLES[rule]


RULE_ROLES = {
    "crowding": frozenset({"person"}),
    "garbage": frozenset({"garbage"}),
    "missing_helmet": frozenset({"helmet"}),
    "waterlogging": frozenset({"water"}),
}


def camera_roles(cameras: Iterable[CameraConfig]) -> frozenset[str]:
    """Every detector role the zones of ``cameras`` need."""
    return frozenset(
        role
        for camera in cameras
        for zone in camera.zones
        for rule in zone.rule_names()
        for role in rule_needs(camera, rule)
    )


def _thresholds(cls: type, settings: dict) -> Any:
    """A rule's frozen thresholds from config settings (lists become tuples)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})


def build_rules(config: Config, camera: CameraConfig) -> list[Rule]:
    rules: list[Rule] = []
    for zone_config, zone in zip(camera.zones, build_zones(config, camera), strict=True):
        for name in zone_config.rule_names():
            settings = config.rule_settings(zone_config, name).model_dump()
            if name == "crowding":
                rules.append(
                    CrowdingRule(camera.id, zone, _thresholds(CrowdingThresholds, settings))
                )
            elif name == "street_vending":
                thresholds = _thresholds(StreetVendingThresholds, settings)
                needs = rule_needs(camera, name)
                rules.append(StreetVendingRule(camera.id, zone, thresholds, needs=needs))
            elif name == "garbage":
                rules.append(GarbageRule(camera.id, zone, _thresholds(GarbageThresholds, settings)))
            elif name == "missing_helmet":
                thresholds = _thresholds(MissingHelmetThresholds, settings)
                rules.append(MissingHelmetRule(camera.id, zone, thresholds))
            elif name == "waterlogging":
                if settings["reference"] is not None:
                    settings["reference"] = str(config.resolve(settings["reference"]))
                thresholds = _thresholds(WaterloggingThresholds, settings)
                rules.append(WaterloggingRule(camera.id, zone, thresholds))
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
        suppressions: SuppressionStore | None = None,
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
