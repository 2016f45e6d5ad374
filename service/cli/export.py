"""``streetwatch export dataset``: the reviewed cases as a YOLO dataset (wired into service.cli)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import DEFAULT_DEMO_CONFIG, fail
from service.config import ConfigError, load_config
from vision.types import parse_iso

DEFAULT_CONFIG = DEFAULT_DEMO_CONFIG

export_app = typer.Typer(help="Export review results for training.", no_args_is_help=True)


def parse_since(text: str) -> datetime:
    """ISO 8601 date or time; a time without a zone is UTC."""
    try:
        moment = parse_iso(text)
    except ValueError:
        raise ValueError(
            f"--since: '{text}' is not an ISO 8601 date or time (e.g. 2026-11-01 or "
            "2026-11-01T08:00:00+08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@export_app.command("dataset")
def dataset(
    since: Annotated[
        str, typer.Option(help="Cases reviewed at or after this ISO 8601 time", show_default=False)
    ],
    out: Annotated[Path, typer.Option(help="Output folder (new, empty or an earlier export)")],
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Config file (YAML)")
    ] = DEFAULT_CONFIG,
    clean_only: Annotated[
        bool,
        typer.Option(help="Only images without drawings (events that kept a clean frame)"),
    ] = False,
    val_share: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of cases in the validation split")
    ] = 0.2,
) -> None:
    """Write confirmed cases (positives, their boxes as labels) and rejected ones (hard
    negatives: empty labels, rejected boxes in rejected_boxes.jsonl) as a YOLO dataset."""
    from service.cases.store import CaseStore
    from service.feedback.dataset_export import ExportError, export_dataset

    try:
        moment = parse_since(since)
    except ValueError as exc:
        fail(str(exc), code=2)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        fail(str(exc), code=2)
    try:
        summary = export_dataset(
            CaseStore(cfg.cases_url),
            cfg.evidence_path,
            out,
            moment,
            clean_only=clean_only,
            val_share=val_share,
        )
    except ExportError as exc:
        fail(str(exc), code=2)
    except OSError as exc:
        fail(f"cannot write the dataset to {out} ({exc})", code=1)
    typer.echo(
        f"export: {summary.positives} positives ({summary.boxes} boxes), "
        f"{summary.negatives} hard negatives -> {summary.out / 'data.yaml'} "
        f"(train {summary.splits['train']}, val {summary.splits['val']})"
    )
    if summary.from_snapshots:
        typer.echo(
            f"note: {summary.from_snapshots} images are snapshots with boxes drawn (no clean "
            "frame kept); --clean-only leaves them out"
        )
    for why, count in sorted(summary.skipped.items()):
        typer.echo(f"skipped {count}: {why}")
