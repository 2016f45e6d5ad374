"""Model cards (``models/cards/NAME.md``) and registry entries for trained detectors."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from models.datasets import Dataset
from models.evaluation import EvalReport
from models.recipe import TrainRecipe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochRecord:
    """One training epoch: its validation figures and how long it took."""

    epoch: int
    """1-based."""
    seconds: float
    precision: float
    recall: float
    map50: float
    map50_95: float

    @classmethod
    def from_trainer(cls, trainer: Any) -> EpochRecord:
        metrics = trainer.metrics or {}
        return cls(
            epoch=int(trainer.epoch) + 1,
            seconds=float(trainer.epoch_time or 0.0),
            precision=float(metrics.get("metrics/precision(B)", 0.0)),
            recall=float(metrics.get("metrics/recall(B)", 0.0)),
            map50=float(metrics.get("metrics/mAP50(B)", 0.0)),
            map50_95=float(metrics.get("metrics/mAP50-95(B)", 0.0)),
        )


@dataclass(frozen=True)
class ModelCard:
    name: str
    weights: Path
    classes: list[str]
    data: Dataset
    base: str
    base_sha256: str
    weights_licence: str
    recipe: TrainRecipe
    seconds: float
    report: EvalReport
    models_dir: Path
    history: list[EpochRecord] = field(default_factory=list)

    @property
    def registry_file(self) -> str:
        """The weight path as registry.yaml writes it: relative to models/ when inside it."""
        try:
            return self.weights.resolve().relative_to(self.models_dir.resolve()).as_posix()
        except ValueError:
            return str(self.weights.resolve())


def canonical_class_map(classes: list[str]) -> dict[str, str]:
    """Model classes that are canonical labels map to themselves; the rest are left out."""
    from models.registry import CANONICAL_LABELS

    return {name: name for name in classes if name in CANONICAL_LABELS}


def registry_entry(card: ModelCard) -> dict[str, Any]:
    from models.files import sha256_of

    report = card.report
    metrics: dict[str, float] = {
        f"{report.split}_map50": round(report.map50, 4),
        f"{report.split}_map50_95": round(report.map50_95, 4),
    }
    for name, m in report.per_class.items():
        metrics[f"{report.split}_ap50_{name}"] = round(m.ap50, 4)
    return {
        "backend": "ultralytics",
        "file": card.registry_file,
        "sha256": sha256_of(card.weights),
        "input_size": card.recipe.imgsz,
        "class_map": canonical_class_map(card.classes),
        "licence": f"weights {card.weights_licence}; data {card.data.licence()}",
        "description": (
            f"Ultralytics YOLO fine-tuned from {card.base} on {card.data.root.name} "
            f"({', '.join(card.classes)}); see cards/{card.name}.md"
        ),
        "metrics": metrics,
    }


def registry_snippet(card: ModelCard) -> str:
    """The YAML to paste under ``models:`` in registry.yaml (indented by two spaces)."""
    body = yaml.safe_dump(
        {card.name: registry_entry(card)}, sort_keys=False, allow_unicode=True, width=96
    )
    unmapped = [c for c in card.classes if c not in canonical_class_map(card.classes)]
    note = f"  # not canonical labels, left out of class_map: {', '.join(unmapped)}\n"
    return (note if unmapped else "") + "".join(f"  {line}\n" for line in body.splitlines())


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def metrics_table(report: EvalReport) -> str:
    rows = [
        "| class | instances | precision | recall | AP50 | AP50-95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in report.per_class.items():
        rows.append(
            f"| {name} | {m.instances} | {_fmt(m.precision)} | {_fmt(m.recall)} | "
            f"{_fmt(m.ap50)} | {_fmt(m.ap50_95)} |"
        )
    total = sum(m.instances for m in report.per_class.values())
    rows.append(
        f"| **all** | {total} | {_fmt(report.precision)} | {_fmt(report.recall)} | "
        f"**{_fmt(report.map50)}** | **{_fmt(report.map50_95)}** |"
    )
    return "\n".join(rows)


def render_card(card: ModelCard) -> str:
    from models.files import sha256_of

    recipe, report, data = card.recipe, card.report, card.data
    size_mb = card.weights.stat().st_size / 1e6
    counts = {split: len(data.images(split)[: recipe.limit]) for split in data.splits}
    options = ", ".join(f"{k}={v}" for k, v in recipe.options.items()) or "Ultralytics defaults"
    command = (
        f"streetwatch train detector --data {recipe.data} --base {card.base} "
        f"--epochs {recipe.epochs} --imgsz {recipe.imgsz} --batch {recipe.batch} "
        f"--device {recipe.device} --name {card.name}"
        + (f" --threads {recipe.threads}" if recipe.threads else "")
        + "".join(f" --set {k}={v}" for k, v in recipe.options.items())
    )
    absent = f" No labelled {', '.join(report.absent)} in this split." if report.absent else ""
    lines = [
        f"# {card.name}",
        "",
        f"Ultralytics YOLO detector of {', '.join(card.classes)}, fine-tuned from `{card.base}`.",
        f"Written by `streetwatch train detector` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| | |",
        "|---|---|",
        f"| weights | `{card.registry_file}` ({size_mb:.1f} MB, sha256 "
        f"`{sha256_of(card.weights)}`) |",
        f"| classes | {', '.join(f'{i} {c}' for i, c in enumerate(card.classes))} |",
        f"| canonical labels | {canonical_class_map(card.classes) or 'none'} |",
        f"| data | `{recipe.data}`: "
        + ", ".join(f"{split} {n} images" for split, n in counts.items())
        + (f" (first {recipe.limit} per split only)" if recipe.limit else "")
        + " |",
        f"| base weights | `{card.base}` (sha256 `{card.base_sha256[:16]}…`) |",
        f"| recipe | {recipe.epochs} epochs at imgsz {recipe.imgsz}, batch {recipe.batch}, "
        f"device {recipe.device}, {recipe.threads or 'default'} CPU threads, "
        f"{recipe.workers} loader workers, seed {recipe.seed}, patience {recipe.patience}; "
        f"{options} |",
        f"| training time | {card.seconds / 60:.1f} min wall-clock, "
        f"{len(card.history)} epochs run |",
        f"| licence of the weights | {card.weights_licence}; derived from the base weights, "
        "and Ultralytics is AGPL-3.0 |",
        f"| licence of the data | {data.licence()} |",
        "",
        f"## Metrics on the {report.split} split",
        "",
        f"`streetwatch eval detector --model {card.name} --data {recipe.data} "
        f"--split {report.split} --imgsz {report.imgsz}`: {report.images} images at imgsz "
        f"{report.imgsz}, Ultralytics validator (conf 0.001, IoU 0.7).{absent}",
        "",
        metrics_table(report),
        "",
    ]
    if card.history:
        lines += [
            "## Training history (validation after each epoch)",
            "",
            "| epoch | minutes | precision | recall | mAP50 | mAP50-95 |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {h.epoch} | {h.seconds / 60:.1f} | {_fmt(h.precision)} | {_fmt(h.recall)} | "
            f"{_fmt(h.map50)} | {_fmt(h.map50_95)} |"
            for h in card.history
        ]
        lines.append("")
    lines += [
        "## Reproduce",
        "",
        "```bash",
        command,
        f"streetwatch eval detector --model {card.name} --data {recipe.data} "
        f"--imgsz {recipe.imgsz}",
        "```",
        "",
        "## Limits",
        "",
        "- Figures are on the dataset's own val split; part of the source set is held back for",
        "  acceptance evaluation, and the labels are as published (not re-checked box by box).",
        "- Trained for the images in the dataset; other cameras, angles and resolutions need",
        "  their own check before the figures above can be trusted for them.",
        "",
    ]
    return "\n".join(lines)


def write_card(card: ModelCard, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_card(card), encoding="utf-8")
    logger.info("model card written to %s", path)
    return path
