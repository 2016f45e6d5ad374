"""``streetwatch eval detector|events``: a detector's box metrics on a labelled split
(``models.evaluation``), and event-level precision, recall and F1 per violation type against a
golden file (``service.feedback.golden``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli.common import fail, user_errors

eval_app = typer.Typer(
    help="Evaluate models on labelled data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@eval_app.callback()
def _eval() -> None:
    """Evaluate models on labelled data."""
    os.environ.setdefault("YOLO_OFFLINE", "1")


def format_report(report: Any) -> str:
    """Per-class precision, recall, mAP50 and mAP50-95 as an aligned text table."""
    header = (
        f"{'class':<16} {'instances':>9} {'precision':>9} {'recall':>7} {'mAP50':>7} "
        f"{'mAP50-95':>8}"
    )
    rows = [
        f"{report.model} on {report.data} [{report.split}], {report.images} images, "
        f"imgsz {report.imgsz}",
        header,
    ]
    for name, m in report.per_class.items():
        rows.append(
            f"{name:<16} {m.instances:>9d} {m.precision:>9.3f} {m.recall:>7.3f} "
            f"{m.ap50:>7.3f} {m.ap50_95:>8.3f}"
        )
    total = sum(m.instances for m in report.per_class.values())
    rows.append(
        f"{'all':<16} {total:>9d} {report.precision:>9.3f} {report.recall:>7.3f} "
        f"{report.map50:>7.3f} {report.map50_95:>8.3f}"
    )
    if report.absent:
        rows.append(f"no labelled instances of: {', '.join(report.absent)}")
    return "\n".join(rows)


@eval_app.command("detector")
def eval_detector(
    model: Annotated[str, typer.Option(help="Registry name or weight file")],
    data: Annotated[Path, typer.Option(help="YOLO data.yaml")],
    split: Annotated[str, typer.Option(help="Split to evaluate: train, val or test")] = "val",
    imgsz: Annotated[
        int | None, typer.Option(help="Image size (default: the registry's, else the trained)")
    ] = None,
    batch: Annotated[int, typer.Option(help="Images per batch")] = 8,
    device: Annotated[str, typer.Option(help="cpu or cuda:N (or N)")] = "cpu",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch")] = None,
    limit: Annotated[
        int | None, typer.Option(help="Evaluate only the first N images of the split")
    ] = None,
    runtime: Annotated[
        str,
        typer.Option(help="torch (the weights as they are), openvino or onnx (their export)"),
    ] = "torch",
    int8: Annotated[
        bool, typer.Option("--int8", help="The INT8 OpenVINO export (its registry calibration)")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="End with one JSON object line of the figures")
    ] = False,
) -> None:
    """Precision, recall, mAP50 and mAP50-95 per class of a detector on a dataset split."""
    from models.evaluation import evaluate

    try:
        report = evaluate(
            model,
            data,
            split=split,
            imgsz=imgsz,
            batch=batch,
            device=device,
            limit=limit,
            threads=threads,
            runtime=runtime,
            int8=int8,
        )
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))


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
    from service.feedback.golden import GoldenError, GoldenVideo, evaluate, load_golden
    from service.queue.base import QueueError
    from streams.ffmpeg_tools import VideoError
    from vision.detectors.base import ModelFileError
    from vision.rules.registry import EVENT_TYPES

    try:
        cfg = load_config(config)
        gold = load_golden(golden)
    except (ConfigError, GoldenError) as exc:
        fail(str(exc), code=2)
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
        fail(str(exc), code=2)
    except (VideoError, ModelFileError, RegistryError, QueueError) as exc:
        fail(str(exc))

    # piped output (a file, CI logs) is not cut to 80 columns
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"events vs {golden} ({len(gold.videos)} video(s))", box=box.SIMPLE_HEAD)
    for column in ("type", "golden", "events", "tp", "fp", "fn", "precision", "recall", "f1"):
        if column == "type":
            table.add_column(column, no_wrap=True, min_width=max(map(len, EVENT_TYPES)))
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


@eval_app.command("count")
def eval_count(
    data: Annotated[
        Path,
        typer.Option(help="Folder with images/NAME.jpg and points/NAME.txt ('x y' per person)"),
    ],
    model: Annotated[str, typer.Option(help="Person detector (registry name)")] = "yolox-nano-coco",
    tiling: Annotated[
        bool, typer.Option("--tiling/--no-tiling", help="Tiles 0.4 of the frame width (crowds)")
    ] = True,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="People below this score are not counted")
    ] = 0.25,
    runtime: Annotated[str, typer.Option(help="openvino, onnx or torch")] = "openvino",
    as_json: Annotated[
        bool, typer.Option("--json", help="End with one JSON object line of the figures")
    ] = False,
) -> None:
    """People counted per image against point labels: per-image error, MAE, MAE as % of the true
    total (mae_percent) and bias (mean signed error: below 0 counts short)."""
    from models.eval_count import CountEvalError, evaluate_count
    from models.loader import load_detector
    from vision.counting import BodyCounter, ScaledTiledDetector

    try:
        detector = load_detector(model, conf=min(min_score, 0.25), runtime=runtime)
    except user_errors() as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc), code=2)
    counter = BodyCounter(ScaledTiledDetector(detector) if tiling else detector, min_score)
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]eval count"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err,
    )  # fmt: skip
    task = progress.add_task("", total=None)

    def on_image(done: int, total: int, name: str) -> None:
        progress.update(task, completed=done, total=total)

    try:
        with progress:
            result = evaluate_count(data, counter, on_image)
    except CountEvalError as exc:
        fail(str(exc))
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"{counter.name} on {data}", box=box.SIMPLE_HEAD)
    for column in ("image", "true", "counted", "error"):
        table.add_column(column, justify="left" if column == "image" else "right")
    for item in result.images:
        table.add_row(item.name, str(item.true), str(item.predicted), f"{item.error:+d}")
    console.print(table)
    figures = result.summary()
    console.print(
        f"{figures['images']} images: MAE {result.mae:.2f}, mae_percent {result.mae_percent:.1f}%,"
        f" bias {result.bias:+.2f}, {result.seconds_per_image:.3f} s/image",
        highlight=False,
    )
    if as_json:
        per_image = [
            {"name": i.name, "true": i.true, "predicted": i.predicted} for i in result.images
        ]
        typer.echo(json.dumps({"counter": counter.name, **figures, "per_image": per_image}))
