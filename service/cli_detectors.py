"""``streetwatch train detector`` and ``streetwatch eval detector``: the command-line glue over
``models.training`` and ``models.evaluation``.

``service.cli`` mounts the two apps as ``train`` and ``eval``; until then (or for a quick try):
``python -m service.cli_detectors train detector --help``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

logger = logging.getLogger(__name__)

train_app = typer.Typer(
    help="Train models with Ultralytics and ship them into models/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(
    help="Evaluate models on labelled data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _user_errors() -> tuple[type[Exception], ...]:
    """What bad input raises (one ``error:`` line, exit 1), never a traceback."""
    from models.datasets import DatasetError
    from models.evaluation import EvaluationError
    from models.registry import RegistryError
    from models.training import TrainingError
    from vision.detectors.base import ModelFileError

    return DatasetError, EvaluationError, ModelFileError, RegistryError, TrainingError


def _parse_settings(settings: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            _fail(f"--set {setting!r}: expected KEY=VALUE, e.g. --set freeze=10", code=2)
        options[key.strip()] = yaml.safe_load(value) if value else None
    return options


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


@train_app.callback()
def _train() -> None:
    """Train models with Ultralytics and ship them into models/."""
    os.environ.setdefault("YOLO_OFFLINE", "1")


@eval_app.callback()
def _eval() -> None:
    """Evaluate models on labelled data."""
    os.environ.setdefault("YOLO_OFFLINE", "1")


@train_app.command("detector")
def train_detector(
    data: Annotated[Path, typer.Option(help="YOLO data.yaml (train and val image folders)")],
    base: Annotated[str, typer.Option(help="Registry name or .pt weights to start from")],
    epochs: Annotated[int, typer.Option(help="Training epochs")],
    name: Annotated[str, typer.Option(help="Model name: weights/NAME.pt, cards/NAME.md")],
    imgsz: Annotated[int, typer.Option(help="Training and evaluation image size")] = 640,
    device: Annotated[str, typer.Option(help="cpu or cuda:N (or N)")] = "cpu",
    batch: Annotated[int, typer.Option(help="Images per batch")] = 16,
    out: Annotated[
        Path | None, typer.Option(help="Models folder that gets weights/ and cards/")
    ] = None,
    runs_dir: Annotated[
        Path, typer.Option(help="Where Ultralytics keeps the run (last.pt, results.csv)")
    ] = Path(".streetwatch/runs"),
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch")] = None,
    workers: Annotated[int, typer.Option(help="Data loader worker processes")] = 0,
    patience: Annotated[int, typer.Option(help="Stop after this many epochs without gain")] = 50,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    limit: Annotated[
        int | None, typer.Option(help="Use only the first N images of each split (a quick try)")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="Further Ultralytics argument KEY=VALUE (repeatable)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace weights/NAME.pt if it exists")] = False,
    ship_run: Annotated[
        Path | None,
        typer.Option(
            help="Do not train: ship the best weights of this stopped run folder "
            "(RUNS_DIR/NAME), with the recipe given here for its card"
        ),
    ] = None,
) -> None:
    """Fine-tune a YOLO detector; write weights/NAME.pt, cards/NAME.md; print its registry entry."""
    from models.training import MODELS_DIR, TrainRecipe
    from models.training import ship_run as ship_stopped_run
    from models.training import train_detector as run_training

    recipe = TrainRecipe(
        data=data,
        base=base,
        epochs=epochs,
        imgsz=imgsz,
        name=name,
        device=device,
        batch=batch,
        workers=workers,
        patience=patience,
        seed=seed,
        threads=threads,
        limit=limit,
        options=_parse_settings(settings or []),
    )

    def progress(record: Any, total: int) -> None:
        typer.echo(
            f"epoch {record.epoch}/{total}: precision {record.precision:.3f} recall "
            f"{record.recall:.3f} mAP50 {record.map50:.3f} mAP50-95 {record.map50_95:.3f} "
            f"({record.seconds / 60:.1f} min)"
        )

    try:
        if ship_run is not None:
            result = ship_stopped_run(recipe, ship_run, out_dir=out or MODELS_DIR, force=force)
        else:
            result = run_training(
                recipe, out_dir=out or MODELS_DIR, runs_dir=runs_dir, force=force, on_epoch=progress
            )
    except _user_errors() as exc:
        _fail(str(exc))
    size_mb = result.weights.stat().st_size / 1e6
    typer.echo(f"\nweights: {result.weights} ({size_mb:.1f} MB)")
    typer.echo(f"card:    {result.card}")
    typer.echo(f"run:     {result.run_dir}")
    typer.echo(f"trained {result.epochs} epochs in {result.seconds / 60:.1f} min\n")
    typer.echo(format_report(result.report))
    typer.echo("\nadd this entry under `models:` in models/registry.yaml:\n")
    typer.echo(result.registry_entry)


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
    except _user_errors() as exc:
        _fail(str(exc))
    typer.echo(format_report(report))
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))


def main() -> None:
    cli = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    cli.add_typer(train_app, name="train")
    cli.add_typer(eval_app, name="eval")
    cli(prog_name="streetwatch")


if __name__ == "__main__":
    main()
