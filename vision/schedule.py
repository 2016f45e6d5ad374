"""Which detector roles run on a camera's frame: every frame for things that move, a slow
cadence for things that do not, and no inference at all on a frame that did not change.

- Moving roles (``person``, ``helmet``) run on every analysed frame, except, when
  ``skip_unchanged`` > 0, on a frame whose small grey thumbnail differs from the last analysed
  one by less than that (mean absolute difference, 0-255): a still scene costs no inference.
  They are never skipped longer than ``recheck_s``.
- Static roles (garbage, stalls from above, water) run at most every ``recheck_s``, and
  always at least that often, whether anything moved or not.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from vision.rules.base import STATIC_ROLES
from vision.types import Frame

THUMB_WIDTH = 64


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A grey ``THUMB_WIDTH``-wide copy of a BGR image, as int16 for differencing."""
    height, width = image.shape[:2]
    size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / width)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.int16)


class RoleSchedule:
    """One camera's schedule; ``due(frame)`` says which roles to run on it and records that
    they ran."""

    def __init__(self, roles: Iterable[str], recheck_s: float, skip_unchanged: float = 0.0):
        self.roles = frozenset(roles)
        self.recheck_s = recheck_s
        self.skip_unchanged = skip_unchanged
        self._last_run: dict[str, float] = {}
        self._last_thumb: np.ndarray | None = None
        self.skipped = 0
        """Frames on which the moving roles were skipped as unchanged."""

    def due(self, frame: Frame) -> frozenset[str]:
        due = {role for role in self.roles & STATIC_ROLES if self._is_stale(role, frame.pts)}
        moving = self.roles - STATIC_ROLES
        if moving:
            if self._changed(frame) or any(self._is_stale(r, frame.pts) for r in moving):
                due |= moving
            else:
                self.skipped += 1
        for role in due:
            self._last_run[role] = frame.pts
        return frozenset(due)

    def _is_stale(self, role: str, pts: float) -> bool:
        last = self._last_run.get(role)
        return last is None or pts - last >= self.recheck_s or pts < last

    def _changed(self, frame: Frame) -> bool:
        if self.skip_unchanged <= 0:
            return True
        thumb = thumbnail(frame.image)
        previous = self._last_thumb
        if previous is None or previous.shape != thumb.shape:
            self._last_thumb = thumb
            return True
        if float(np.abs(thumb - previous).mean()) < self.skip_unchanged:
            return False
        self._last_thumb = thumb
        return True
