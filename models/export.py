"""Ultralytics ``.pt`` weights converted once to a faster CPU runtime (OpenVINO, ONNX Runtime).

``exported_model(weights, sha256, imgsz, runtime)`` returns what ``ultralytics.YOLO`` loads for
that runtime (an ``*_openvino_model`` folder or an ``.onnx`` file), exporting it the first time
into ``<cache>/exports/<name>-<sha256[:16]>-<imgsz>-<runtime>[-int8]/``.

``calibration=DATA.yaml`` makes an INT8 OpenVINO export instead: NNCF post-training
quantization (Ultralytics' recipe: mixed preset, the detection head's box decoding kept in
float), its activation ranges calibrated on up to ``CALIBRATION_IMAGES`` images of the
dataset's train split (never the val split its accuracy is reported on). Measured on the 2-core
test machine, per 1080p frame: helmet (imgsz 320) 0.078 -> 0.039 CPU s, fall-person-yolov8
(640) 0.31 -> 0.15 CPU s; val AP50 in ``models/cards`` and the README.

Exports use dynamic shapes (batch, height, width): predict then letterboxes exactly like the
PyTorch model (minimal rectangle, not a padded square), so the detections are the same as torch
and no pixels are wasted on padding. Measured on helmet (YOLOv8s, imgsz 320, 2 CPU cores):
static exports at batch 1 were slower than dynamic ones and changed the detection count on
some images; static batch-8 exports are 7x slower at batch 1 (each short batch is padded).

Exports are atomic and safe across processes: an exclusive ``flock`` on a lock file beside the
export serialises exporters, each export is written into a temporary folder next to its final
place and renamed when complete, so a crash never leaves a half export.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from models.files import cache_dir
from vision.detectors.base import ModelFileError, first_line

logger = logging.getLogger(__name__)

RUNTIMES = ("torch", "openvino", "onnx")
"""``torch`` runs the ``.pt`` itself; the others run an export of it."""

EXPORT_OPTIONS = {"dynamic": True, "batch": 1}
"""Chosen by measurement (module docstring); dynamic exports take any batch size."""


CALIBRATION_IMAGES = 300
"""Images an INT8 export is calibrated on (NNCF's default subset size)."""


def export_dir(name: str, sha256: str, imgsz: int, runtime: str, *, int8: bool = False) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "model"
    suffix = "-int8" if int8 else ""
    return cache_dir() / "exports" / f"{safe}-{sha256[:16]}-{imgsz}-{runtime}{suffix}"


def _artifact(folder: Path, runtime: str) -> Path | None:
    """The loadable export inside ``folder``, if there is one."""
    pattern = "*_openvino_model" if runtime == "openvino" else "*.onnx"
    found = sorted(folder.glob(pattern))
    return found[0] if found else None


def exported_model(
    weights: Path,
    sha256: str,
    imgsz: int,
    runtime: str,
    *,
    name: str | None = None,
    calibration: Path | None = None,
) -> Path:
    """The ``runtime`` export of the Ultralytics ``weights`` (sha256 ``sha256``) at ``imgsz``,
    exported now unless the cache has it; INT8 (OpenVINO only) when ``calibration`` names a
    YOLO dataset yaml. ``name`` (default: the file's stem) names the cache entry. Raises
    ModelFileError naming the model and the cause when the export fails."""
    if runtime not in RUNTIMES or runtime == "torch":
        raise ValueError(f"no export for runtime '{runtime}' (exports: openvino, onnx)")
    if calibration is not None and runtime != "openvino":
        raise ValueError(f"INT8 exports are made for openvino only, not for {runtime}")
    weights = Path(weights)
    name = name or weights.stem
    final = export_dir(name, sha256, imgsz, runtime, int8=calibration is not None)
    if (found := _artifact(final, runtime)) is not None:
        return found
    if not weights.is_file():
        raise ModelFileError(f"model '{name}': {runtime} export failed (no such file {weights})")
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if (found := _artifact(final, runtime)) is not None:
            return found  # another process exported it while this one waited
        for stale in final.parent.glob(f".{final.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a crashed exporter
        if final.exists():  # neither a complete export nor ours: replace it
            shutil.rmtree(final)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            artifact = _export(weights, work, name, imgsz, runtime, calibration)
            work.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return final / artifact.name


def _calibration_yaml(calibration: Path, work: Path) -> Path:
    """A dataset yaml whose ``val`` split (the one Ultralytics calibrates on) is the first
    ``CALIBRATION_IMAGES`` images of ``calibration``'s train split, linked into ``work``."""
    from models.datasets import load_dataset, mirror_dataset

    dataset = load_dataset(calibration)
    split = "train" if "train" in dataset.splits else "val"
    return mirror_dataset(dataset, work, splits=(split,), limit=CALIBRATION_IMAGES)


def _export(
    weights: Path, work: Path, name: str, imgsz: int, runtime: str, calibration: Path | None
) -> Path:
    """Export into the empty folder ``work`` (Ultralytics writes beside its input file, so the
    weights are copied there first); the loadable export."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    copy = work / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.pt"
    shutil.copyfile(weights, copy)
    started = time.perf_counter()
    options: dict = dict(EXPORT_OPTIONS)
    calib_dir = work / ".calibration"
    try:
        if calibration is not None:
            options |= {"int8": True, "data": str(_calibration_yaml(calibration, calib_dir))}
            logger.info("model %s: INT8 calibration on %s (train split)", name, calibration)
        model = YOLO(str(copy), task="detect")
        if model.task != "detect":
            raise ValueError(f"a {model.task} model, not a detection model")
        model.export(format=runtime, imgsz=imgsz, **options, verbose=False)
    except Exception as exc:  # ultralytics raises many kinds on a bad file or a failed export
        reason = first_line(exc)
        reason = reason.removeprefix("ERROR ❌️ ").replace(str(copy), str(weights))
        raise ModelFileError(
            f"model '{name}': {runtime} export of {weights} failed ({reason})"
        ) from None
    copy.unlink()
    shutil.rmtree(calib_dir, ignore_errors=True)
    artifact = _artifact(work, runtime)
    if artifact is None:
        raise ModelFileError(f"model '{name}': {runtime} export of {weights} wrote no model")
    logger.info(
        "exported model %s to %s%s (imgsz %d) in %.1f s",
        name,
        runtime,
        " int8" if calibration is not None else "",
        imgsz,
        time.perf_counter() - started,
    )
    return artifact
