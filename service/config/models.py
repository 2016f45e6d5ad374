"""The ``models`` section: which registry models fill each detector role, and how they run."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from service.config.base import FiniteFloat, StrictModel


class ModelsConfig(StrictModel):
    person: list[str] = Field(
        default_factory=lambda: ["yolox-nano-coco", "fall-person-yolov8"],
        min_length=1,
        description="Person detector: registry names in order of preference (the first whose "
        "weights are available is used) or paths to weight files",
    )
    helmet: list[str] = Field(
        default_factory=lambda: ["helmet"],
        min_length=1,
        description="Head detector (helmet / no_helmet) for missing_helmet zones",
    )
    garbage: list[str] = Field(
        default_factory=lambda: ["garbage"],
        min_length=1,
        description="Garbage pile / bin / overflowing bin detector for garbage zones",
    )
    vendor: list[str] = Field(
        default_factory=lambda: ["vendor"],
        min_length=1,
        description="Stalls seen from above, for street_vending zones of eagle-eye cameras",
    )
    device: str = Field("cpu", description="cpu or cuda:N")
    runtime: Literal["auto", "torch", "openvino", "onnx"] = Field(
        "auto",
        description="What runs the detectors: torch, openvino (CPU only) or onnx (ONNX "
        "Runtime); Ultralytics .pt models through an export made once into the cache, YOLOX "
        "ONNX models on OpenVINO (reshaped to each frame's rectangle) or else on ONNX Runtime; "
        "auto = openvino on cpu (1.4-2.4x faster than torch on the 2-core test machine, same "
        "detections: benchmarks/detector_speed.py --runtime), torch on cuda",
    )
    precision: Literal["auto", "fp32", "int8"] = Field(
        "auto",
        description="Precision of the OpenVINO exports of Ultralytics detectors: int8 (NNCF "
        "post-training quantization calibrated on the registry entry's `calibration` "
        "dataset; about half the CPU of fp32 on the 2-core test machine), fp32, or auto = int8 "
        "where the runtime is openvino and the calibration images are on disk, else fp32",
    )
    conf: FiniteFloat = Field(0.25, gt=0, lt=1, description="Detector confidence threshold")
    static_every_s: FiniteFloat = Field(
        5.0,
        gt=0,
        le=600,
        description="Static things (garbage, stalls seen from above, water) are looked for at "
        "most this often per camera; between looks their rules keep their last answer",
    )
    skip_unchanged: FiniteFloat = Field(
        0.0,
        ge=0,
        le=255,
        description="Skip the person/helmet detectors on a frame whose mean absolute "
        "difference from the last analysed one (grey, 64 px wide) is below this; 0 = never "
        "skip. Never skips longer than static_every_s",
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, device: str) -> str:
        if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
            raise ValueError(f"unknown device '{device}' (use cpu, cuda or cuda:N)")
        return device

    @model_validator(mode="after")
    def _int8_needs_openvino(self) -> ModelsConfig:
        if self.precision == "int8" and self.resolved_runtime != "openvino":
            raise ValueError(
                f"precision int8 runs on the openvino runtime, not {self.resolved_runtime} "
                "(set runtime: openvino on a cpu device, or precision: auto)"
            )
        return self

    @property
    def resolved_runtime(self) -> str:
        """``runtime`` with auto decided: openvino on cpu, torch on cuda."""
        if self.runtime == "auto":
            return "openvino" if self.device == "cpu" else "torch"
        return self.runtime

    @field_validator("person", "helmet", "garbage", "vendor", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
