"""Replay a video file through the whole pipeline, as fast as possible or at real time."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from service.config import CameraConfig, Config
from service.edge.detector_set import DetectorSet
from service.edge.pipeline import CameraPipeline, StageTimes, camera_roles
from service.edge.sinks import EventSink, JsonlSink, QueueSink
from service.queue import open_queue
from service.queue.spool import open_spool
from streams.file_source import FileSource
from vision.detectors.base import Detector

logger = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    camera_id: str
    video: str
    frames: int
    seconds: float
    events: int
    posted: int
    model: str
    times: StageTimes

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def pick_camera(config: Config, camera_id: str | None) -> CameraConfig:
    if camera_id is not None:
        return config.camera(camera_id)
    if len(config.cameras) > 1:
        known = ", ".join(c.id for c in config.cameras)
        raise KeyError(
            f"the config has {len(config.cameras)} cameras ({known}); pick one with --camera"
        )
    return config.cameras[0]


def load_detectors(config: Config, cameras: list[CameraConfig]) -> DetectorSet:
    """The detectors the zones of ``cameras`` need, loaded now (a missing model fails here)."""
    detectors = DetectorSet(config)
    detectors.preload(camera_roles(cameras))
    return detectors


def replay(
    config: Config,
    video: str | Path,
    *,
    camera_id: str | None = None,
    events_out: Path | None = None,
    realtime: bool = False,
    start_time: datetime | None = None,
    detector: Detector | None = None,
    show_progress: bool = True,
) -> ReplayResult:
    """Run ``video`` as camera ``camera_id`` through detection, rules, dedup, evidence, the
    queue and (optionally) a JSONL file. Returns what happened."""
    camera = pick_camera(config, camera_id)
    anchor = (start_time or datetime.now(UTC)).astimezone(UTC)
    source = FileSource(camera.id, video, camera.analysis_fps, anchor)
    detectors = DetectorSet(config, person=detector)
    detectors.preload(camera_roles([camera]))
    model_name = ", ".join(f"{role}={name}" for role, name in sorted(detectors.names.items()))
    queue = open_queue(config.queue_url)
    spool = open_spool(queue, config.data_dir / "spool") if config.queue.spool else None
    sinks: list[EventSink] = [QueueSink(spool or queue)]
    with ExitStack() as stack:
        if spool is not None:
            spool.start()
            stack.callback(spool.stop)
        jsonl = None
        if events_out is not None:
            events_out.parent.mkdir(parents=True, exist_ok=True)
            jsonl = JsonlSink(stack.enter_context(events_out.open("w", encoding="utf-8")))
            sinks.append(jsonl)
        pipeline = CameraPipeline(config, camera, detectors, source.source_key, sinks)
        progress = stack.enter_context(
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[fps]:.1f} frames/s"),
                TextColumn("events {task.fields[events]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                disable=not show_progress,
                transient=False,
            )
        )
        task = progress.add_task(
            f"replay {camera.id}", total=source.expected_frames, fps=0.0, events=0
        )
        started = time.perf_counter()
        for frame in source:
            if realtime:
                delay = frame.pts - (time.perf_counter() - started)
                if delay > 0:
                    time.sleep(delay)
            pipeline.process(frame)
            elapsed = time.perf_counter() - started
            progress.update(
                task,
                advance=1,
                fps=pipeline.times.frames / elapsed if elapsed > 0 else 0.0,
                events=pipeline.times.events_opened,
            )
        pipeline.finish()
        seconds = time.perf_counter() - started
        progress.update(task, total=pipeline.times.frames, completed=pipeline.times.frames)
    if spool is not None and spool.spooled:
        logger.warning(
            "%d events could not reach the queue %s and wait in %s for the next run",
            spool.spooled,
            config.queue_url,
            spool.path,
        )
    return ReplayResult(
        camera_id=camera.id,
        video=str(video),
        frames=pipeline.times.frames,
        seconds=seconds,
        events=pipeline.times.events_opened,
        posted=sinks[0].posted,  # type: ignore[attr-defined]
        model=model_name,
        times=pipeline.times,
    )
