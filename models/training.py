"""Train a detector with Ultralytics from pretrained weights and ship it into ``models/``:
the best weights as ``weights/NAME.pt``, a model card ``cards/NAME.md`` and the registry entry
to add to ``registry.yaml``.

The dataset is mirrored into a writable folder of links first (see ``models.datasets``), so the
read-only ``../shared/data/*`` folders train as they are.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.cards import EpochRecord, ModelCard, registry_snippet, write_card
from models.datasets import load_dataset, mirror_dataset
from models.evaluation import EvalReport, evaluate, load_yolo, model_class_names
from models.recipe import TrainRecipe
from vision.detectors.base import ModelFileError

logger = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent
SHIP_LIMIT_MB = 25.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

EpochCallback = Callable[[EpochRecord, int], None]
"""Called after each epoch's validation with the epoch's figures and the number of epochs."""


class TrainingError(Exception):
    """Bad training arguments, or a training run that produced no weights."""


@dataclass(frozen=True)
class TrainResult:
    weights: Path
    card: Path
    registry_entry: str
    report: EvalReport
    seconds: float
    epochs: int
    run_dir: Path | None
    """Ultralytics' run folder, when kept (``runs_dir``)."""


@dataclass(frozen=True)
class BaseWeights:
    label: str
    path: Path
    licence: str
    sha256: str


def weights_licence(licence: str) -> str:
    """The weights' part of a registry licence: a model trained here is registered as
    ``weights X; data Y``, and a model fine-tuned from it inherits X, not its data's licence."""
    if licence.startswith("weights "):
        return licence.removeprefix("weights ").split("; data ")[0].strip()
    return licence


def resolve_base(base: str) -> BaseWeights:
    """A registry name or a ``.pt`` file to start from, checked to be an Ultralytics model."""
    from models.files import sha256_of, weights_file
    from models.registry import entry, registry

    if base in registry():
        model = entry(base)
        if model.backend != "ultralytics":
            raise TrainingError(
                f"--base {base}: a {model.backend} model; Ultralytics trains from .pt weights"
            )
        path = weights_file(model)
        licence = weights_licence(model.licence)
    else:
        path = Path(base)
        if not path.is_file():
            raise ModelFileError(
                f"--base {base}: neither a registered model ({', '.join(sorted(registry()))}) "
                "nor a weight file"
            )
        if path.suffix != ".pt":
            raise ModelFileError(f"{path}: not a PyTorch .pt weight file (Ultralytics trains .pt)")
        licence = ""
    yolo = load_yolo(path)
    if not licence:
        licence = str(getattr(yolo, "ckpt", {}).get("license") or "unknown (not in checkpoint)")
    return BaseWeights(base, path, licence, sha256_of(path))


def check_recipe(recipe: TrainRecipe, out_dir: Path, force: bool) -> Path:
    """Fail early on arguments that would waste a training run; returns the target weight."""
    if not _NAME.match(recipe.name):
        raise TrainingError(f"--name {recipe.name!r}: use letters, digits, '_', '.', '-'")
    if recipe.epochs < 1:
        raise TrainingError(f"--epochs {recipe.epochs}: train at least one epoch")
    if recipe.imgsz < 32 or recipe.imgsz % 32:
        raise TrainingError(f"--imgsz {recipe.imgsz}: use a multiple of 32 (the model's stride)")
    if recipe.batch < 1:
        raise TrainingError(f"--batch {recipe.batch}: use at least 1")
    target = out_dir / "weights" / f"{recipe.name}.pt"
    if target.exists() and not force:
        raise TrainingError(f"{target} exists: pick another --name or pass --force to replace it")
    return target


