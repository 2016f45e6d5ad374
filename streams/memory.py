"""Keep a long-running decoder process's memory flat.

Every decoded frame is a fresh multi-megabyte buffer. glibc raises its mmap threshold after the
first such buffer is freed, so later ones come from the heap, where freed frames fragment it and
resident memory creeps up over hours. Pinning the threshold keeps every frame in its own mapping
that goes back to the system when the frame is dropped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
FRAME_SIZED = 512 * 1024


def pin_mmap_threshold(threshold: int = FRAME_SIZED) -> bool:
    """Allocations >= ``threshold`` bytes are always mmapped (glibc only; a no-op elsewhere)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        logger.debug("mallopt is not available; memory tuning skipped")
        return False
