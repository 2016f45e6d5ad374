"""streetwatch vs. the naive pipeline, live, on this machine.

Serves N cameras from the local RTSP server (real clips from ../shared/media: the 1080p
shopping street and the 576p PETS campus, alternating), runs one streetwatch worker over them at
the asked analysis rate with the real detector and rules, then the naive baseline (Ultralytics'
own ``predict(source=rtsp, stream=True, vid_stride=k)`` loop per camera) with the same model and
rate, and prints a table. With ``--json`` the last line is one JSON object.

    python benchmarks/pipeline.py --cameras 4 --duration 60 [--model fall-person-yolov8] [--json]
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
from pathlib import Path
from statistics import quantiles

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("YOLO_OFFLINE", "1")

import yaml  # noqa: E402
from live_cameras import own_cpu_s, proc_cpu_s, rss_mb  # noqa: E402

from models.registry import entry, load_detector, registry, shared_dir, weights_file  # noqa: E402
from service.config import load_config  # noqa: E402
from service.worker import LiveWorker  # noqa: E402
from streams.testing.rtsp import RtspTestServer, encode_clip  # noqa: E402

CLIPS = {"street": ("pedestrians_street.mp4", 25, 25.0), "vtest": ("vtest.avi", 10, 10.0)}


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_streetwatch(server, mounts, model: str, seconds: float, fps: float, workdir: Path) -> dict:
    zone = {"name": "all", "polygon": [[0, 0], [4000, 0], [4000, 3000], [0, 3000]]}
    cameras = [
        {
            "id": f"cam{i + 1:02d}-{mount}",
            "url": server.url(mount),
            "analysis_fps": fps,
            "gop_s": 1.0,
            "zones": [{**zone, "rules": {"crowding": {"min_people": 8, "min_duration_s": 10}}}],
        }
        for i, mount in enumerate(mounts)
    ]
    path = workdir / f"sw-{model}.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(workdir / f"sw-{model}"), "cameras": cameras}))
    config = load_config(path)
    detector = load_detector(model)
    worker = LiveWorker(config, detector)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    cpu0, rss0 = own_cpu_s(), rss_mb()
    decoder_cpu: dict[int, float] = {}
    started = time.monotonic()
    thread.start()
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        for source in worker.sources.values():
            pid = source.decoder_pid
            cpu = proc_cpu_s(pid) if pid else None
            if pid and cpu is not None:
                decoder_cpu[pid] = cpu
    wall = time.monotonic() - started
    analysed = worker.frames_analysed()
    dropped = sum(s.health().frames_dropped for s in worker.sources.values())
    rules_s = sum(p.times.rules_s + p.times.sinks_s for p in worker.pipelines.values())
    latencies = sorted(worker.latencies)
    rss = rss_mb()
    stop.set()
    thread.join(timeout=60)
    own = own_cpu_s() - cpu0
    frames = max(1, sum(analysed.values()))
    decode = sum(decoder_cpu.values())
    cores = (own + decode) / wall
    achieved = sum(analysed.values()) / wall / len(mounts)
    p50, p95 = (
        (quantiles(latencies, n=20)[9], quantiles(latencies, n=20)[18])
        if len(latencies) > 20
        else (None, None)
    )
    return {
        "pipeline": f"streetwatch ({model})",
        "cameras": len(mounts),
        "asked_fps": fps,
        "achieved_fps_per_camera": achieved,
        "cores_used": cores,
        "cameras_per_core": len(mounts) * min(1.0, achieved / fps) / cores if cores else 0.0,
        "cpu_s_per_frame": (own + decode) / frames,
        "cpu_s_per_frame_decode": decode / frames,
        "cpu_s_per_frame_inference": worker.detect_s / frames,
        "cpu_s_per_frame_rules": rules_s / frames,
        "p50_latency_s": p50,
        "p95_latency_s": p95,
        "rss_mb": rss,
        "rss_start_mb": rss0,
        "dropped_frames": dropped,
    }


def run_baseline(urls, source_fps, model_path: Path, seconds: float, fps: float) -> dict:
    cpu0 = children_cpu_s()
    command = [
        sys.executable,
        str(Path(__file__).with_name("naive_baseline.py")),
        "--model",
        str(model_path),
        "--duration",
        str(seconds),
        "--fps",
        str(fps),
        "--source-fps",
        ",".join(str(f) for f in source_fps),
        *urls,
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300)
    wall = time.monotonic() - started
    cpu = children_cpu_s() - cpu0
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    result = next((x for x in lines if "frames" in x), None)
    errors = [x["error"] for x in lines if "error" in x]
    if result is None:
        raise RuntimeError(f"baseline failed: {done.stderr[-2000:]} {errors}")
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


def fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'pipeline':40} {'cams':>4} {'fps got/asked':>13} {'cores':>6} {'cams/core':>9} "
        f"{'cpu s/frame':>11} {'decode':>7} {'infer':>7} {'rules':>7} {'p50 s':>6} "
        f"{'p95 s':>6} {'RSS MB':>7} {'dropped':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['pipeline']:40} {r['cameras']:>4} "
            f"{r['achieved_fps_per_camera']:>7.2f}/{r['asked_fps']:<5g} {r['cores_used']:>6.2f} "
            f"{r['cameras_per_core']:>9.2f} {r['cpu_s_per_frame']:>11.3f} "
            f"{fmt(r.get('cpu_s_per_frame_decode')):>7} "
            f"{fmt(r.get('cpu_s_per_frame_inference')):>7} "
            f"{fmt(r.get('cpu_s_per_frame_rules'), '.4f'):>7} "
            f"{fmt(r.get('p50_latency_s'), '.2f'):>6} {fmt(r.get('p95_latency_s'), '.2f'):>6} "
            f"{fmt(r.get('rss_mb'), '.0f'):>7} {r.get('dropped_frames', '-')!s:>7}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--fps", type=float, default=1.0, help="analysed frames/s per camera")
    parser.add_argument(
        "--model", default="fall-person-yolov8", help="an Ultralytics registry model (both runs)"
    )
    parser.add_argument(
        "--also", nargs="*", default=["yolox-nano-coco"], help="streetwatch with other models too"
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.model not in registry() or entry(args.model).backend != "ultralytics":
        parser.error(f"--model must be an Ultralytics model of the registry, not {args.model}")
    media = shared_dir() / "media"
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="streetwatch-bench-") as tmp:
        workdir = Path(tmp)
        clips = {
            name: (encode_clip(media / file, workdir / f"{name}.h264", gop=gop), fps)
            for name, (file, gop, fps) in CLIPS.items()
        }
        mounts = [("street", "vtest")[i % 2] for i in range(args.cameras)]
        with RtspTestServer(clips) as server:
            ours = run_streetwatch(server, mounts, args.model, args.duration, args.fps, workdir)
            rows.append(ours)
            for model in args.also:
                rows.append(
                    run_streetwatch(server, mounts, model, args.duration, args.fps, workdir)
                )
            if not args.no_baseline:
                base = run_baseline(
                    [server.url(m) for m in mounts],
                    [clips[m][1] for m in mounts],
                    weights_file(entry(args.model)),
                    args.duration,
                    args.fps,
                )
                rows.append(base)
    print(f"{args.cameras} live cameras, {os.cpu_count()} CPUs, {args.duration:g} s each run")
    print_table(rows)
    summary = {k: ours[k] for k in (
        "cameras", "asked_fps", "achieved_fps_per_camera", "cpu_s_per_frame", "p95_latency_s",
        "rss_mb", "dropped_frames", "cameras_per_core",
    )}  # fmt: skip
    if not args.no_baseline:
        baseline = rows[-1]["cameras_per_core"]
        summary["baseline_cameras_per_core"] = baseline
        summary["ratio_vs_baseline"] = ours["cameras_per_core"] / baseline if baseline else None
        print(f"streetwatch / baseline cameras per core: {summary['ratio_vs_baseline']:.2f}x")
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
