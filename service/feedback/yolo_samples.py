"""An event's evidence as a YOLO training sample: which image, which class, which label lines.

Images: the clean frame when there is one (an ``Event.clean_frame`` path once events carry it,
or ``<snapshot stem>.clean.jpg`` beside the snapshot), else the snapshot itself, which has the
zone and boxes drawn on it (recorded as ``source: "snapshot"`` so a trainer can leave those out).
Every path must lie inside the evidence folder.

Classes: an event's boxes are the objects its rule counted, so the class of every box follows
from the event type (crowding counts people, missing_helmet bare heads, ...). ``CLASSES`` is a
fixed list, so class ids mean the same in every export.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2

from vision.rules.registry import EVENT_KINDS
from vision.types import Event

logger = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = ("person", "garbage", "stall", "head", "water")
BOX_CLASS: dict[str, str] = {
    **{name: kind.box_class for name, kind in EVENT_KINDS.items() if kind.box_class},
    "bin_overflow": "garbage",
}
"""Event type -> the class its boxes train as (declared by each rule)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def class_id(event_type: str) -> int | None:
    """The YOLO class id of an event type's boxes (None: the type has no object boxes)."""
    label = BOX_CLASS.get(event_type)
    return CLASSES.index(label) if label else None


def stem(*parts: str) -> str:
    """A file name stem from ids (anything but letters, digits, ``_ . -`` becomes ``_``)."""
    return "_".join(_UNSAFE.sub("_", part).strip("._") or "x" for part in parts)


def _inside(path: str | None, evidence_root: Path) -> Path | None:
    if not path:
        return None
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if resolved.is_relative_to(evidence_root) and resolved.is_file():
        return resolved
    return None


def clean_frame_of(event: Event, evidence_root: Path) -> Path | None:
    """The event's frame without drawings, when one was kept."""
    declared = _inside(getattr(event, "clean_frame", None), evidence_root)
    if declared is not None:
        return declared
    if event.snapshot:
        beside = Path(event.snapshot).with_suffix(".clean.jpg")
        return _inside(str(beside), evidence_root)
    return None


@dataclass(frozen=True, slots=True)
class SourceImage:
    path: Path
    kind: str  # "clean" or "snapshot"
    width: int
    height: int


def source_image(event: Event, evidence_root: Path) -> SourceImage | None:
    """The image to train on for ``event`` (None when there is none, or it is unreadable)."""
    evidence_root = evidence_root.resolve()
    path, kind = clean_frame_of(event, evidence_root), "clean"
    if path is None:
        path, kind = _inside(event.snapshot, evidence_root), "snapshot"
    if path is None:
        return None
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        logger.warning("%s: evidence %s is not a readable image", event.camera_id, path)
        return None
    return SourceImage(path, kind, int(image.shape[1]), int(image.shape[0]))


def yolo_lines(boxes: list[list[float]], cls: int, width: int, height: int) -> list[str]:
    """``cls cx cy w h`` lines, normalised to the image and clipped to it; boxes that fall
    outside the image are dropped."""
    lines = []
    for x1, y1, x2, y2 in boxes:
        x1, x2 = sorted((min(max(x1, 0.0), width), min(max(x2, 0.0), width)))
        y1, y2 = sorted((min(max(y1, 0.0), height), min(max(y2, 0.0), height)))
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        w, h = (x2 - x1) / width, (y2 - y1) / height
        lines.append(f"{cls} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines
