"""Evaluate a detector on a labelled YOLO dataset split: precision, recall, AP50 and AP50-95 per
class, through Ultralytics' validator (``model.val``).

The dataset is mirrored into a temporary folder first (see ``models.datasets``), so read-only
datasets such as ``../shared/data/*`` work and nothing is written beside them.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from models.datasets import Dataset, load_dataset, mirror_dataset
from vision.detectors.base import ModelFileError, first_line

logger = logging.getLogger(__name__)


class EvaluationError(Exception):
    """The model cannot be evaluated on this dataset (wrong backend, classes that differ, ...)."""


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    ap50: float
    ap50_95: float
    instances: int = 0


@dataclass(frozen=True)
class EvalReport:
    """Metrics of one model on one split. ``per_class`` holds the classes with labels there."""

    model: str
    data: str
    split: str
    imgsz: int
    images: int
    map50: float
    map50_95: float
    precision: float
    recall: float
    per_class: dict[str, ClassMetrics] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    """Dataset classes without a single labelled instance in the split (no metric)."""

    def to_json(self) -> dict[str, Any]:
        """The ``streetwatch eval detector --json`` object."""
        return {
            "model": self.model,
            "per_class": {
                name: {
                    "ap50": round(m.ap50, 4),
                    "ap50_95": round(m.ap50_95, 4),
                    "precision": round(m.precision, 4),
                    "recall": round(m.recall, 4),
                }
                for name, m in self.per_class.items()
            },
            "map50": round(self.map50, 4),
            "map50_95": round(self.map50_95, 4),
            "data": self.data,
            "split": self.split,
            "imgsz": self.imgsz,
            "images": self.images,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ResolvedModel:
    label: str
    """The registry name, or the path as given."""
    path: Path
    imgsz: int | None


def resolve_model(name_or_path: str | Path) -> ResolvedModel:
    """A registry name or a weight file -> the verified file and its registered image size."""
    from models.files import weights_file
    from models.registry import entry, registry

    text = str(name_or_path)
    if text in registry():
        model = entry(text)
        if model.backend != "ultralytics":
            raise EvaluationError(
                f"model '{text}': backend {model.backend} cannot be evaluated here "
                "(only Ultralytics YOLO models: .pt, .onnx, .engine, OpenVINO)"
            )
        return ResolvedModel(text, weights_file(model), model.input_size)
    path = Path(text)
    if path.exists():
        return ResolvedModel(text, path, None)
    raise ModelFileError(
        f"'{text}' is neither a registered model ({', '.join(sorted(registry()))}) "
        "nor an existing weight file"
    )


def exported_path(resolved: ResolvedModel, runtime: str, int8: bool) -> Path:
    """What to evaluate for ``runtime``: the weights themselves (torch) or their export."""
    from models.export import RUNTIMES, exported_model
    from models.files import int8_calibration, sha256_of
    from models.registry import entry, registry

    if runtime not in RUNTIMES:
        raise EvaluationError(f"unknown runtime '{runtime}' (use {', '.join(RUNTIMES)})")
    if int8 and runtime != "openvino":
        raise EvaluationError("--int8 evaluates the OpenVINO export: use --runtime openvino")
    if runtime == "torch":
        return resolved.path
    if resolved.path.suffix != ".pt":
        raise EvaluationError(f"{resolved.path}: only .pt weights are exported for {runtime}")
    calibration = None
    if int8:
        if resolved.label not in registry():
            raise EvaluationError("--int8 needs a registry model (its calibration dataset)")
        calibration = int8_calibration(entry(resolved.label), runtime, "int8")
    sha = sha256_of(resolved.path)
    return exported_model(
        resolved.path,
        sha,
        resolved.imgsz or 640,
        runtime,
        name=Path(resolved.label).stem,
        calibration=calibration,
    )


def load_yolo(path: Path) -> Any:
    """``ultralytics.YOLO`` for a detection weight file, or a ModelFileError naming the file."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    if not path.exists():
        raise ModelFileError(f"{path}: no such weight file")
    try:
        model = YOLO(str(path), task="detect")
        model.names  # noqa: B018 - non-PyTorch formats load lazily, on first use
    except Exception as exc:  # ultralytics raises many kinds on a bad file
        reason = first_line(exc)
        reason = reason.removeprefix("ERROR ❌️ ").split(". Ultralytics supports")[0]
        raise ModelFileError(f"{path}: not a loadable Ultralytics YOLO model ({reason})") from None
    if model.task != "detect":
        raise ModelFileError(f"{path}: a {model.task} model, not a detection model")
    return model


