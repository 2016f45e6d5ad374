"""Evidence rendering: the frame with the zone polygon, the boxes and a caption drawn."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

ZONE_COLOUR = (0, 215, 255)  # BGR amber
BOX_COLOUR = (40, 40, 230)  # BGR red


def render_snapshot(
    image: np.ndarray,
    polygon: np.ndarray | None,
    boxes: Sequence[Sequence[float]],
    caption: str,
) -> np.ndarray:
    """A copy of ``image`` with the zone outline, every box and a caption bar."""
    canvas = image.copy()
    scale = max(1.0, canvas.shape[1] / 960)
    thickness = max(1, int(round(2 * scale)))
    if polygon is not None and len(polygon) >= 3:
        points = np.round(np.asarray(polygon)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], True, ZONE_COLOUR, thickness, cv2.LINE_AA)
    for x1, y1, x2, y2 in boxes:
        cv2.rectangle(
            canvas, (int(x1), int(y1)), (int(x2), int(y2)), BOX_COLOUR, thickness, cv2.LINE_AA
        )
    font_scale = 0.6 * scale
    (width, height), baseline = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
    cv2.rectangle(canvas, (0, 0), (width + 12, height + baseline + 12), (0, 0, 0), -1)
    cv2.putText(
        canvas,
        caption,
        (6, height + 6),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (255, 255, 255),
        max(1, int(scale)),
        cv2.LINE_AA,
    )
    return canvas


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
