"""``streetwatch bench queue|pipeline``: the benchmarks in ``benchmarks/``, which print tables."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.common import fail

bench_app = typer.Typer(help="Benchmarks that print tables.", no_args_is_help=True)


@bench_app.command("queue")
def bench_queue(
    backend: Annotated[str, typer.Option(help="sqlite or redis")] = "sqlite",
    producers: Annotated[int, typer.Option(min=1, max=64)] = 4,
    events: Annotated[int, typer.Option(min=1, max=1_000_000, help="per producer")] = 10_000,
    url: Annotated[
        str | None, typer.Option(help="Queue URL (default: a temporary one of the backend)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """N producer processes post M events each (with re-posts); one consumer counts arrivals."""
    from benchmarks.queue_bench import bench

    if backend not in ("sqlite", "redis"):
        fail(f"--backend: '{backend}' is not sqlite or redis", code=2)
    try:
        result = bench(backend, producers, events, url)
    except RuntimeError as exc:
        fail(str(exc))
    typer.echo(
        f"{'backend':8} {'producers':>9} {'events':>8} {'posts':>8} {'deliveries':>10} "
        f"{'events/s':>9} {'lost':>5} {'duplicated':>10}"
    )
    typer.echo(
        f"{result['backend']:8} {result['producers']:>9} {result['distinct_events']:>8} "
        f"{result['posts']:>8} {result['deliveries']:>10} {result['events_per_s']:>9.0f} "
        f"{result['lost']:>5} {result['duplicated']:>10}"
    )
    if as_json:
        typer.echo(json.dumps(result))
    if result["lost"] or result["duplicated"]:
        raise typer.Exit(1)


@bench_app.command(
    "pipeline",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],  # --help goes to the script: it lists every option
    },
)
def bench_pipeline(ctx: typer.Context) -> None:
    """streetwatch vs. the naive Ultralytics loop on live cameras, or the scaling curve
    (benchmarks/pipeline.py; options passed through: --cameras N --duration S --fps F
    --model NAME --rules crowding|all --inputs 1080p|mixed --sweep 2,4,6 --static-every S
    --skip-unchanged X --runtime R --no-baseline --json; --help lists them all)."""
    from benchmarks import pipeline

    pipeline.main(list(ctx.args))
