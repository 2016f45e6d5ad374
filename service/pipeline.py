"""One camera's chain: frames -> detector -> rules -> dedup -> evidence -> sinks."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.config import CameraConfig, Config
from service.sinks import EventSink, EvidenceWriter
from service.suppressions import SuppressionStore
from vision.dedup import DedupSettings, EventDeduplicator, EventUpdate
from vision.detectors.base import Detector
from vision.rules.crowding import CrowdingRule, CrowdingThresholds
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


def build_rules(config: Config, camera: CameraConfig) -> list[CrowdingRule]:
    rules = []
    for zone_config, zone in zip(camera.zones, build_zones(config, camera), strict=True):
        if zone_config.rules.crowding is not None:
            settings = config.crowding_for(zone_config)
            thresholds = CrowdingThresholds(**settings.model_dump())
            rules.append(CrowdingRule(camera.id, zone, thresholds))
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
        detector: Detector,
        source_key: str,
        sinks: Sequence[EventSink],
        *,
        live: bool = False,
        suppressions: SuppressionStore | None = None,
    ) -> None:
        self.camera = camera
        self.detector = detector
        self.rules = build_rules(config, camera)
        self.dedup = EventDeduplicator(camera.id, source_key, dedup_settings(config, live=live))
        polygons = {(camera.id, z.name): z.polygon for z in build_zones(config, camera)}
        self.evidence = EvidenceWriter(config.evidence_path, polygons)
        self.sinks = list(sinks)
        self.suppressions = suppressions
        self.suppressed = 0
        self.times = StageTimes()

    def process(self, frame: Frame) -> list[EventUpdate]:
        started = time.perf_counter()
        dets = self.detector.detect([frame.image])[0]
        detected = time.perf_counter()
        updates = self.observe(frame, dets)
        self.times.detect_s += detected - started
        return updates

    def observe(self, frame: Frame, dets: Detections) -> list[EventUpdate]:
        """Rules, dedup and sinks for a frame already run through the detector (boxes in the
        frame's own pixels; scaled here to source pixels when the decoder downscaled)."""
        started = time.perf_counter()
        if frame.scale != 1.0 and len(dets):
            dets = Detections(dets.xyxy * frame.scale, dets.label, dets.score)
        candidates: list[Candidate] = []
        for rule in self.rules:
            candidates.extend(rule.update(frame, dets))
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
