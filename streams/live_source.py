"""Live cameras: one supervised ``ffmpeg`` decoder per camera that survives a city's network.

- TCP transport and a socket timeout, so a frozen server never blocks a read forever.
- Sampling inside ffmpeg: keyframes only (``-skip_frame nokey``) when the analysis interval is
  longer than the GOP, else an ``fps`` filter; optional downscale in ffmpeg; I420 on a widened
  pipe, turned into BGR in the reader thread (streams.raw_frames).
- A reader thread keeps only the newest frame: a slow consumer never falls behind the live edge
  (overwritten frames are counted as dropped).
- A watchdog restarts the decoder when it exits, when no frame arrives for ``stall_timeout_s``, or
  when it reports a burst of decode errors; restarts back off exponentially with jitter, capped.
- Health (starting / online / frozen / offline) with timestamps and counters for the pipeline.
- Optionally, the same ffmpeg process copies the encoded stream into a ring of short segments on
  disk (no decode cost), from which an event's evidence clip is cut.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import cv2
import ffmpeg
import numpy as np

from streams import raw_frames
from streams.ffmpeg_tools import ffmpeg_binary
from streams.secrets import Redactor
from vision.types import Frame

logger = logging.getLogger(__name__)

OUTPUT_SIZE = re.compile(r"Stream #\d+:\d+.*: Video: rawvideo.*?, (\d{2,5})x(\d{2,5})[ ,\[]")
INPUT_SIZE = re.compile(r"Stream #\d+:\d+.*: Video: .*?, (\d{2,5})x(\d{2,5})[ ,\[]")
DECODE_ERROR = re.compile(r"error while decoding|corrupt|concealing|invalid nal|missing picture")


@dataclass(frozen=True, slots=True)
class LiveSettings:
    analysis_fps: float = 1.0
    gop_s: float = 2.0
    """Expected keyframe interval of the camera; keyframe-only decoding is used when the analysis
    interval is at least this long (sampling="auto")."""
    sampling: str = "auto"  # auto | keyframes | fps
    max_width: int | None = None
    hwaccel: str | None = None  # e.g. "cuda" on GPU nodes
    decoder_threads: int = 1
    """ffmpeg's decoding threads per camera (0 = its auto: one per core, plus one). One is
    cheaper: keyframe-only 1080p decoding measured 0.017 CPU s per frame single-threaded
    against 0.022 with auto threads, and cameras run in parallel across cores anyway."""
    open_timeout_s: float = 10.0
    io_timeout_s: float = 5.0
    stall_timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    backoff_jitter: float = 0.25
    frozen_after_s: float = 30.0
    max_decode_errors_per_min: int = 200
    segment_dir: Path | None = None
    segment_s: float = 2.0
    segment_count: int = 15
    loop_file: bool = True
    """A file URL plays at real time in an endless loop, like a live camera."""

    @property
    def keyframes_only(self) -> bool:
        if self.sampling == "keyframes":
            return True
        if self.sampling == "fps":
            return False
        return 1.0 / self.analysis_fps >= self.gop_s


class HealthState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    FROZEN = "frozen"
    OFFLINE = "offline"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class CameraHealth:
    camera_id: str
    state: HealthState
    since: datetime
    frames_in: int
    frames_dropped: int
    restarts: int
    last_frame_age_s: float | None
    last_error: str | None
    width: int | None
    height: int | None


def rtsp_command(url: str, settings: LiveSettings) -> list[str]:
    """The decoder's command line, built with ffmpeg-python."""
    options: dict[str, object] = {}
    if url.lower().startswith(("rtsp://", "rtsps://")):
        options |= {"rtsp_transport": "tcp", "timeout": int(settings.io_timeout_s * 1_000_000)}
    elif settings.loop_file:
        options |= {"re": None, "stream_loop": -1}
    if settings.keyframes_only:
        options["skip_frame"] = "nokey"
    if settings.hwaccel:
        options["hwaccel"] = settings.hwaccel
    options["threads"] = settings.decoder_threads
    source = ffmpeg.input(url, **options)
    video = source.video
    filters = []
    if not settings.keyframes_only:
        filters.append(f"fps={settings.analysis_fps:g}")
    if settings.max_width:
        filters.append(f"scale='min({settings.max_width},iw)':-2")
    filters.append(raw_frames.EVEN_SIZE)
    output_options: dict[str, object] = {
        "format": "rawvideo",
        "pix_fmt": raw_frames.PIX_FMT,
        "fps_mode": "passthrough",
        "vf": ",".join(filters),
    }
    outputs = [ffmpeg.output(video, "pipe:", **output_options)]
    if settings.segment_dir is not None:
        pattern = str(settings.segment_dir / "seg%03d.ts")
        outputs.append(
            ffmpeg.output(
                video,
                pattern,
                c="copy",
                f="segment",
                segment_time=f"{settings.segment_s:g}",
                segment_wrap=settings.segment_count,
                reset_timestamps=1,
            )
        )
    stream = ffmpeg.merge_outputs(*outputs).global_args(
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-y"
    )
    return stream.compile(cmd=ffmpeg_binary())