def model_class_names(model: Any) -> list[str]:
    names = model.names
    return [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)


def check_classes(model_names: list[str], dataset: Dataset, model_label: str) -> None:
    if model_names != dataset.names:
        raise EvaluationError(
            f"model '{model_label}' has classes {model_names}, the dataset "
            f"{dataset.yaml_path} has {dataset.names}: the class ids must mean the same"
        )


def evaluate(
    model: str | Path,
    data: str | Path,
    *,
    split: str = "val",
    imgsz: int | None = None,
    batch: int = 8,
    device: str = "cpu",
    limit: int | None = None,
    threads: int | None = None,
    runtime: str = "torch",
    int8: bool = False,
) -> EvalReport:
    """Validate ``model`` (registry name or weight file) on ``split`` of the ``data`` yaml.

    ``imgsz`` defaults to the registry's input size, else the size the model was trained at.
    ``limit`` evaluates only the first N images of the split (for quick checks). ``runtime``
    openvino or onnx evaluates the model's export (``models.export``), ``int8`` its INT8
    OpenVINO export, calibrated on the registry entry's ``calibration`` dataset.
    """
    dataset = load_dataset(data)
    dataset.split_dir(split)
    resolved = resolve_model(model)
    path = exported_path(resolved, runtime, int8)
    yolo = load_yolo(path)
    check_classes(model_class_names(yolo), dataset, resolved.label)
    size = imgsz or resolved.imgsz or int(yolo.overrides.get("imgsz") or 640)
    if threads:
        import torch

        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="streetwatch-eval-") as tmp:
        mirrored = mirror_dataset(dataset, Path(tmp) / "data", splits=(split,), limit=limit)
        images = len(dataset.images(split)[:limit])
        logger.info("evaluating %s on %s %s (%d images)", resolved.label, data, split, images)
        metrics = yolo.val(
            data=str(mirrored),
            split=split,
            imgsz=size,
            batch=batch,
            device=device,
            workers=0,
            plots=False,
            save_json=False,
            project=str(Path(tmp) / "runs"),
            name="val",
            exist_ok=True,
            verbose=False,
        )
    return report_from_metrics(metrics, resolved.label, str(data), split, size, images)


def report_from_metrics(
    metrics: Any, model: str, data: str, split: str, imgsz: int, images: int
) -> EvalReport:
    """An EvalReport from Ultralytics' DetMetrics."""
    box = metrics.box
    names = metrics.names
    counts = getattr(metrics, "nt_per_class", None)
    per_class: dict[str, ClassMetrics] = {}
    for k, class_id in enumerate(box.ap_class_index):
        precision, recall, ap50, ap50_95 = (float(v) for v in box.class_result(k))
        instances = int(counts[class_id]) if counts is not None else 0
        per_class[names[int(class_id)]] = ClassMetrics(precision, recall, ap50, ap50_95, instances)
    absent = [names[i] for i in sorted(names) if names[i] not in per_class]
    return EvalReport(
        model=model,
        data=data,
        split=split,
        imgsz=imgsz,
        images=images,
        map50=float(box.map50),
        map50_95=float(box.map),
        precision=float(box.mp),
        recall=float(box.mr),
        per_class=per_class,
        absent=absent,
    )