def train_detector(
    recipe: TrainRecipe,
    *,
    out_dir: Path = MODELS_DIR,
    runs_dir: Path | None = None,
    force: bool = False,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train, copy the best weights to ``out_dir/weights/NAME.pt``, evaluate them on the val
    split and write ``out_dir/cards/NAME.md``. ``runs_dir`` keeps Ultralytics' run folder
    (last.pt, results.csv); without it the run lives in a temporary folder."""
    out_dir = Path(out_dir).resolve()
    target = check_recipe(recipe, out_dir, force)
    dataset = load_dataset(recipe.data)
    if "train" not in dataset.splits:
        raise TrainingError(f"{recipe.data}: train: an image folder for training is required")
    base = resolve_base(recipe.base)
    if recipe.threads:
        import torch

        torch.set_num_threads(recipe.threads)
    history: list[EpochRecord] = []
    with tempfile.TemporaryDirectory(prefix="streetwatch-train-") as tmp:
        data_yaml = mirror_dataset(dataset, Path(tmp) / "data", limit=recipe.limit)
        project = Path(runs_dir).resolve() if runs_dir else Path(tmp) / "runs"
        yolo = load_yolo(base.path)
        seen_start: list[float | None] = [None]

        def epoch_end(trainer: Any) -> None:
            # Ultralytics calls this once more after its final validation of best.pt, with
            # the epoch clock untouched: that call is not an epoch
            if history and trainer.epoch_time_start == seen_start[0]:
                return
            seen_start[0] = trainer.epoch_time_start
            record = EpochRecord.from_trainer(trainer)
            history.append(record)
            if on_epoch:
                on_epoch(record, recipe.epochs)

        yolo.add_callback("on_fit_epoch_end", epoch_end)
        started = time.perf_counter()
        logger.info("training %s from %s on %s", recipe.name, base.path, recipe.data)
        yolo.train(
            data=str(data_yaml),
            epochs=recipe.epochs,
            imgsz=recipe.imgsz,
            batch=recipe.batch,
            device=recipe.device,
            workers=recipe.workers,
            patience=recipe.patience,
            seed=recipe.seed,
            project=str(project),
            name=recipe.name,
            exist_ok=True,
            plots=False,
            verbose=True,
            **recipe.options,
        )
        seconds = time.perf_counter() - started
        run_dir = Path(yolo.trainer.save_dir)
        _copy_best(run_dir, target)
    return _ship(recipe, target, dataset, base, history, seconds, out_dir, run_dir, runs_dir)


def ship_run(
    recipe: TrainRecipe, run_dir: Path, *, out_dir: Path = MODELS_DIR, force: bool = False
) -> TrainResult:
    """Ship the best weights of a training run that was stopped before its last epoch (a
    session ran out of time, a machine went away): copy them, evaluate them on the val split
    and write the card, with the epochs the run's ``results.csv`` recorded."""
    out_dir = Path(out_dir).resolve()
    target = check_recipe(recipe, out_dir, force)
    run_dir = Path(run_dir)
    history = _history_of(run_dir / "results.csv")
    if not history:
        raise TrainingError(f"{run_dir}: results.csv records no finished epoch")
    dataset = load_dataset(recipe.data)
    base = resolve_base(recipe.base)
    _copy_best(run_dir, target)
    seconds = sum(record.seconds for record in history)
    return _ship(recipe, target, dataset, base, history, seconds, out_dir, run_dir, run_dir)


def _copy_best(run_dir: Path, target: Path) -> None:
    """The run's best weights (else its last) to ``target``, without the optimizer state a
    run saves mid-training (half the file)."""
    from ultralytics.utils.torch_utils import strip_optimizer

    best = run_dir / "weights" / "best.pt"
    if not best.is_file():
        best = run_dir / "weights" / "last.pt"
    if not best.is_file():
        raise TrainingError(f"{run_dir}: the training run wrote no weights")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, target)
    strip_optimizer(str(target))


def _history_of(results_csv: Path) -> list[EpochRecord]:
    """Per-epoch figures from Ultralytics' results.csv (its time column is cumulative)."""
    if not results_csv.is_file():
        raise TrainingError(f"{results_csv}: no such file (not an Ultralytics run folder?)")
    history: list[EpochRecord] = []
    previous = 0.0
    with results_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            row = {key.strip(): value for key, value in row.items()}
            elapsed = float(row.get("time") or 0.0)
            history.append(
                EpochRecord(
                    epoch=int(float(row["epoch"])),
                    seconds=elapsed - previous,
                    precision=float(row["metrics/precision(B)"]),
                    recall=float(row["metrics/recall(B)"]),
                    map50=float(row["metrics/mAP50(B)"]),
                    map50_95=float(row["metrics/mAP50-95(B)"]),
                )
            )
            previous = elapsed
    return history


def _ship(
    recipe: TrainRecipe,
    target: Path,
    dataset: Any,
    base: BaseWeights,
    history: list[EpochRecord],
    seconds: float,
    out_dir: Path,
    run_dir: Path,
    kept_runs: Path | None,
) -> TrainResult:
    """Evaluate shipped weights on the val split and write their model card; the run folder
    is reported only when it is kept (``kept_runs``)."""
    size_mb = target.stat().st_size / 1e6
    if size_mb > SHIP_LIMIT_MB:
        logger.warning("%s is %.1f MB, over the %.0f MB to ship", target, size_mb, SHIP_LIMIT_MB)
    report = evaluate(
        target,
        recipe.data,
        split="val",
        imgsz=recipe.imgsz,
        device=recipe.device,
        limit=recipe.limit,
    )
    shipped = load_yolo(target)
    card = ModelCard(
        name=recipe.name,
        weights=target,
        classes=model_class_names(shipped),
        data=dataset,
        base=base.label,
        base_sha256=base.sha256,
        weights_licence=base.licence,
        recipe=recipe,
        seconds=seconds,
        history=history,
        report=report,
        models_dir=out_dir,
    )
    return TrainResult(
        weights=target,
        card=write_card(card, out_dir / "cards" / f"{recipe.name}.md"),
        registry_entry=registry_snippet(card),
        report=report,
        seconds=seconds,
        epochs=len(history),
        run_dir=run_dir if kept_runs else None,
    )
