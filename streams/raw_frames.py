"""Raw frames from an ``ffmpeg`` decoder's pipe: I420 (``yuv420p``) on the pipe, BGR in Python.

The decoder writes its native planar YUV (1.5 bytes a pixel, half of BGR's 3) and OpenCV turns it
into BGR in the reader thread (2 ms for 1080p on one core, without the GIL). The pipe is widened
to 1 MiB, so a 1080p frame crosses it in a few large copies instead of a hundred 64 KiB ones.
The I420 frame is read into one reused buffer and BGR frames are recycled (``BufferPool``), so
frames cost no fresh pages.
Measured on the 2-core development machine (``benchmarks/decoders.py --seconds 120``: 120
keyframes of the 1080p street clip with a 1 s GOP, one decoding thread), decoder + reader CPU
per frame: BGR on a default pipe into fresh buffers 33.5 ms, this module 22.9 ms; PyAV
in-process 23.7 ms (BGR by swscale) or 24.4 ms (I420 + OpenCV). The subprocess stays: a hung
or crashing decoder is a process the watchdog kills and restarts, never the worker, and the same
process copies the stream into the evidence ring without decoding it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
from typing import IO

import cv2
import numpy as np

PIX_FMT = "yuv420p"
EVEN_SIZE = "crop=trunc(iw/2)*2:trunc(ih/2)*2"
"""I420 needs an even width and height; a no-copy crop drops an odd last row or column."""
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def widen_pipe(pipe: IO[bytes], size: int = PIPE_BYTES) -> None:
    """Ask the kernel for a bigger pipe buffer (Linux; silently kept as is where refused)."""
    with contextlib.suppress(OSError, ValueError):
        fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, size)


class BufferPool:
    """Recycles a camera's BGR frame buffers once nothing else holds them.

    Frames are big (6 MB at 1080p) and allocations that big are mapped fresh by the kernel each
    time (streams.memory pins it so, for flat resident memory): every new frame page-faults and
    zeroes all its pages. A buffer whose only references are this pool's is written over
    instead; one still held anywhere (a pipeline, a snapshot waiting for its event, a view of it)
    is left alone. At most ``keep`` buffers are kept; beyond that, frames are allocated as
    before and go back to the system when dropped.
    """

    def __init__(self, shape: tuple[int, ...], keep: int = 3) -> None:
        self.shape = shape
        self.keep = keep
        self._buffers: list[np.ndarray] = []
        self.reused = 0

    def take(self) -> np.ndarray:
        for index in range(len(self._buffers)):
            # held by the list and by getrefcount's own argument only: nobody else sees it
            if sys.getrefcount(self._buffers[index]) <= 2:
                self.reused += 1
                return self._buffers[index]
        buffer = np.empty(self.shape, np.uint8)
        if len(self._buffers) < self.keep:
            self._buffers.append(buffer)
        return buffer


class FrameReader:
    """A decoder's frames from its (widened) pipe: each I420 frame is read into one reused
    buffer, then converted to BGR in a recycled one (``BufferPool``)."""

    def __init__(self, pipe: IO[bytes], width: int, height: int, keep: int = 3) -> None:
        widen_pipe(pipe)
        self.pipe = pipe
        self.width, self.height = width, height
        self._i420 = np.empty((height * 3 // 2, width), np.uint8)
        self._view = memoryview(self._i420).cast("B")
        self.pool = BufferPool((height, width, 3), keep)

    def next(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(BGR frame, its grey plane) or None at the end of the stream (the decoder exited or
        was stopped). The grey plane is only valid until the next call."""
        filled = 0
        while filled < len(self._view):
            got = self.pipe.readinto(self._view[filled:])
            if not got:
                return None
            filled += got
        bgr = cv2.cvtColor(self._i420, cv2.COLOR_YUV2BGR_I420, dst=self.pool.take())
        return bgr, luma(self._i420)


def luma(i420: np.ndarray) -> np.ndarray:
    """The frame's grey (Y) plane, a view without a copy."""
    return i420[: i420.shape[0] * 2 // 3]
