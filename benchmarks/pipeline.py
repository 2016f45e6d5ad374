"""streetwatch vs. the naive pipeline, live, on this machine.

Serves N cameras from the local RTSP server (real clips from ../shared/media: the 1080p
shopping street and the 576p PETS campus alternating, or the 1080p clip only with ``--inputs
1080p``), runs one streetwatch worker over them at the asked analysis rate with the real
detectors and rules (``--rules all``: one whole-frame zone per camera enforcing crowding,
street_vending, garbage, missing_helmet and waterlogging; ``--rules crowding``: crowding only),
then the naive baseline (Ultralytics' own ``predict(source=rtsp, stream=True, vid_stride=k)``
loop per camera) with the same person model and rate, and prints a table. The baseline runs the
person model only and no rules: that is all the naive loop does.

Each run is measured for ``--duration`` seconds, after every camera has delivered its first
frame and ``--warmup`` seconds have passed. CPU is split per thread (benchmarks/thread_cpu.py),
since the stages overlap: decode (the ffmpeg decoders and the frame readers' I420 -> BGR),
inference (OpenVINO's threads and the worker loop's CPU inside the detectors; per role, the
inference threads' CPU is shared out by each role's inference time), rules (the rules thread:
rules, dedup, evidence, queue) and other (the rest of the worker process).

``--sweep 2,4,6`` runs streetwatch alone once per camera count, each in a fresh process (its own
memory), and prints the scaling curve and the largest count sustained (achieved >= 0.95 x asked
fps, p95 latency < 3 / asked fps). The garbage rule is left out, with a warning, while the
registry has no ``garbage`` model.
With ``--json`` the last line is one JSON object.

    python benchmarks/pipeline.py --cameras 4 --duration 60 [--model fall-person-yolov8] [--json]
    python benchmarks/pipeline.py --sweep 2,4,6,8 --inputs 1080p --duration 120 --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import quantiles

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

import yaml  # noqa: E402
from live_cameras import own_cpu_s, proc_cpu_s, rss_mb  # noqa: E402
from thread_cpu import threads_cpu_s  # noqa: E402

from models.files import available, shared_dir, weights_file  # noqa: E402
from models.registry import entry, registry  # noqa: E402
from service.config import ModelsConfig, load_config  # noqa: E402
from service.edge.detector_set import MODEL_ROLES, DetectorSet  # noqa: E402
from service.edge.pipeline import camera_roles  # noqa: E402
from service.edge.worker import LiveWorker  # noqa: E402
from streams.testing.rtsp import RtspTestServer, encode_clip  # noqa: E402

CLIPS = {"street": ("pedestrians_street.mp4", 25, 25.0), "vtest": ("vtest.avi", 10, 10.0)}
INPUTS = {"mixed": ("street", "vtest"), "1080p": ("street",)}
"""Which clips the cameras play, in turn."""

ALL_RULES: dict[str, dict] = {
    "crowding": {"min_people": 8, "min_duration_s": 10},
    "street_vending": {},
    "garbage": {},
    "missing_helmet": {},
    "waterlogging": {},  # no reference image: learns the dry road from the first frames
}
RULE_SETS = {"crowding": ("crowding",), "all": tuple(ALL_RULES)}
RULE_MODEL = {"garbage": "garbage", "missing_helmet": "helmet"}
"""Rules whose model (registry default of its role) may not exist yet: dropped if missing."""

RUNTIME_FIELD = "runtime" in ModelsConfig.model_fields
SUSTAINED_FPS_SHARE = 0.95
SUSTAINED_LATENCY_PERIODS = 3.0


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


class CpuTimedDetector:
    """A detector that adds up the CPU seconds of the calling thread spent in it (the whole
    detection on ONNX Runtime or torch; on OpenVINO the lanes do the work and are counted with
    the native threads, see thread_cpu) and the images it saw."""

    def __init__(self, detector) -> None:  # noqa: ANN001
        self.detector = detector
        self.name = getattr(detector, "name", "custom")
        self.labels = detector.labels
        self.cpu_s = 0.0
        self.images = 0

    def detect(self, images):  # noqa: ANN001, ANN201
        started = time.thread_time()
        try:
            return self.detector.detect(images)
        finally:
            self.cpu_s += time.thread_time() - started
            self.images += len(images)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.detector, name)


def chosen_rules(rules: str) -> tuple[list[str], list[str]]:
    """The rules to enforce and warnings for those dropped because their model is missing."""
    kept, warnings = [], []
    known = registry()
    for rule in RULE_SETS[rules]:
        model = RULE_MODEL.get(rule)
        if model is not None and (model not in known or not available(model)):
            warnings.append(
                f"warning: model '{model}' is not in the registry (or its weights are missing): "
                f"the {rule} rule is left out"
            )
            continue
        kept.append(rule)
    return kept, warnings


def write_config(
    path: Path,
    url_of: Callable[[str], str],
    mounts: list[str],
    fps: float,
    rules: list[str],
    models: dict,
    max_width: int | None = None,
) -> Path:
    zone = {
        "name": "all",
        "polygon": [[0, 0], [4000, 0], [4000, 3000], [0, 3000]],
        "rules": {name: ALL_RULES[name] for name in rules},
    }
    cameras = [
        {
            "id": f"cam{i + 1:02d}-{mount}",
            "url": url_of(mount),
            "analysis_fps": fps,
            "gop_s": 1.0,
            "zones": [zone],
            **({"max_width": max_width} if max_width else {}),
        }
        for i, mount in enumerate(mounts)
    ]
    data_dir = path.with_suffix("")
    path.write_text(
        yaml.safe_dump({"data_dir": str(data_dir), "cameras": cameras, "models": models})
    )
    return path


def timed_detectors(config) -> tuple[DetectorSet, dict[str, CpuTimedDetector]]:  # noqa: ANN001
    """The config's detectors (loaded by DetectorSet itself: same models, runtime, tiling),
    each wrapped to count its CPU."""
    roles = sorted(camera_roles(config.cameras) & set(MODEL_ROLES))
    loader = DetectorSet(config)
    timed = {role: CpuTimedDetector(loader.get(role)) for role in roles}
    detectors = DetectorSet(config, **timed)
    detectors.names.update(loader.names)
    return detectors, timed


class Snapshot:
    """Counters of a running worker at one moment; differences give the measured window."""

    def __init__(self, worker: LiveWorker, timed: dict, decoder_cpu: dict[int, float]) -> None:
        self.time = time.monotonic()
        self.own_cpu = own_cpu_s()
        self.threads = threads_cpu_s()
        self.decoder_cpu = dict(decoder_cpu)
        self.analysed = worker.frames_analysed()
        pipelines = list(worker.pipelines.values())
        self.skipped = sum(p.schedule.skipped for p in pipelines)
        self.dropped = {cid: s.health().frames_dropped for cid, s in worker.sources.items()}
        self.role_cpu = {role: d.cpu_s for role, d in timed.items()}
        self.role_images = {role: d.images for role, d in timed.items()}
        self.role_wall = dict(worker.detectors.seconds)


def run_streetwatch(
    url_of: Callable[[str], str],
    mounts: list[str],
    model: str,
    seconds: float,
    fps: float,
    workdir: Path,
    *,
    rules: list[str],
    models: dict,
    warmup: float,
    max_width: int | None = None,
    label: str | None = None,
) -> dict:
    """One worker over ``mounts`` (served at ``url_of(mount)``) for ``seconds`` after the
    warm-up: the figures of one row."""
    path = workdir / f"sw-{model}-{len(mounts)}.yaml"
    config = load_config(
        write_config(path, url_of, mounts, fps, rules, {**models, "person": [model]}, max_width)
    )
    detectors, timed = timed_detectors(config)
    worker = LiveWorker(config, detectors)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    decoder_cpu: dict[int, float] = {}

    def poll_decoders() -> None:
        for source in list(worker.sources.values()):
            pid = source.decoder_pid
            cpu = proc_cpu_s(pid) if pid else None
            if pid and cpu is not None:
                decoder_cpu[pid] = cpu

    rss_start = rss_mb()
    thread.start()
    began = time.monotonic()
    while time.monotonic() - began < warmup or (
        min(worker.frames_analysed().values(), default=0) < 1
        and time.monotonic() - began < warmup + 60
    ):
        time.sleep(0.5)
        poll_decoders()
    worker.latencies.clear()
    start = Snapshot(worker, timed, decoder_cpu)
    rss_peak = rss_mb()
    while time.monotonic() - start.time < seconds:
        time.sleep(min(1.0, max(0.05, seconds - (time.monotonic() - start.time))))
        poll_decoders()
        rss_peak = max(rss_peak, rss_mb())
    poll_decoders()
    end = Snapshot(worker, timed, decoder_cpu)
    latencies = list(worker.latencies)
    rss = rss_mb()
    stop.set()
    thread.join(timeout=60)

    wall = end.time - start.time
    analysed = sum(end.analysed.values()) - sum(start.analysed.values())
    frames = max(1, analysed)
    own = end.own_cpu - start.own_cpu
    threads = {stage: end.threads[stage] - start.threads[stage] for stage in end.threads}
    decoders = sum(cpu - start.decoder_cpu.get(pid, 0.0) for pid, cpu in end.decoder_cpu.items())
    decode = decoders + threads["readers"]
    role_loop = {r: end.role_cpu[r] - start.role_cpu[r] for r in timed}
    role_wall = {r: end.role_wall.get(r, 0.0) - start.role_wall.get(r, 0.0) for r in timed}
    inference = threads["native"] + sum(role_loop.values())
    rules_s = threads["rules"]
    cores = (own + decoders) / wall
    achieved = analysed / wall / len(mounts)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    all_wall = sum(role_wall.values()) or 1.0
    per_role = {
        role: {
            "model": detectors.names.get(role, timed[role].name),
            "cpu_s_per_frame": (role_loop[role] + threads["native"] * role_wall[role] / all_wall)
            / frames,
            "wall_s_per_frame": role_wall[role] / frames,
            "ran_share": (end.role_images[role] - start.role_images[role]) / frames,
        }
        for role in timed
    }
    runtime = config.models.resolved_runtime if RUNTIME_FIELD else "torch"
    if runtime == "openvino":
        runtime += f" ({config.models.precision} precision)"
    return {
        "pipeline": label or f"streetwatch {model} ({len(rules)} rules)",
        "model": model,
        "cameras": len(mounts),
        "inputs": sorted(set(mounts)),
        "rules": rules,
        "detectors": {role: per_role[role]["model"] for role in per_role},
        "runtime": runtime,
        "seconds": round(wall, 1),
        "asked_fps": fps,
        "achieved_fps_per_camera": achieved,
        "analysed_frames": analysed,
        "cores_used": cores,
        "cameras_per_core": len(mounts) * min(1.0, achieved / fps) / cores if cores else 0.0,
        "cpu_s_per_frame": (own + decoders) / frames,
        "cpu_s_per_frame_decode": decode / frames,
        "cpu_s_per_frame_inference": inference / frames,
        "cpu_s_per_frame_rules": rules_s / frames,
        "cpu_s_per_frame_other": max(0.0, own - inference - rules_s - threads["readers"]) / frames,
        "inference_per_role": per_role,
        "skipped_unchanged": end.skipped - start.skipped,
        "p50_latency_s": p50,
        "p95_latency_s": p95,
        "rss_mb": rss,
        "rss_peak_mb": max(rss_peak, rss),
        "rss_start_mb": rss_start,
        "dropped_frames": sum(end.dropped.values()) - sum(start.dropped.values()),
        "sustained": bool(
            achieved >= SUSTAINED_FPS_SHARE * fps
            and p95 is not None
            and p95 < SUSTAINED_LATENCY_PERIODS / fps
        ),
    }


def run_baseline(
    urls, source_fps, model_path: Path, seconds: float, fps: float, warmup: float
) -> dict:
    cpu0 = children_cpu_s()
    command = [
        sys.executable,
        str(Path(__file__).with_name("naive_baseline.py")),
        "--model",
        str(model_path),
        "--duration",
        str(seconds),
        "--warmup",
        str(warmup),
        "--fps",
        str(fps),
        "--source-fps",
        ",".join(str(f) for f in source_fps),
        *urls,
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + warmup + 360)
    wall = time.monotonic() - started
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    result = next((x for x in lines if "frames" in x), None)
    errors = [x["error"] for x in lines if "error" in x]
    if result is None:
        raise RuntimeError(f"baseline failed: {done.stderr[-2000:]} {errors}")
    if "cpu_s" in result:  # measured by the baseline over its window, after its warm-up
        cpu, wall = result["cpu_s"], result["seconds"]
    else:
        cpu = children_cpu_s() - cpu0
    achieved = sum(result["frames"]) / result["seconds"] / len(urls)
    cores = cpu / wall
    return {
        "pipeline": "naive ultralytics stream loop",
        "cameras": len(urls),
        "asked_fps": fps,
        "achieved_fps_per_camera": achieved,
        "cores_used": cores,
        "cameras_per_core": len(urls) * min(1.0, achieved / fps) / cores if cores else 0.0,
        "cpu_s_per_frame": cpu / max(1, sum(result["frames"])),
        "errors": errors,
    }


def fmt(value, spec: str = ".3f") -> str:  # noqa: ANN001
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict]) -> None:
    sweep = any("sweep" in r for r in rows)
    header = (
        f"{'pipeline':40} {'cams':>4} {'fps got/asked':>13} {'cores':>6} {'cams/core':>9} "
        f"{'cpu s/frame':>11} {'decode':>7} {'infer':>7} {'rules':>7} {'other':>7} "
        f"{'p50 s':>6} {'p95 s':>6} {'RSS MB':>7} {'dropped':>7}"
    ) + (f" {'sustained':>9}" if sweep else "")
    print(header)
    print("-" * len(header))
    for r in rows:
        line = (
            f"{r['pipeline'][:40]:40} {r['cameras']:>4} "
            f"{r['achieved_fps_per_camera']:>7.2f}/{r['asked_fps']:<5g} {r['cores_used']:>6.2f} "
            f"{r['cameras_per_core']:>9.2f} {r['cpu_s_per_frame']:>11.3f} "
            f"{fmt(r.get('cpu_s_per_frame_decode')):>7} "
            f"{fmt(r.get('cpu_s_per_frame_inference')):>7} "
            f"{fmt(r.get('cpu_s_per_frame_rules'), '.4f'):>7} "
            f"{fmt(r.get('cpu_s_per_frame_other')):>7} "
            f"{fmt(r.get('p50_latency_s'), '.2f'):>6} {fmt(r.get('p95_latency_s'), '.2f'):>6} "
            f"{fmt(r.get('rss_mb'), '.0f'):>7} {r.get('dropped_frames', '-')!s:>7}"
        )
        if sweep:
            line += f" {'yes' if r.get('sustained') else 'no':>9}"
        print(line)


def print_roles(rows: list[dict]) -> None:
    rows = [r for r in rows if r.get("inference_per_role")]
    roles = sorted({role for r in rows for role in r["inference_per_role"]}, key=MODEL_ROLES.index)
    if not roles:
        return
    print("\ninference CPU s per analysed frame, per role (share of frames the role ran on)")
    header = f"{'pipeline':40} {'cams':>4} " + " ".join(f"{role:>14}" for role in roles)
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = []
        for role in roles:
            info = r["inference_per_role"].get(role)
            cells.append(
                f"{info['cpu_s_per_frame']:>7.3f} ({info['ran_share']:.2f})" if info else "-"
            )
        print(f"{r['pipeline'][:40]:40} {r['cameras']:>4} " + " ".join(f"{c:>14}" for c in cells))


def parse_counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"camera counts like 2,4,6, not {text}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"camera counts >= 1, not {text}")
    return sorted(set(counts))


def run_sweep_point(args: argparse.Namespace, count: int, rtsp_base: str) -> dict:
    """One count of the sweep in a fresh process (its own memory, no leftovers of the last
    run), on this process's RTSP server."""
    command = [
        sys.executable, __file__, "--rtsp-base", rtsp_base, "--cameras", str(count),
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--fps", str(args.fps),
        "--model", args.model, "--rules", args.rules, "--inputs", args.inputs,
    ]  # fmt: skip
    for option in ("static_every", "skip_unchanged", "runtime", "precision", "max_width"):
        value = getattr(args, option)
        if value is not None:
            command += [f"--{option.replace('_', '-')}", str(value)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + args.warmup + 900
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(
            f"sweep run with {count} cameras failed ({done.returncode}): {done.stderr[-3000:]}"
        )
    return {**json.loads(lines[-1]), "sweep": True}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds before measuring (after first frames)"
    )
    parser.add_argument("--fps", type=float, default=1.0, help="analysed frames/s per camera")
    parser.add_argument(
        "--model",
        default="fall-person-yolov8",
        help="an Ultralytics registry model: streetwatch's person model and the baseline's model",
    )
    parser.add_argument(
        "--also", nargs="*", default=["yolox-nano-coco"], help="streetwatch with other models too"
    )
    parser.add_argument("--rules", choices=sorted(RULE_SETS), default="all")
    parser.add_argument(
        "--inputs",
        choices=sorted(INPUTS),
        default="mixed",
        help="mixed: 1080p street and 576p campus clips alternating; 1080p: the street clip only",
    )
    parser.add_argument(
        "--static-every", type=float, default=None, help="models.static_every_s (config default)"
    )
    parser.add_argument(
        "--skip-unchanged", type=float, default=None, help="models.skip_unchanged (default 0)"
    )
    parser.add_argument(
        "--runtime",
        choices=["auto", "torch", "openvino", "onnx"],
        default=None,
        help="models.runtime for streetwatch (config default: auto = openvino on CPU)",
    )
    parser.add_argument(
        "--max-width",
        type=int,
        default=None,
        help="cameras' max_width: downscale in the decoder (default: full resolution)",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "int8"],
        default=None,
        help="models.precision for streetwatch (config default: auto = int8 where calibrated)",
    )
    parser.add_argument(
        "--sweep",
        type=parse_counts,
        default=None,
        metavar="N,N,...",
        help="scaling curve: one streetwatch run per camera count, no baseline",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rtsp-base", help=argparse.SUPPRESS)  # a sweep's child run
    args = parser.parse_args(argv)
    if args.model not in registry():
        parser.error(f"--model must be a registry model, not {args.model}")
    alone = args.sweep or args.no_baseline or args.rtsp_base
    if entry(args.model).backend != "ultralytics" and not alone:
        parser.error(f"--model {args.model}: the baseline needs an Ultralytics model")
    models: dict = {}
    if args.static_every is not None:
        models["static_every_s"] = args.static_every
    if args.skip_unchanged is not None:
        models["skip_unchanged"] = args.skip_unchanged
    if args.precision is not None:
        models["precision"] = args.precision
    if args.runtime is not None:
        if RUNTIME_FIELD:
            models["runtime"] = args.runtime
        else:
            print("warning: this streetwatch has no models.runtime: --runtime ignored")
    rules, warnings = chosen_rules(args.rules)
    for warning in warnings:
        print(warning, file=sys.stderr, flush=True)
    cycle = INPUTS[args.inputs]
    run_kwargs = {
        "rules": rules,
        "models": models,
        "warmup": args.warmup,
        "max_width": args.max_width,
    }
    if args.rtsp_base:  # one run of a sweep, in a fresh process, on the parent's server
        mounts = [cycle[i % len(cycle)] for i in range(args.cameras)]
        with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as tmp:
            row = run_streetwatch(
                lambda mount: f"{args.rtsp_base}/{mount}",
                mounts,
                args.model,
                args.duration,
                args.fps,
                Path(tmp),
                label=f"streetwatch {args.inputs} ({len(rules)} rules)",
                **run_kwargs,
            )
        print(json.dumps(row))
        return
    media = shared_dir() / "media"
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as tmp:
        workdir = Path(tmp)
        clips = {
            name: (encode_clip(media / file, workdir / f"{name}.h264", gop=gop), fps)
            for name, (file, gop, fps) in CLIPS.items()
            if name in cycle
        }
        with RtspTestServer(clips) as server:
            if args.sweep:
                for count in args.sweep:
                    row = run_sweep_point(args, count, f"rtsp://127.0.0.1:{server.port}")
                    rows.append(row)
                    print(
                        f"  {count} cameras: {row['achieved_fps_per_camera']:.2f}/{args.fps:g} "
                        f"fps, {row['cores_used']:.2f} cores, p95 "
                        f"{fmt(row['p95_latency_s'], '.2f')} s, "
                        f"{'sustained' if row['sustained'] else 'NOT sustained'}",
                        file=sys.stderr,
                        flush=True,
                    )
            else:
                mounts = [cycle[i % len(cycle)] for i in range(args.cameras)]
                for model in [args.model, *args.also]:
                    rows.append(
                        run_streetwatch(
                            server.url,
                            mounts,
                            model,
                            args.duration,
                            args.fps,
                            workdir,
                            **run_kwargs,
                        )
                    )
                if not args.no_baseline:
                    rows.append(
                        run_baseline(
                            [server.url(m) for m in mounts],
                            [clips[m][1] for m in mounts],
                            weights_file(entry(args.model)),
                            args.duration,
                            args.fps,
                            args.warmup,
                        )
                    )
    first = rows[0]
    detectors = ", ".join(f"{role}={name}" for role, name in first["detectors"].items())
    counts = ",".join(str(r["cameras"]) for r in rows) if args.sweep else str(args.cameras)
    print(
        f"\n{counts} live cameras ({args.inputs} inputs), {os.cpu_count()} CPUs, "
        f"{args.duration:g} s measured per run after {args.warmup:g} s warm-up, "
        f"runtime {first['runtime']}"
    )
    print(
        f"streetwatch ran {len(rules)} rules ({', '.join(rules)}) with {len(first['detectors'])} "
        f"detectors ({detectors})"
        + ("" if args.sweep or args.no_baseline else f"; the baseline ran one model "
           f"({args.model}, torch) with no rules")
    )  # fmt: skip
    for warning in warnings:
        print(warning)
    print_table(rows)
    print_roles(rows)
    if args.sweep:
        sustained = [r["cameras"] for r in rows if r["sustained"]]
        best = max(sustained, default=0)
        print(
            f"\nsustained = achieved >= {SUSTAINED_FPS_SHARE:g} x {args.fps:g} fps and p95 latency "
            f"< {SUSTAINED_LATENCY_PERIODS / args.fps:g} s; max sustained cameras: {best}"
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "sweep": rows,
                        "max_sustained_cameras": best,
                        "asked_fps": args.fps,
                        "inputs": args.inputs,
                        "rules": rules,
                        "cpus": os.cpu_count(),
                        "duration_s": args.duration,
                    }
                )
            )
        return
    ours = rows[0]
    summary = {k: ours[k] for k in (
        "cameras", "asked_fps", "achieved_fps_per_camera", "cpu_s_per_frame", "p95_latency_s",
        "rss_mb", "dropped_frames", "cameras_per_core", "p50_latency_s", "cpu_s_per_frame_decode",
        "cpu_s_per_frame_inference", "cpu_s_per_frame_rules", "cpu_s_per_frame_other",
        "inference_per_role", "rules", "detectors", "runtime", "cores_used",
    )}  # fmt: skip
    summary["inputs"] = args.inputs
    if not args.no_baseline:
        baseline = rows[-1]["cameras_per_core"]
        summary["baseline_cameras_per_core"] = baseline
        summary["ratio_vs_baseline"] = ours["cameras_per_core"] / baseline if baseline else None
        print(
            f"streetwatch / baseline cameras per core: {fmt(summary['ratio_vs_baseline'], '.2f')}x"
        )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
