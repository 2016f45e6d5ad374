"""``streetwatch train detector``: fine-tune a YOLO detector with Ultralytics (``models.training``)
and ship its weights and model card into ``models/``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from service.cli.common import fail, user_errors
from service.cli.eval import format_report

train_app = typer.Typer(
    help="Train models with Ultralytics and ship them into models/.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@train_app.callback()
def _train() -> None:
    """Train models with Ultralytics and ship them into models/."""
    os.environ.setdefault("YOLO_OFFLINE", "1")


def _parse_settings(settings: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            fail(f"--set {setting!r}: expected KEY=VALUE, e.g. --set freeze=10", code=2)
        options[key.strip()] = yaml.safe_load(value) if value else None
    return options


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
    except user_errors() as exc:
        fail(str(exc))
    size_mb = result.weights.stat().st_size / 1e6
    typer.echo(f"\nweights: {result.weights} ({size_mb:.1f} MB)")
    typer.echo(f"card:    {result.card}")
    typer.echo(f"run:     {result.run_dir}")
    typer.echo(f"trained {result.epochs} epochs in {result.seconds / 60:.1f} min\n")
    typer.echo(format_report(result.report))
    typer.echo("\nadd this entry under `models:` in models/registry.yaml:\n")
    typer.echo(result.registry_entry)
