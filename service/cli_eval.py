"""``streetwatch eval events``: event-level precision, recall and F1 per violation type against
a golden file (see ``service.eval_events``). The command sits beside ``eval detector`` on the
``eval`` group of ``service.cli_detectors``; importing this module registers it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli_detectors import eval_app


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@eval_app.command("events")
def eval_events(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Config with the cameras", show_default=False)
    ],
    golden: Annotated[
        Path, typer.Option(help="Golden file: videos and expected events", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Keep the replays' events and snapshots here (default: a temp folder)"
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="End with one JSON object line of the figures")
    ] = False,
) -> None:
    """Replay the golden videos and print event-level precision, recall and F1 per type."""
    from models.registry import RegistryError
    from service.config import ConfigError, load_config
    from service.eval_events import GoldenError, GoldenVideo, evaluate, load_golden
    from service.event_queue import QueueError
    from streams.ffmpeg_tools import VideoError
    from vision.detectors.base import ModelFileError

    try:
        cfg = load_config(config)
        gold = load_golden(golden)
    except (ConfigError, GoldenError) as exc:
        _fail(str(exc), code=2)
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]eval events"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
    )
    task = progress.add_task("", total=len(gold.videos))

    def on_video(index: int, item: GoldenVideo) -> None:
        name = f"{Path(item.video).name} as {item.camera}"
        progress.update(task, completed=index, description=name)

    try:
        with progress:
            result = evaluate(cfg, gold, work_dir=out, on_video=on_video)
            progress.update(task, completed=len(gold.videos), description="done")
    except GoldenError as exc:
        _fail(str(exc), code=2)
    except (VideoError, ModelFileError, RegistryError, QueueError) as exc:
        _fail(str(exc))

    # piped output (a file, CI logs) is not cut to 80 columns
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"events vs {golden} ({len(gold.videos)} video(s))", box=box.SIMPLE_HEAD)
    for column in ("type", "golden", "events", "tp", "fp", "fn", "precision", "recall", "f1"):
        if column == "type":
            table.add_column(column, no_wrap=True, min_width=len("illegal_dumping"))
        else:
            table.add_column(column, justify="right")
    for name, s in result.scores.items():
        table.add_row(
            name,
            str(s.tp + s.fn),
            str(s.tp + s.fp),
            str(s.tp),
            str(s.fp),
            str(s.fn),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    console.print(table)
    for e in result.matching.false_positives:
        where = f"snapshot {e.snapshot}" if out and e.snapshot else "(--out DIR keeps snapshots)"
        console.print(
            f"FP {e.type} {e.camera}/{e.zone} {e.video} {e.t0:.1f}-{e.t1:.1f}s {where}",
            highlight=False,
        )
    for g in result.matching.false_negatives:
        zone = f"/{g.zone}" if g.zone else ""
        note = f" ({g.note})" if g.note else ""
        console.print(
            f"FN {g.type} {g.camera}{zone} {g.video} {g.t0:.1f}-{g.t1:.1f}s{note}", highlight=False
        )
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
