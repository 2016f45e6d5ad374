"""Frames from a video file through an ``ffmpeg`` subprocess writing raw I420 to a pipe
(BGR in Python, see streams.raw_frames).

Sampling happens inside ffmpeg (an ``fps`` filter), so frames that are not analysed are never
converted or copied into Python. Each frame carries its timestamp in the video.
"""

from __future__ import annotations

import logging
import math
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import ffmpeg

from streams import raw_frames
from streams.ffmpeg_tools import VideoError, VideoInfo, ffmpeg_binary, probe_video
from vision.types import Frame

logger = logging.getLogger(__name__)


def decoder_command(path: str, analysis_fps: float, info: VideoInfo) -> list[str]:
    """The ffmpeg command line (built with ffmpeg-python) that samples ``path`` to raw I420
    (an odd width or height is cropped to even)."""
    stream = ffmpeg.input(path)
    if analysis_fps < info.fps:
        stream = stream.filter("fps", fps=f"{analysis_fps:g}")
    if info.width % 2 or info.height % 2:
        stream = stream.filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
    stream = stream.output("pipe:", format="rawvideo", pix_fmt=raw_frames.PIX_FMT, an=None, sn=None)
    stream = stream.global_args("-hide_banner", "-nostdin", "-loglevel", "error")
    return stream.compile(cmd=ffmpeg_binary())


class FileSource:
    """Iterate over a video file's frames at ``analysis_fps`` with their video timestamps.

    ``anchor`` is the UTC time shown by the first frame; frame ``wall`` = anchor + pts.
    """

    def __init__(
        self, camera_id: str, path: str | Path, analysis_fps: float, anchor: datetime
    ) -> None:
        if analysis_fps <= 0 or not math.isfinite(analysis_fps):
            raise ValueError(f"analysis_fps must be a positive number, got {analysis_fps}")
        self.camera_id = camera_id
        self.path = str(path)
        self.info = probe_video(self.path)
        self.analysis_fps = min(analysis_fps, self.info.fps)
        self.anchor = anchor
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: deque[str] = deque(maxlen=20)

    @property
    def expected_frames(self) -> int | None:
        """How many frames the sampling will yield, for progress bars (None if unknown)."""
        if self.info.duration_s is None:
            return None
        return max(1, math.ceil(self.info.duration_s * self.analysis_fps - 1e-6))

    @property
    def source_key(self) -> str:
        """Identifies the recording in event ids, so two clips of one camera never collide."""
        return f"{Path(self.path).name}:{Path(self.path).stat().st_size}"

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self) -> Iterator[Frame]:
        command = decoder_command(self.path, self.analysis_fps, self.info)
        logger.debug("%s: decoder %s", self.camera_id, " ".join(command))
        width, height = self.info.width // 2 * 2, self.info.height // 2 * 2
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        drain = threading.Thread(target=self._drain_stderr, daemon=True)
        drain.start()
        index = 0
        step = 1.0 / self.analysis_fps
        try:
            assert self._process.stdout is not None
            reader = raw_frames.FrameReader(self._process.stdout, width, height)
            while True:
                decoded = reader.next()
                if decoded is None:
                    break
                image = decoded[0]
                pts = round(index * step, 6)
                wall = self.anchor + timedelta(seconds=pts)
                yield Frame(self.camera_id, index, pts, wall, image)
                index += 1
            code = self._process.wait(timeout=30)
            drain.join(timeout=5)
            if code != 0 and index == 0:
                reason = self._stderr[-1] if self._stderr else f"exit code {code}"
                raise VideoError(f"{self.path}: ffmpeg could not decode the video ({reason})")
            if code != 0:
                logger.warning(
                    "%s: decoder stopped early after %d frames (exit %d): %s",
                    self.camera_id,
                    index,
                    code,
                    self._stderr[-1] if self._stderr else "",
                )
        finally:
            self.close()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe:
                pipe.close()

    def _drain_stderr(self) -> None:
        process = self._process
        if process is None or process.stderr is None:
            return
        try:
            for line in process.stderr:
                text = line.decode("utf-8", "replace").strip()
                if text:
                    self._stderr.append(text)
        except (OSError, ValueError):
            pass
