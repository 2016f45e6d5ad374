"""Where the ffmpeg binaries are, and what a video file holds (ffprobe)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


class VideoError(Exception):
    """A video source that cannot be opened or decoded; the message says which and why."""


def ffmpeg_binary() -> str:
    """The ``ffmpeg`` on PATH (Debian's package), else the one in the ``imageio-ffmpeg`` wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        raise VideoError(
            "ffmpeg is not installed: run `apt-get install ffmpeg` (or pip install imageio-ffmpeg)"
        ) from None


def ffprobe_binary() -> str:
    found = shutil.which("ffprobe")
    if not found:
        raise VideoError("ffprobe is not installed: run `apt-get install ffmpeg`")
    return found


@dataclass(frozen=True, slots=True)
class VideoInfo:
    path: str
    width: int
    height: int
    fps: float
    duration_s: float | None
    frame_count: int | None
    codec: str


def probe_video(path: str | Path, timeout_s: float = 30.0) -> VideoInfo:
    """Describe the first video stream of a file; raise VideoError when it has none."""
    path = str(path)
    if not Path(path).exists():
        raise VideoError(f"{path}: no such video file")
    if Path(path).is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if Path(path).stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    command = [
        ffprobe_binary(),
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration,codec_name"
        ":format=duration",
        "-of",
        "json",
        path,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise VideoError(f"{path}: ffprobe did not answer within {timeout_s:.0f}s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise VideoError(f"{path}: not a readable video ({reason})")
    info = json.loads(done.stdout or "{}")
    streams = info.get("streams") or []
    if not streams or not streams[0].get("width"):
        raise VideoError(f"{path}: contains no video stream")
    stream = streams[0]
    fps = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate")) or 25.0
    duration = _float(stream.get("duration")) or _float(info.get("format", {}).get("duration"))
    frames = _int(stream.get("nb_frames"))
    if frames is None and duration:
        frames = int(round(duration * fps))
    return VideoInfo(
        path=path,
        width=int(stream["width"]),
        height=int(stream["height"]),
        fps=fps,
        duration_s=duration,
        frame_count=frames,
        codec=str(stream.get("codec_name", "?")),
    )


def _rate(text: str | None) -> float | None:
    try:
        value = float(Fraction(text)) if text else 0.0
    except (ValueError, ZeroDivisionError):
        return None
    return value if 0 < value < 1000 else None


def _float(text: object) -> float | None:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _int(text: object) -> int | None:
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
