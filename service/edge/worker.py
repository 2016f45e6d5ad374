"""The live worker: many cameras in one process, one shared detector, batches across cameras.

Each camera has a supervised decoder (streams.live_source) that keeps only its newest frame; the
worker loop takes every camera's fresh frame and runs the detector once on the whole batch; each
camera's rules, dedup, evidence and the queue then run on the rules thread
(service.edge.ordered_stage) while the loop already detects the next batch. Camera health is
stored for the API, and a camera offline for too long becomes a ``camera_offline`` event,
deduplicated like any other.
"""

from __future__ import annotations

import heapq
import logging
import os
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from models.files import sha256_of
from service.config import CameraConfig, Config
from service.edge.detector_set import DetectorSet
from service.edge.health_store import open_health_store
from service.edge.leases import CameraLeases
from service.edge.ordered_stage import OrderedStage
from service.edge.pipeline import CameraPipeline, Suppressions, camera_roles
from service.edge.sinks import EventSink, QueueSink
from service.queue import open_queue
from service.queue.base import EventQueue, QueueError
from service.queue.spool import SpoolingQueue, open_spool
from streams.clip_ring import export_clip
from streams.live_source import HealthState, LiveSettings, LiveSource
from streams.memory import pin_mmap_threshold
from vision.dedup import Change, EventUpdate
from vision.detectors.base import Detector
from vision.types import Candidate, Detections, Frame, parse_iso

logger = logging.getLogger(__name__)

CAMERA_OFFLINE = "camera_offline"
CAMERA_ZONE = "camera"


def live_settings(config: Config, camera: CameraConfig) -> LiveSettings:
    live = config.live
    return LiveSettings(
        analysis_fps=camera.analysis_fps,
        gop_s=camera.gop_s,
        sampling=camera.sampling,
        max_width=camera.max_width,
        hwaccel=live.hwaccel,
        decoder_threads=live.decoder_threads,
        open_timeout_s=live.open_timeout_s,
        io_timeout_s=live.io_timeout_s,
        stall_timeout_s=live.stall_timeout_s,
        backoff_initial_s=live.backoff_initial_s,
        backoff_max_s=live.backoff_max_s,
        frozen_after_s=live.frozen_after_s,
        segment_dir=(config.data_dir / "ring" / camera.id) if live.clips else None,
        segment_s=live.segment_s,
        segment_count=max(4, int((live.clip_pre_s + live.clip_post_s) / live.segment_s) + 6),
        loop_file=live.loop_files,
    )


@dataclass(order=True)
class _ClipJob:
    due: float
    event_id: str
    camera_id: str
    start: datetime
    end: datetime


class ClipSink:
    """Cuts an evidence clip (``clip_pre_s`` before to ``clip_post_s`` after the event opened)
    from the camera's segment ring once the "after" part is recorded, and stamps it on the event.

    Put it before the queue sink: it stamps clips already cut on every update it sees."""

    def __init__(
        self,
        queue: EventQueue,
        evidence_dir: Path,
        segment_dirs: dict[str, Path],
        pre_s: float,
        post_s: float,
        segment_s: float,
    ) -> None:
        self.queue = queue
        self.evidence_dir = evidence_dir
        self.segment_dirs = segment_dirs
        self.pre_s, self.post_s, self.segment_s = pre_s, post_s, segment_s
        self._jobs: list[_ClipJob] = []
        self._done: dict[str, tuple[str, str]] = {}
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="clips", daemon=True)
        self._thread.start()
        self.exported = 0

    def post(self, update: EventUpdate) -> None:
        event = update.event
        with self._lock:
            if event.id in self._done:
                event.clip, event.clip_sha256 = self._done[event.id]
                if update.change is Change.FINAL:  # no later update needs it: bounded memory
                    del self._done[event.id]
            is_new = update.change is Change.OPENED and event.observations == 1
            has_video = event.type != CAMERA_OFFLINE and event.camera_id in self.segment_dirs
            if is_new and has_video:
                opened = parse_iso(event.last_seen)
                due = time.time() + self.post_s + 2 * self.segment_s + 0.5
                heapq.heappush(
                    self._jobs,
                    _ClipJob(
                        due,
                        event.id,
                        event.camera_id,
                        opened - timedelta(seconds=self.pre_s),
                        opened + timedelta(seconds=self.post_s),
                    ),
                )
                self._lock.notify()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._jobs:
                    self._lock.wait(1.0)
                    continue
                wait = self._jobs[0].due - time.time()
                if wait > 0:
                    self._lock.wait(min(wait, 1.0))
                    continue
                job = heapq.heappop(self._jobs)
            self._export(job)

    def _export(self, job: _ClipJob) -> None:
        target = self.evidence_dir / job.camera_id / f"{job.event_id}.mp4"
        try:
            path = export_clip(
                self.segment_dirs[job.camera_id], job.start, job.end, target, self.segment_s
            )
        except Exception:  # a clip is best-effort evidence; never take the worker down
            logger.exception("%s: clip for event %s failed", job.camera_id, job.event_id)
            return
        if path is None:
            return
        digest = sha256_of(path)
        with self._lock:
            self._done[job.event_id] = (str(path), digest)
        try:
            event = self.queue.get(job.event_id)
            if event is not None:
                self.queue.post(event.model_copy(update={"clip": str(path), "clip_sha256": digest}))
        except QueueError as exc:  # the next update of the event carries the clip anyway
            logger.warning("%s: clip of %s not posted yet (%s)", job.camera_id, job.event_id, exc)
        self.exported += 1
        logger.info("%s: clip %s", job.camera_id, path)


