"""``streetwatch config check``: validate a config and print it resolved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import load_or_exit

config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Config file")]) -> None:
    """Validate a config and print it resolved (defaults filled in, paths absolute, ``${VAR}``
    expanded, passwords in URLs shown as ***)."""
    cfg = load_or_exit(path)
    typer.echo(json.dumps(cfg.shown(), indent=2))
