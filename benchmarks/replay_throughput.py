"""Replay throughput on the real clips: decode only, detect only, and the whole pipeline.

Prints a table: frames/s and CPU seconds per analysed frame by stage, for each clip at its
analysis rate. Usage: python benchmarks/replay_throughput.py [--fps 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

from models.files import shared_dir  # noqa: E402
from models.loader import load_detector  # noqa: E402
from service.config import load_config  # noqa: E402
from service.edge.replay import replay  # noqa: E402
from streams.file_source import FileSource  # noqa: E402

CLIPS = ["media/vtest.avi", "media/pedestrians_street.mp4"]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the ffmpeg decoders)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(clip: Path, fps: float, detector, config_path: Path) -> dict:
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    frames = list(FileSource("bench", clip, fps, anchor))
    decode_wall, decode_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    for frame in frames:
        detector.detect([frame.image])
    detect_wall, detect_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    config = load_config(config_path)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    result = replay(config, clip, detector=detector, show_progress=False)
    total_wall, total_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    n = len(frames)
    return {
        "clip": clip.name,
        "resolution": f"{frames[0].width}x{frames[0].height}",
        "analysis_fps": fps,
        "frames": n,
        "decode_fps": n / decode_wall,
        "detect_fps": n / detect_wall,
        "pipeline_fps": result.frames / total_wall,
        "cpu_s_per_frame_decode": decode_cpu / n,
        "cpu_s_per_frame_detect": detect_cpu / n,
        "cpu_s_per_frame_pipeline": total_cpu / result.frames,
        "rules_sinks_ms_per_frame": 1000
        * (result.times.rules_s + result.times.sinks_s)
        / result.frames,
        "video_seconds_per_wall_second": (n / fps) / total_wall,
        "events": result.events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fps", type=float, default=2.0, help="analysis frames per second")
    parser.add_argument("--model", default="yolox-nano-coco")
    parser.add_argument("--json", action="store_true", help="print one JSON object per clip")
    args = parser.parse_args()
    detector = load_detector(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in CLIPS:
            path = shared_dir() / clip
            if not path.is_file():
                print(f"skipping {path}: not found", file=sys.stderr)
                continue
            config = Path(tmp) / f"{path.stem}.yaml"
            config.write_text(
                f"data_dir: {tmp}/data\n"
                f"cameras:\n  - id: bench\n    url: {path}\n    analysis_fps: {args.fps}\n"
                "    zones:\n      - name: all\n"
                "        polygon: [[0, 0], [4000, 0], [4000, 3000], [0, 3000]]\n"
                "        rules: {crowding: {min_people: 6, min_duration_s: 5}}\n"
            )
            rows.append(measure(path, args.fps, detector, config))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"model {args.model}, {os.cpu_count()} CPUs, analysis {args.fps:g} fps")
    header = (
        f"{'clip':28} {'res':>10} {'frames':>6} {'decode f/s':>10} {'detect f/s':>10} "
        f"{'pipeline f/s':>12} {'cpu s/f dec':>11} {'cpu s/f det':>11} {'cpu s/f all':>11} "
        f"{'rules ms/f':>10} {'x realtime':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['clip']:28} {r['resolution']:>10} {r['frames']:>6} {r['decode_fps']:>10.1f} "
            f"{r['detect_fps']:>10.1f} {r['pipeline_fps']:>12.1f} "
            f"{r['cpu_s_per_frame_decode']:>11.4f} {r['cpu_s_per_frame_detect']:>11.4f} "
            f"{r['cpu_s_per_frame_pipeline']:>11.4f} {r['rules_sinks_ms_per_frame']:>10.2f} "
            f"{r['video_seconds_per_wall_second']:>10.1f}"
        )


if __name__ == "__main__":
    main()
