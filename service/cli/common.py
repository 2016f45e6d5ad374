"""What every command shares: one ``fail``, the ``--config`` option, loading a config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from service.config import Config, ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DEMO_CONFIG = REPO / "configs" / "demo.yaml"
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (YAML)", show_default=False)
]


def fail(message: str, code: int = 1) -> NoReturn:
    """One ``error:`` line on stderr, then exit ``code`` (1: unusable input, 2: bad arguments)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc), code=2)


def user_errors() -> tuple[type[Exception], ...]:
    """What bad model or dataset input raises (one ``error:`` line, exit 1), never a traceback."""
    from models.datasets import DatasetError
    from models.evaluation import EvaluationError
    from models.registry import RegistryError
    from models.training import TrainingError
    from vision.detectors.base import ModelFileError

    return DatasetError, EvaluationError, ModelFileError, RegistryError, TrainingError
