"""``streetwatch export dataset``: reviewed cases as a ready-to-train YOLO dataset.

Cases confirmed or rejected since a time become samples, one per event with an image:

- confirmed cases (still confirmed, or dispatched, handling, resolved, closed) are positives:
  the event's boxes as YOLO labels, class from the event type (``yolo_samples.BOX_CLASS``);
- rejected cases whose reason means the model was wrong (``suppressions.POLICY``) are hard
  negatives: an **empty** label file (a background image), and the rejected boxes listed apart
  in ``rejected_boxes.jsonl`` (putting them in ``labels/`` would teach the very mistake).

Layout (Ultralytics reads ``data.yaml``)::

    data.yaml  classes.txt  README.md  manifest.jsonl  rejected_boxes.jsonl
    images/{train,val}/<case>_<event>.jpg   labels/{train,val}/<case>_<event>.txt

The train/val split is by case (a stable hash of the case id), so the events of one case never
straddle it. Exporting again into the same folder rewrites it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from service.cases.lifecycle import Status
from service.cases.store import CaseRow, CaseStore
from service.cases.suppressions import RejectReason, parse_reason
from service.feedback.yolo_samples import CLASSES, class_id, source_image, stem, yolo_lines
from vision.types import Event

logger = logging.getLogger(__name__)

POSITIVE = frozenset(
    {Status.CONFIRMED, Status.DISPATCHED, Status.HANDLING, Status.RESOLVED, Status.CLOSED}
)
MANIFEST = "manifest.jsonl"


class ExportError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


@dataclass
class ExportSummary:
    out: Path
    positives: int = 0
    negatives: int = 0
    boxes: int = 0
    skipped: Counter = field(default_factory=Counter)
    from_snapshots: int = 0
    splits: Counter = field(default_factory=Counter)


def split_of(case_id: str, val_share: float) -> str:
    bucket = int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val" if bucket < val_share else "train"


def _last_reason(case: CaseRow) -> tuple[RejectReason | None, str]:
    for transition in reversed(case.transitions):
        if transition.action == "reject":
            return parse_reason(transition.reason)
    return None, ""


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give a folder for the dataset")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise ExportError(
            f"{out} is not empty and not an earlier export (no {MANIFEST}); "
            "give a new or empty folder"
        )
    for part in ("images", "labels"):
        shutil.rmtree(out / part, ignore_errors=True)
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)


def export_dataset(
    store: CaseStore,
    evidence_root: Path,
    out: Path,
    since: datetime,
    *,
    clean_only: bool = False,
    val_share: float = 0.2,
) -> ExportSummary:
    """Write the cases reviewed since ``since`` as a YOLO dataset in ``out``."""
    out = out.resolve()
    _prepare(out)
    summary = ExportSummary(out)
    manifest, rejected = [], []
    for case in store.reviewed_since(since):
        status = Status(case.status)
        reason, note = _last_reason(case)
        if status in POSITIVE:
            kind = "positive"
        elif status is Status.REJECTED and reason is not None and not reason.hard_negative:
            summary.skipped[f"rejected as {reason.value}"] += len(case.events)
            continue
        elif status is Status.REJECTED:
            kind = "negative"
        else:
            summary.skipped[f"case {status.value}"] += len(case.events)
            continue
        split = split_of(case.id, val_share)
        for row in case.events:
            event = Event.model_validate(row.payload)
            entry = _write_sample(out, evidence_root, case, event, kind, split, clean_only)
            if isinstance(entry, str):
                summary.skipped[entry] += 1
                continue
            summary.splits[split] += 1
            summary.from_snapshots += entry["image_source"] == "snapshot"
            if kind == "positive":
                summary.positives += 1
                summary.boxes += entry["labels"]
            else:
                summary.negatives += 1
                entry["reason"] = reason.value if reason else "unspecified"
                entry["note"] = note
                rejected.append(
                    {"image": entry["image"], "reason": entry["reason"], "boxes": entry["boxes"]}
                )
            manifest.append(entry)
    _write_meta(out, manifest, rejected, since)
    return summary


def _write_sample(
    out: Path,
    evidence_root: Path,
    case: CaseRow,
    event: Event,
    kind: str,
    split: str,
    clean_only: bool,
) -> dict | str:
    """Copy one sample in; returns its manifest entry, or why it was skipped."""
    cls = class_id(event.type)
    if cls is None:
        return f"type {event.type} has no object class"
    image = source_image(event, evidence_root.resolve())
    if image is None:
        return "no image in the evidence folder"
    if clean_only and image.kind != "clean":
        return "no clean frame (--clean-only)"
    name = stem(case.id, event.id)
    image_rel = Path("images") / split / f"{name}{image.path.suffix.lower() or '.jpg'}"
    shutil.copyfile(image.path, out / image_rel)
    lines = yolo_lines(event.boxes, cls, image.width, image.height)
    label_rel = Path("labels") / split / f"{name}.txt"
    labels = lines if kind == "positive" else []
    (out / label_rel).write_text("".join(f"{line}\n" for line in labels), encoding="utf-8")
    return {
        "image": image_rel.as_posix(),
        "label": label_rel.as_posix(),
        "kind": kind,
        "split": split,
        "case_id": case.id,
        "event_id": event.id,
        "type": event.type,
        "camera_id": event.camera_id,
        "zone": event.zone,
        "status": case.status,
        "image_source": image.kind,
        "width": image.width,
        "height": image.height,
        "labels": len(labels),
        "boxes": lines,
    }


def _write_meta(out: Path, manifest: list[dict], rejected: list[dict], since: datetime) -> None:
    (out / "classes.txt").write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
    data = {
        "path": str(out),
        "train": "images/train",
        "val": "images/val",
        "nc": len(CLASSES),
        "names": dict(enumerate(CLASSES)),
    }
    (out / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with (out / MANIFEST).open("w", encoding="utf-8") as handle:
        for entry in manifest:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    with (out / "rejected_boxes.jsonl").open("w", encoding="utf-8") as handle:
        for entry in rejected:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    (out / "README.md").write_text(
        f"# streetwatch review export\n\n"
        f"Cases reviewed since {since.isoformat()}: {len(manifest)} images.\n\n"
        "- Positives: confirmed cases; labels are the boxes the rule counted (other objects of "
        "the class in the frame may be unlabelled: check before training).\n"
        "- Hard negatives: rejected cases (wrong object / other); their label files are empty "
        "(background images). The rejected boxes are in `rejected_boxes.jsonl`, in YOLO format, "
        "for relabelling or mining; they are deliberately not labels.\n"
        "- `image_source: snapshot` in `manifest.jsonl` marks images with the zone and boxes "
        "drawn on them (no clean frame was kept); `--clean-only` leaves them out.\n"
        "- Train with: `yolo detect train data=data.yaml model=yolov8n.pt`.\n",
        encoding="utf-8",
    )
