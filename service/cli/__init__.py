"""The ``streetwatch`` command line: one Typer app; each command group lives in its own module."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from service.cli.bench import bench_app
from service.cli.config import config_app
from service.cli.eval import eval_app
from service.cli.export import export_app
from service.cli.models import models_app
from service.cli.replay import replay
from service.cli.run import demo, run, serve
from service.cli.train import train_app

app = typer.Typer(
    name="streetwatch",
    help="City street inspection: cameras in, deduplicated violation events out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (replay, run, serve, demo):
    app.command()(command)
for group, name in (
    (config_app, "config"),
    (models_app, "models"),
    (bench_app, "bench"),
    (export_app, "export"),
    (train_app, "train"),
    (eval_app, "eval"),
):
    app.add_typer(group, name=name)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs")] = False):
    os.environ.setdefault("YOLO_OFFLINE", "1")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    app(prog_name="streetwatch")
