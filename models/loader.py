"""``load_detector(name_or_path)``: a registry name (or a weight file path) as a Detector, its
weights found and verified by ``models.files``, exported for the runtime by ``models.export``."""

from __future__ import annotations

import logging
from pathlib import Path

from models.export import exported_model
from models.files import int8_calibration, sha256_of, weights_file
from models.registry import ModelEntry, RegistryError, entry, registry
from vision.detectors.base import Detector, ModelFileError

logger = logging.getLogger(__name__)


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
