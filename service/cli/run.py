"""``streetwatch run``, ``serve`` and ``demo``: the one place that builds the long-running
services (case service, API server, live worker), starts them in order and stops them in reverse."""

from __future__ import annotations

import signal
import threading
import time
from typing import Annotated

import typer

from service.cli.common import DEFAULT_DEMO_CONFIG, ConfigOption, fail, load_or_exit
from service.config import Config
from service.queue.base import redact


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
    from service.cases.suppressions import SuppressionStore
    from service.edge.replay import load_detectors
    from service.edge.worker import LiveWorker
    from service.queue.base import QueueError
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
            suppressions = SuppressionStore(
                cfg.cases_url,
                default_hours=cfg.feedback.suppression_hours,
                min_overlap=cfg.feedback.suppression_min_overlap,
                refresh_s=5,
            )
            worker = LiveWorker(
                cfg, detectors, camera_ids=camera or None, suppressions=suppressions
            )
        except KeyError as exc:
            fail(str(exc.args[0]), code=2)
        except (ModelFileError, RegistryError, QueueError) as exc:
            fail(str(exc))
        typer.echo(
            f"streetwatch run: {len(worker.cameras)} camera(s), models {model}, "
            f"queue {redact(cfg.queue_url)}"
        )
    _run_service(cfg, cfg.server.host, port or cfg.server.port, worker, serve=not worker_only)
    if worker is not None:
        typer.echo("streetwatch run: stopped; decoders terminated")


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

    from service.cases.service import CaseService, build_notifier
    from service.queue import open_queue
    from service.web.app import create_app

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = cases = None
    if serve:
        from service.web.auth import assert_bind_allowed

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


def demo(
    config: ConfigOption = DEFAULT_DEMO_CONFIG,
    fast: Annotated[
        bool, typer.Option(help="Replay as fast as possible, not at real time")
    ] = False,
    serve_ui: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the UI")] = True,
    port: Annotated[int | None, typer.Option(help="Port (default from config)")] = None,
) -> None:
    """Replay the demo clip as camera demo-01 into the queue and serve the review UI."""
    from service.cli.demo_assets import AssetError, demo_clip
    from service.edge.replay import replay as run_replay

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
