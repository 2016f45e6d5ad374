"""``streetwatch replay``: a video file through the whole pipeline, as fast as it goes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import ConfigOption, fail, load_or_exit
from service.queue.base import redact


def replay(
    video: Annotated[Path, typer.Argument(help="Video file to replay as a camera")],
    config: ConfigOption,
    camera: Annotated[str | None, typer.Option(help="Camera id from the config")] = None,
    events_out: Annotated[
        Path | None, typer.Option("--events-out", help="Write one JSON object per event here")
    ] = None,
    realtime: Annotated[bool, typer.Option(help="Pace frames at the video's own speed")] = False,
    start_time: Annotated[
        str | None,
        typer.Option(help="UTC time of the first frame (ISO 8601); default: now"),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Run a video file through the whole pipeline into the queue (and a JSONL file)."""
    from models.registry import RegistryError
    from service.edge.replay import replay as run_replay
    from service.queue.base import QueueError
    from streams.ffmpeg_tools import VideoError
    from vision.detectors.base import ModelFileError

    cfg = load_or_exit(config)
    anchor = None
    if start_time is not None:
        try:
            anchor = datetime.fromisoformat(start_time)
        except ValueError:
            fail(f"--start-time: '{start_time}' is not an ISO 8601 time", code=2)
        if anchor.tzinfo is None:
            fail(f"--start-time: '{start_time}' has no time zone (add Z or +08:00)", code=2)
    try:
        result = run_replay(
            cfg,
            video,
            camera_id=camera,
            events_out=events_out,
            realtime=realtime,
            start_time=anchor,
            show_progress=progress,
        )
    except KeyError as exc:
        fail(str(exc.args[0]), code=2)
    except (VideoError, ModelFileError, RegistryError, QueueError) as exc:
        fail(str(exc))
    typer.echo(
        f"{result.camera_id}: {result.frames} frames in {result.seconds:.1f}s "
        f"({result.fps:.1f} frames/s, model {result.model}); {result.events} events, "
        f"queue {redact(cfg.queue_url)}" + (f", events in {events_out}" if events_out else "")
    )