class _Run:
    """One decoder process and its reader threads."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.size: tuple[int, int] | None = None
        self.source_size: tuple[int, int] | None = None
        self.size_known = threading.Event()
        self.stderr: deque[str] = deque(maxlen=30)
        self.decode_errors: deque[float] = deque(maxlen=10_000)
        self._output_section = False

    def read_stderr(self) -> None:
        assert self.process.stderr is not None
        try:
            for raw in self.process.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                if not line:
                    continue
                self.stderr.append(line)
                if line.startswith("Output #0"):
                    self._output_section = True
                elif not self._output_section and self.source_size is None:
                    match = INPUT_SIZE.search(line)
                    if match:
                        self.source_size = (int(match.group(1)), int(match.group(2)))
                elif self._output_section and self.size is None:
                    match = OUTPUT_SIZE.search(line)
                    if match:
                        self.size = (int(match.group(1)), int(match.group(2)))
                        self.size_known.set()
                if DECODE_ERROR.search(line.lower()):
                    self.decode_errors.append(time.monotonic())
        except (OSError, ValueError):
            pass
        finally:
            self.size_known.set()

    def last_error(self) -> str:
        for line in reversed(self.stderr):
            lowered = line.lower()
            if any(w in lowered for w in ("error", "failed", "not found", "refused", "timed out")):
                return line.strip()
        return self.stderr[-1].strip() if self.stderr else "no output"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe:
                with contextlib.suppress(OSError):
                    pipe.close()


class LiveSource:
    """A supervised live camera. ``start()`` returns at once; frames arrive in the background.

    ``latest(after)`` gives the newest frame with an index greater than ``after`` (or None), so
    one consumer polling several cameras always analyses the live edge.
    """

    def __init__(self, camera_id: str, url: str, settings: LiveSettings) -> None:
        self.camera_id = camera_id
        self.url = url
        self._redact = Redactor(url)
        self.settings = settings
        self._clock0 = time.monotonic()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run: _Run | None = None
        self._latest: Frame | None = None
        self._consumed_index = -1
        self._index = 0
        self._frames_in = 0
        self._dropped = 0
        self._restarts = 0
        self._last_frame_at: float | None = None
        self._last_error: str | None = None
        self._state = HealthState.STARTING
        self._state_since = datetime.now(UTC)
        self._size: tuple[int, int] | None = None
        self._thumb: np.ndarray | None = None
        self._unchanged_since: float | None = None
        if settings.segment_dir is not None:
            settings.segment_dir.mkdir(parents=True, exist_ok=True)

    # -- public -----------------------------------------------------------------------------

    def start(self) -> LiveSource:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._supervise, name=f"decoder-{self.camera_id}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        run = self._run
        if run is not None:
            run.stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        self._set_state(HealthState.STOPPED)
        with self._lock:
            self._lock.notify_all()

    def latest(self, after: int = -1, timeout: float = 0.0) -> Frame | None:
        """The newest frame whose index is > ``after``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                frame = self._latest
                if frame is not None and frame.index > after:
                    self._consumed_index = frame.index
                    return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._lock.wait(remaining)

    def clock(self) -> float:
        """Seconds on this source's frame clock (the ``pts`` of a frame read now)."""
        return time.monotonic() - self._clock0

    def health(self) -> CameraHealth:
        with self._lock:
            age = None if self._last_frame_at is None else time.monotonic() - self._last_frame_at
            return CameraHealth(
                camera_id=self.camera_id,
                state=self._state,
                since=self._state_since,
                frames_in=self._frames_in,
                frames_dropped=self._dropped,
                restarts=self._restarts,
                last_frame_age_s=age,
                last_error=self._last_error,
                width=self._size[0] if self._size else None,
                height=self._size[1] if self._size else None,
            )

    @property
    def last_frame(self) -> Frame | None:
        """The newest frame, without marking it consumed."""
        with self._lock:
            return self._latest

    @property
    def decoder_pid(self) -> int | None:
        run = self._run
        return run.process.pid if run is not None and run.process.poll() is None else None

    # -- supervision ------------------------------------------------------------------------

    def _supervise(self) -> None:
        failures = 0
        command = rtsp_command(self.url, self.settings)
        logger.debug("%s: decoder %s", self.camera_id, self._redact(" ".join(command)))
        while not self._stop.is_set():
            frames_before = self._frames_in
            started = time.monotonic()
            reason = self._run_once(command)
            if self._stop.is_set():
                break
            produced = self._frames_in - frames_before
            healthy_for = time.monotonic() - started
            failures = 0 if produced > 0 and healthy_for > self.settings.backoff_max_s else failures
            failures += 1
            delay = min(
                self.settings.backoff_max_s,
                self.settings.backoff_initial_s * 2 ** min(failures - 1, 16),
            )
            delay *= 1 + self.settings.backoff_jitter * random.random()
            reason = self._redact(reason)
            with self._lock:
                self._restarts += 1
                self._last_error = reason
            self._set_state(HealthState.OFFLINE)
            logger.warning(
                "%s: %s; restarting the decoder in %.1fs (restart %d)",
                self.camera_id,
                reason,
                delay,
                self._restarts,
            )
            self._stop.wait(delay)

    def _run_once(self, command: list[str]) -> str:
        """Run one decoder until it fails; return why it was stopped."""
        try:
            run = _Run(command)
        except OSError as exc:
            return f"cannot start ffmpeg ({exc})"
        self._run = run
        err_thread = threading.Thread(target=run.read_stderr, daemon=True)
        err_thread.start()
        reader = threading.Thread(
            target=self._read_frames, args=(run,), name=f"reader-{self.camera_id}", daemon=True
        )
        reader.start()
        started = time.monotonic()
        frames_at_start = self._frames_in
        try:
            while not self._stop.wait(0.25):
                now = time.monotonic()
                code = run.process.poll()
                if code is not None:
                    reader.join(timeout=2)
                    err_thread.join(timeout=2)
                    return f"decoder exited with code {code}: {run.last_error()}"
                got_frame = self._frames_in > frames_at_start
                if not got_frame:
                    limit = self.settings.open_timeout_s + self.settings.stall_timeout_s
                    if now - started > limit:
                        return f"no frame within {limit:.0f}s of connecting: {run.last_error()}"
                    continue
                age = now - (self._last_frame_at or now)
                if age > self.settings.stall_timeout_s:
                    return f"no frame for {age:.1f}s (stalled camera or network)"
                recent = [t for t in run.decode_errors if now - t < 60]
                if len(recent) > self.settings.max_decode_errors_per_min:
                    return f"{len(recent)} decode errors in the last minute (corrupt stream)"
            return "stopped"
        finally:
            run.stop()
            reader.join(timeout=5)
            self._run = None

    def _read_frames(self, run: _Run) -> None:
        if not run.size_known.wait(self.settings.open_timeout_s + self.settings.io_timeout_s):
            return
        if run.size is None:
            return
        width, height = run.size
        stdout = run.process.stdout
        assert stdout is not None
        source_width = run.source_size[0] if run.source_size else width
        reader = raw_frames.FrameReader(stdout, width, height)
        while not self._stop.is_set():
            try:
                frame = reader.next()
            except (OSError, ValueError):
                return
            if frame is None:
                return
            self._publish(*frame, source_width)

    def _publish(self, image: np.ndarray, grey: np.ndarray, source_width: int) -> None:
        now = time.monotonic()
        frozen = self._looks_frozen(grey, now)
        with self._lock:
            if self._latest is not None and self._latest.index > self._consumed_index:
                self._dropped += 1
            frame = Frame(
                camera_id=self.camera_id,
                index=self._index,
                pts=round(now - self._clock0, 3),
                wall=datetime.now(UTC),
                image=image,
                scale=round(source_width / image.shape[1], 6),
            )
            self._index += 1
            self._frames_in += 1
            self._latest = frame
            self._last_frame_at = now
            self._size = (image.shape[1], image.shape[0])
            self._lock.notify_all()
        self._set_state(HealthState.FROZEN if frozen else HealthState.ONLINE)

    def _looks_frozen(self, grey: np.ndarray, now: float) -> bool:
        thumb = cv2.resize(grey, (48, 27), interpolation=cv2.INTER_AREA).astype(np.int16)
        previous, self._thumb = self._thumb, thumb
        if previous is None or np.abs(thumb - previous).mean() > 0.5:
            self._unchanged_since = None
            return False
        if self._unchanged_since is None:
            self._unchanged_since = now
        return now - self._unchanged_since >= self.settings.frozen_after_s

    def _set_state(self, state: HealthState) -> None:
        with self._lock:
            if state is not self._state:
                logger.info("%s: camera %s -> %s", self.camera_id, self._state, state)
                self._state = state
                self._state_since = datetime.now(UTC)