class LiveWorker:
    """Runs the configured cameras until ``stop`` is set; decoders never outlive it.

    With a Redis queue, cameras are shared between workers by Redis leases (a worker runs the
    cameras it holds; a dead worker's cameras move to the others within the lease TTL), and
    events are spooled to disk while Redis is unreachable."""

    def __init__(
        self,
        config: Config,
        detectors: DetectorSet | Detector,
        camera_ids: list[str] | None = None,
        *,
        max_batch: int = 16,
        extra_sinks: list[EventSink] | None = None,
        suppressions: Suppressions | None = None,
    ) -> None:
        """``suppressions``: what reviewers suppressed (candidates they cover are dropped);
        ``streetwatch run`` passes the case database's ``SuppressionStore``."""
        pin_mmap_threshold()
        self.config = config
        if not isinstance(detectors, DetectorSet):
            detectors = DetectorSet(config, person=detectors)
        self.detectors = detectors
        chosen_ids = camera_ids or [c.id for c in config.cameras]
        detectors.preload(camera_roles(config.camera(c) for c in chosen_ids))
        self.max_batch = max_batch
        self.extra_sinks = list(extra_sinks or [])
        chosen = [config.camera(c) for c in camera_ids] if camera_ids else config.cameras
        self.cameras: dict[str, CameraConfig] = {c.id: c for c in chosen}
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        backend = open_queue(config.queue_url)
        self.spool: SpoolingQueue | None = None
        self.queue: EventQueue = backend
        if config.queue.spool:
            self.spool = open_spool(backend, config.data_dir / "spool")
            self.queue = self.spool
        self.leases: CameraLeases | None = None
        if config.queue.networked:
            self.leases = CameraLeases(config.queue_url, self.worker_id, config.queue.lease_ttl_s)
        self.health_store = open_health_store(config.queue_url)
        self.sources: dict[str, LiveSource] = {}
        self.pipelines: dict[str, CameraPipeline] = {}
        segment_dirs: dict[str, Path] = {}
        for camera in chosen:
            segment_dir = live_settings(config, camera).segment_dir
            if segment_dir is not None:
                segment_dirs[camera.id] = segment_dir
        live = config.live
        self.clips = ClipSink(
            self.queue,
            config.evidence_path,
            segment_dirs,
            live.clip_pre_s,
            live.clip_post_s,
            live.segment_s,
        )
        self._queue_sink = QueueSink(self.queue)
        self.suppressions = suppressions
        self._last_index: dict[str, int] = {}
        self._analysed_before: Counter[str] = Counter()
        self.batches = 0
        self.detect_s = 0.0
        self.latencies: deque[float] = deque(maxlen=100_000)
        """Seconds from frame capture to its events posted, newest last (bounded)."""
        self._rules = OrderedStage("rules")
        """Every use of a running camera's pipeline goes through this one thread, in order."""

    def run(self, stop: threading.Event) -> None:
        if self.spool is not None:
            self.spool.start()
        lease_every = self.config.queue.lease_ttl_s / 3
        last_health = last_sync = 0.0
        try:
            self._sync_cameras()
            last_sync = time.monotonic()
            while not stop.is_set():
                frames = self._fresh_frames()
                if frames:
                    self._analyse(frames)
                else:
                    stop.wait(0.02)
                now = time.monotonic()
                if self.leases is not None and now - last_sync >= lease_every:
                    self._sync_cameras()
                    last_sync = now
                if now - last_health >= 1.0:
                    self._check_health()
                    last_health = now
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop every camera (each one's last frames through its rules, open events flushed),
        then the threads. A failure of one camera's rules is logged, never leaves the other
        decoders running."""
        for camera_id in list(self.sources):
            try:
                self._drop_camera(camera_id)
            except Exception:
                logger.exception("%s: its last frames failed in the rules", camera_id)
        try:
            self._rules.close()
        except Exception:
            logger.exception("the rules thread failed while stopping")
        self.clips.stop()
        if self.leases is not None:
            self.leases.release_all()
        if self.spool is not None:
            self.spool.stop()

    def _sync_cameras(self) -> None:
        """Start the cameras this worker owns now and stop those it no longer owns."""
        wanted = set(self.cameras)
        owned = self.leases.acquire(wanted) if self.leases is not None else wanted
        for camera_id in sorted(set(self.sources) - owned):
            logger.warning("%s: no longer owned by this worker; stopping it", camera_id)
            self._drop_camera(camera_id)
        for camera_id in sorted(owned - set(self.sources)):
            camera = self.cameras[camera_id]
            self.pipelines[camera_id] = CameraPipeline(
                self.config,
                camera,
                self.detectors,
                "live",
                [self.clips, self._queue_sink, *self.extra_sinks],
                live=True,
                suppressions=self.suppressions,
            )
            self._resume_open_events(camera_id)
            source = LiveSource(camera.id, camera.url, live_settings(self.config, camera))
            self._last_index[camera_id] = -1
            self.sources[camera_id] = source.start()

    def _resume_open_events(self, camera_id: str) -> None:
        """Events of this camera still open in the queue (a crashed or restarted worker, a
        camera moved here) continue here instead of opening duplicates."""
        events = self.config.events
        horizon = events.close_after_s + events.cooldown_s
        now = datetime.now(UTC)
        try:
            recent = self.queue.list(camera_id=camera_id, limit=100).items
        except QueueError as exc:
            logger.warning("%s: cannot read open events (%s); starting fresh", camera_id, exc)
            return
        still_open = [
            e
            for e in recent
            if e.status == "open" and (now - parse_iso(e.last_seen)).total_seconds() <= horizon
        ]
        if still_open:
            logger.info("%s: resuming %d open event(s)", camera_id, len(still_open))
            self.pipelines[camera_id].dedup.resume(still_open, pts=0.0)

    def _drop_camera(self, camera_id: str) -> None:
        source = self.sources.pop(camera_id)
        source.stop()
        self._rules.drain()  # the camera's last frames are through its rules before it finishes
        self._store_health([source.health()])
        pipeline = self.pipelines.pop(camera_id)
        pipeline.finish()
        self._analysed_before[camera_id] += pipeline.times.frames

    def frames_analysed(self) -> dict[str, int]:
        counts = Counter(self._analysed_before)
        for camera_id, pipeline in self.pipelines.items():
            counts[camera_id] += pipeline.times.frames
        return {camera_id: counts[camera_id] for camera_id in self.cameras}

    def _fresh_frames(self) -> list[Frame]:
        frames = []
        for camera_id, source in self.sources.items():
            frame = source.latest(self._last_index[camera_id])
            if frame is not None:
                self._last_index[camera_id] = frame.index
                frames.append(frame)
        return frames

    def _analyse(self, frames: list[Frame]) -> None:
        """One pass over every camera's fresh frame: each detector runs once on the batch of
        frames that need it (see vision.schedule); each camera's rules then run on the rules
        thread while the next batch is detected."""
        pipelines = [self.pipelines[f.camera_id] for f in frames]
        due = [pipeline.schedule.due(f) for pipeline, f in zip(pipelines, frames, strict=True)]
        began = time.perf_counter()
        detections = self.detectors.detect(frames, due, self.max_batch)
        self.detect_s += time.perf_counter() - began
        self.batches = self.detectors.batches
        self._rules.submit(self._observe, pipelines, frames, detections, due)

    def _observe(
        self,
        pipelines: list[CameraPipeline],
        frames: list[Frame],
        detections: list[Detections],
        due: list[frozenset[str]],
    ) -> None:
        """On the rules thread: each camera's rules, dedup and sinks for its detected frame."""
        for pipeline, frame, dets, fresh in zip(pipelines, frames, detections, due, strict=True):
            pipeline.observe(frame, dets, fresh)
            self.latencies.append((datetime.now(UTC) - frame.wall).total_seconds())

    def _check_health(self) -> None:
        healths = self._store_health()
        now = datetime.now(UTC)
        for health in healths:
            down = health.state is HealthState.OFFLINE or (
                health.state is HealthState.STARTING and health.restarts > 0
            )
            if not down:
                continue
            down_for = (now - health.since).total_seconds()
            if down_for < self.config.live.offline_event_after_s:
                continue
            source = self.sources[health.camera_id]
            last = source.last_frame
            image = last.image if last is not None else np.zeros((360, 640, 3), np.uint8)
            frame = Frame(health.camera_id, -1, source.clock(), now, image, 1.0)
            candidate = Candidate(
                type=CAMERA_OFFLINE,
                camera_id=health.camera_id,
                zone=CAMERA_ZONE,
                pts=frame.pts,
                wall=now,
                score=1.0,
                boxes=[],
                started_pts=frame.pts - down_for,
            )
            self._rules.submit(self.pipelines[health.camera_id].report, frame, [candidate])

    def _store_health(self, healths=None):  # noqa: ANN001
        if healths is None:
            healths = [source.health() for source in self.sources.values()]
        try:
            self.health_store.write(healths, self.frames_analysed(), self.worker_id)
        except Exception as exc:  # noqa: BLE001 - health is advisory; the next tick retries
            logger.warning("cannot store camera health (%s); retrying next second", exc)
        return healths
