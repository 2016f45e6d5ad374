"""Hard negatives: the frames of rejected cases, kept for retraining.

On a rejection whose reason means the model was wrong (see ``suppressions.POLICY``), each event
of the case with an image becomes a sample under ``<dataset_dir>/hard_negatives/``::

    images/<case>_<event>.jpg    the clean frame if kept, else the snapshot (boxes drawn)
    labels/<case>_<event>.txt    empty: a YOLO "background" image, nothing to find here
    rejected/<case>_<event>.txt  the rejected detections in YOLO format (class cx cy w h)
    meta/<case>_<event>.json     case, event, camera, zone, type, reason, who, when, image source
    classes.txt                  the class ids used in rejected/

The rejected boxes are deliberately *not* in ``labels/``: a YOLO trainer reads ``labels/`` as
ground truth, so the false detections would be learnt as objects. A frame where only some boxes
were wrong needs relabelling before training; ``rejected/`` says which boxes to look at.
Reopening the case removes its samples.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from service.feedback.yolo_samples import CLASSES, class_id, source_image, stem, yolo_lines
from vision.types import Event

logger = logging.getLogger(__name__)
FOLDERS = ("images", "labels", "rejected", "meta")


class HardNegativeExporter:
    def __init__(self, root: Path, evidence_root: Path) -> None:
        self.root = root
        self.evidence_root = evidence_root.resolve()

    def export(
        self,
        case_id: str,
        events: Sequence[Event],
        *,
        reason: str,
        note: str,
        actor: str,
        now: datetime | None = None,
    ) -> list[Path]:
        """Write a sample per event that has an image; returns the image paths written."""
        now = now or datetime.now(UTC)
        written = []
        for event in events:
            try:
                path = self._export_one(case_id, event, reason, note, actor, now)
            except OSError as exc:
                logger.error(
                    "%s: cannot write the hard negative of event %s (%s)",
                    event.camera_id,
                    event.id,
                    exc,
                )
                continue
            if path is not None:
                written.append(path)
        return written

    def _export_one(
        self, case_id: str, event: Event, reason: str, note: str, actor: str, now: datetime
    ) -> Path | None:
        cls = class_id(event.type)
        image = source_image(event, self.evidence_root)
        if cls is None or image is None:
            logger.info(
                "%s: event %s (%s) has no image or object class; no hard negative",
                event.camera_id,
                event.id,
                event.type,
            )
            return None
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        classes = self.root / "classes.txt"
        if not classes.exists():
            classes.write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
        name = stem(case_id, event.id)
        target = self.root / "images" / f"{name}{image.path.suffix.lower() or '.jpg'}"
        shutil.copyfile(image.path, target)
        (self.root / "labels" / f"{name}.txt").write_text("", encoding="utf-8")
        lines = yolo_lines(event.boxes, cls, image.width, image.height)
        (self.root / "rejected" / f"{name}.txt").write_text(
            "".join(f"{line}\n" for line in lines), encoding="utf-8"
        )
        meta = {
            "case_id": case_id,
            "event_id": event.id,
            "camera_id": event.camera_id,
            "zone": event.zone,
            "type": event.type,
            "reason": reason,
            "note": note,
            "rejected_by": actor,
            "rejected_at": now.isoformat(timespec="seconds"),
            "image_source": image.kind,
            "image": target.name,
            "width": image.width,
            "height": image.height,
            "boxes": event.boxes,
            "score": event.score,
        }
        (self.root / "meta" / f"{name}.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        logger.info("%s: hard negative %s (%s)", event.camera_id, target.name, reason)
        return target

    def remove(self, case_id: str) -> int:
        """Delete the samples of ``case_id`` (it was reopened); returns how many files."""
        prefix = stem(case_id) + "_"
        removed = 0
        for folder in FOLDERS:
            directory = self.root / folder
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                if path.name.startswith(prefix):
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed
