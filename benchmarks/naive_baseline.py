"""The naive baseline: Ultralytics' own streaming loop, one per camera.

    python benchmarks/naive_baseline.py --model best.pt --duration 60 --fps 1 URL [URL ...]

For every URL a thread runs ``model.predict(source=url, stream=True, vid_stride=k)`` (OpenCV
decodes every frame; ``vid_stride`` keeps one in k for inference) for ``duration`` seconds, then
prints one JSON line: frames analysed per camera and the wall time. The caller measures CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--model", required=True)
    parser.add_argument("--duration", type=float, default=60)
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
    time.sleep(args.duration)
    stop.set()
    wall = time.monotonic() - started
    print(json.dumps({"frames": counts, "seconds": wall}), flush=True)
    os._exit(0)  # the stream loaders' threads do not stop on their own


if __name__ == "__main__":
    main()
