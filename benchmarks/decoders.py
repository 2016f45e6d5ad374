"""Which decoder feeds the live worker: the ffmpeg subprocess or PyAV in-process, and how.

Decodes the keyframes of a real 1080p clip (../shared/media, re-encoded once with a 1 s GOP and
looped, like a camera analysed at 1 fps with keyframe-only decoding) with each variant and
prints the CPU per frame (this process and its children, user + system) and the wall time:

- ``ffmpeg bgr24``: the ffmpeg subprocess writing BGR to a default 64 KiB pipe, a fresh buffer
  per frame (the worker before 2026-12-01);
- ``ffmpeg I420``: the same writing I420 to a 1 MiB pipe, read into a reused buffer and turned
  into BGR by OpenCV into recycled ones (streams.raw_frames; what the worker uses);
- ``pyav bgr24`` / ``pyav I420``: PyAV (libav* in this process) with ``skip_frame=NONKEY``,
  converting with libswscale, or taking the I420 planes and converting with OpenCV.

    python benchmarks/decoders.py [--seconds 60] [--json]

PyAV is optional (``pip install av``); without it its rows are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from models.files import shared_dir  # noqa: E402
from streams import raw_frames  # noqa: E402
from streams.ffmpeg_tools import ffmpeg_binary  # noqa: E402
from streams.memory import pin_mmap_threshold  # noqa: E402


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def looped_clip(source: Path, seconds: float, folder: Path) -> Path:
    """``source`` looped to ``seconds``, re-encoded with a keyframe every second."""
    target = folder / "looped.mp4"
    subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(source)]
        + ["-t", f"{seconds:g}", "-an", "-c:v", "libx264", "-preset", "veryfast"]
        + ["-g", "25", "-keyint_min", "25", "-sc_threshold", "0", str(target)],
        check=True,
    )
    return target


def ffmpeg_frames(path: Path, pix_fmt: str, size: tuple[int, int]) -> Iterator[np.ndarray]:
    width, height = size
    command = [ffmpeg_binary(), "-v", "error", "-threads", "1", "-skip_frame", "nokey"]
    command += ["-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo"]
    process = subprocess.Popen([*command, "-pix_fmt", pix_fmt, "pipe:"], stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        if pix_fmt == "bgr24":
            frame_size = width * height * 3
            while len(data := process.stdout.read(frame_size)) == frame_size:
                yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
        else:
            reader = raw_frames.FrameReader(process.stdout, width, height)
            while (frame := reader.next()) is not None:
                yield frame[0]
    finally:
        process.kill()
        process.wait()


def pyav_frames(path: Path, i420: bool) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        stream.thread_count = 1
        for frame in container.decode(stream):
            if i420:
                planes = frame.to_ndarray(format="yuv420p")
                yield cv2.cvtColor(planes, cv2.COLOR_YUV2BGR_I420)
            else:
                yield frame.to_ndarray(format="bgr24")


def measure(name: str, frames: Callable[[], Iterator[np.ndarray]]) -> dict:
    cpu0, wall0 = cpu_s(), time.perf_counter()
    count, checksum = 0, 0.0
    for image in frames():
        count += 1
        checksum += float(image[::64, ::64].mean())
    cpu, wall = cpu_s() - cpu0, time.perf_counter() - wall0
    return {
        "decoder": name,
        "frames": count,
        "cpu_ms_per_frame": 1000 * cpu / max(1, count),
        "wall_ms_per_frame": 1000 * wall / max(1, count),
        "mean_grey": checksum / max(1, count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length (frames = s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core per camera, as in the worker's reader threads
    pin_mmap_threshold()  # frames are mapped fresh, as in the worker
    source = shared_dir() / "media" / "pedestrians_street.mp4"
    with tempfile.TemporaryDirectory(prefix="streetwatch-decoders-") as folder:
        clip = looped_clip(source, args.seconds, Path(folder))
        size = (1920, 1080)
        variants: dict[str, Callable[[], Iterator[np.ndarray]]] = {
            "ffmpeg subprocess, bgr24, 64 KiB pipe": lambda: ffmpeg_frames(clip, "bgr24", size),
            "ffmpeg subprocess, I420, 1 MiB pipe": lambda: ffmpeg_frames(clip, "yuv420p", size),
        }
        try:
            import av  # noqa: F401

            variants["pyav in-process, bgr24 (swscale)"] = lambda: pyav_frames(clip, False)
            variants["pyav in-process, I420 + OpenCV"] = lambda: pyav_frames(clip, True)
        except ImportError:
            print("PyAV is not installed (pip install av): its rows are left out")
        rows = [measure(name, frames) for name, frames in variants.items()]
    print(f"\n1080p keyframes (1 s GOP), one decoding thread, {rows[0]['frames']} frames each")
    header = f"{'decoder':42} {'frames':>6} {'CPU ms/frame':>12} {'wall ms/frame':>13}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['decoder']:42} {r['frames']:>6} {r['cpu_ms_per_frame']:>12.1f} "
            f"{r['wall_ms_per_frame']:>13.1f}"
        )
    if args.json:
        print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
