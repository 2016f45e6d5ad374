"""Image-to-ground positions through a camera's homography, to merge cases across cameras."""

from __future__ import annotations

import numpy as np

from vision.types import Event


def ground_position(
    event: Event, homography: list[list[float]] | None
) -> tuple[float, float] | None:
    """Where the event stands on the ground plane: the mean bottom-centre of its boxes mapped
    through the 3x3 homography (None without a homography or boxes)."""
    if homography is None or not event.boxes:
        return None
    boxes = np.asarray(event.boxes, dtype=np.float64)
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3], np.ones(len(boxes))], axis=1)
    mapped = feet @ np.asarray(homography, dtype=np.float64).T
    valid = np.abs(mapped[:, 2]) > 1e-12
    if not valid.any():
        return None
    points = mapped[valid, :2] / mapped[valid, 2:3]
    x, y = points.mean(axis=0)
    return float(x), float(y)
