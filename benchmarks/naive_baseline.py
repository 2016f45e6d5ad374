"""The naive baseline: Ultralytics' own streaming loop, one per camera.

    python benchmarks/naive_baseline.py --model best.pt --duration 60 --fps 1 URL [URL ...]

For every URL a thread runs ``model.predict(source=url, stream=True, vid_stride=k)`` (OpenCV
decodes every frame; ``vid_stride`` keeps one in k for inference), and measures ``duration``
seconds once every camera has had its first result and ``warmup`` seconds have passed (model
loading and stream opening are not counted). Prints one JSON line: frames analysed per camera in
that window, its length (``seconds``) and the process CPU seconds spent in it (``cpu_s``: every
thread, decoding included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--model", required=True)
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds before measuring")
    parser.add_argument("--fps", type=float, default=1.0, help="analysed frames per second")
    parser.add_argument(
        "--source-fps", default="25", help="each camera's frame rate, comma-separated"
    )
    parser.add_argument("--imgsz", type=int, default=640)
    args = parser.parse_args()
    from ultralytics import YOLO

    counts = [0] * len(args.urls)
    stop = threading.Event()
    started = time.monotonic()

    def loop(i: int, url: str, source_fps: float) -> None:
        model = YOLO(args.model, task="detect")
        stride = max(1, round(source_fps / args.fps))
        try:
            for _ in model.predict(
                source=url, stream=True, vid_stride=stride, imgsz=args.imgsz, verbose=False
            ):
                counts[i] += 1
                if stop.is_set():
                    break
        except Exception as exc:  # noqa: BLE001 - report, the benchmark goes on
            print(json.dumps({"error": f"{url}: {exc}"}), flush=True)

    rates = [float(x) for x in args.source_fps.split(",")]
    fps_list = (rates * len(args.urls))[: len(args.urls)] if len(rates) == 1 else rates
    threads = [
        threading.Thread(target=loop, args=(i, url, fps_list[i]), daemon=True)
        for i, url in enumerate(args.urls)
    ]
    for thread in threads:
        thread.start()
    while time.monotonic() - started < args.warmup or (
        min(counts) < 1 and time.monotonic() - started < args.warmup + 120
    ):
        time.sleep(0.2)
    counts0, cpu0, began = list(counts), cpu_s(), time.monotonic()
    time.sleep(args.duration)
    frames = [n - n0 for n, n0 in zip(counts, counts0, strict=True)]
    cpu, wall = cpu_s() - cpu0, time.monotonic() - began
    stop.set()
    print(json.dumps({"frames": frames, "seconds": wall, "cpu_s": cpu}), flush=True)
    os._exit(0)  # the stream loaders' threads do not stop on their own


if __name__ == "__main__":
    main()
