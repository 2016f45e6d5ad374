"""OpenVINO exports of Ultralytics weights (models/export.py): the same detections as torch on
real helmet-sfchd val images, made once into the cache, and clear errors for bad weights; the
INT8 export, calibrated on the train split, finds the same heads as the fp32 one.

One fp32 export of models/weights/helmet.pt (about 10-20 s on a loaded CPU) and one INT8
export (about 50 s) into a temporary STREETWATCH_CACHE are shared by the module."""

from __future__ import annotations

import numpy as np
import pytest

from models import export, files, loader
from models import registry as reg
from tests.conftest import SHARED, YOLOX, need
from vision.detectors.base import ModelFileError
from vision.geometry import box_iou

HELMET_DATA = SHARED / "data" / "helmet-sfchd" / "data.yaml"
VAL_IMAGES = SHARED / "data" / "helmet-sfchd" / "images" / "val"
VAL_SAMPLES = ["00004_000008_jpg.jpg", "00014_000022_jpg.jpg", "00015_000023_jpg.jpg"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("cache")
        patch.setenv("STREETWATCH_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def helmet_pt():
    model = reg.entry("helmet")
    if files.local_file(model) is None:
        pytest.skip(f"helmet weights {model.file} are absent")
    return model, files.weights_file(model, allow_fetch=False)


@pytest.fixture(scope="module")
def helmet_openvino(cache, helmet_pt):
    model, weights = helmet_pt
    return export.exported_model(weights, model.sha256, 320, "openvino", name="helmet")


@pytest.fixture(scope="module")
def detectors(helmet_pt, helmet_openvino):
    """torch and OpenVINO detectors of every helmet class, as the pipeline runs them."""
    from vision.detectors.ultralytics_yolo import UltralyticsDetector

    model, weights = helmet_pt
    every = {n: n for n in ("helmet", "no_helmet", "no_wear", "wear")}
    return tuple(UltralyticsDetector(p, every, input_size=320) for p in (weights, helmet_openvino))


def test_the_export_lands_in_the_cache_not_beside_the_weights(cache, helmet_pt, helmet_openvino):
    _, weights = helmet_pt
    assert helmet_openvino.name == "helmet_openvino_model"
    assert helmet_openvino.parent == cache / "exports" / "helmet-868c53ee91f7697c-320-openvino"
    assert {p.suffix for p in helmet_openvino.iterdir()} == {".xml", ".bin", ".yaml"}
    assert not list(helmet_openvino.parent.glob("*.pt"))  # the working copy is gone
    assert not list(weights.parent.glob("*openvino*"))
    assert not list((cache / "exports").glob(".*tmp-*"))


@pytest.mark.parametrize("image_name", VAL_SAMPLES)
def test_openvino_finds_the_same_boxes_as_torch(detectors, image_name):
    import cv2

    image = cv2.imread(str(need(VAL_IMAGES / image_name)))
    torch_dets, ov_dets = (d.detect([image])[0] for d in detectors)
    assert len(torch_dets) > 0
    assert len(ov_dets) == len(torch_dets)
    iou = box_iou(torch_dets.xyxy, ov_dets.xyxy)
    iou[torch_dets.label[:, None] != ov_dets.label[None, :]] = 0  # a match must keep its class
    best = iou.argmax(axis=1)
    assert len(set(best)) == len(best), "two torch boxes matched the same OpenVINO box"
    assert iou.max(axis=1).min() > 0.9
    np.testing.assert_allclose(ov_dets.score[best], torch_dets.score, atol=0.02)


def test_a_batch_through_openvino_matches_torch(detectors):
    import cv2

    images = [cv2.imread(str(need(VAL_IMAGES / name))) for name in VAL_SAMPLES]
    torch_batch, ov_batch = (d.detect(images) for d in detectors)
    assert [len(d) for d in ov_batch] == [len(d) for d in torch_batch]


def test_the_export_is_reused(monkeypatch, helmet_pt, helmet_openvino):
    model, weights = helmet_pt
    made = (helmet_openvino / "helmet.xml").stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(export, "_export", no_export)
    again = export.exported_model(weights, model.sha256, 320, "openvino", name="helmet")
    assert again == helmet_openvino
    assert (again / "helmet.xml").stat().st_mtime_ns == made


def test_load_detector_runs_the_openvino_export(helmet_openvino):
    import cv2

    detector = loader.load_detector("helmet", runtime="openvino")
    assert detector.folder == helmet_openvino  # the export, not the .pt
    assert detector.labels == {"helmet", "no_helmet"}
    found = detector.detect([cv2.imread(str(need(VAL_IMAGES / VAL_SAMPLES[0])))])[0]
    assert len(found) > 0
    assert set(found.label) <= {"helmet", "no_helmet"}


def test_corrupt_weights_are_a_model_file_error_naming_the_model(cache, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint" * 64)
    with pytest.raises(ModelFileError, match=r"model 'broken': openvino export .* failed \(.+\)"):
        export.exported_model(bad, files.sha256_of(bad), 320, "openvino")
    left = [p.name for p in (cache / "exports").glob("*broken-*") if p.suffix != ".lock"]
    assert not left  # no half export left behind
    with pytest.raises(ModelFileError, match="broken"):
        loader.load_detector(str(bad), runtime="openvino")


@pytest.mark.parametrize(
    "runtime, engine", [("openvino", "openvino"), ("onnx", "onnxruntime"), ("torch", "onnxruntime")]
)
def test_yolox_runs_on_openvino_or_onnx_runtime(runtime, engine):
    need(YOLOX)
    detector = loader.load_detector("yolox-nano-coco", runtime=runtime)
    assert type(detector).__name__ == "YoloxOnnxDetector"
    assert detector.runtime == engine


def test_openvino_is_cpu_only():
    with pytest.raises(ValueError, match="CPU only"):
        loader.load_detector("helmet", device="cuda:0", runtime="openvino")


@pytest.mark.parametrize(
    "device, runtime, resolved",
    [("cpu", "auto", "openvino"), ("cuda:0", "auto", "torch"), ("cpu", "onnx", "onnx")],
)
def test_the_auto_runtime_is_openvino_on_cpu_and_torch_on_cuda(device, runtime, resolved):
    from service.config import ModelsConfig

    assert ModelsConfig(device=device, runtime=runtime).resolved_runtime == resolved


@pytest.fixture(scope="module")
def helmet_int8(cache, helmet_pt):
    model, weights = helmet_pt
    return export.exported_model(
        weights, model.sha256, 320, "openvino", name="helmet", calibration=need(HELMET_DATA)
    )


def test_the_int8_export_is_quantized_and_cached_apart(cache, helmet_int8, helmet_openvino):
    assert helmet_int8.parent == cache / "exports" / "helmet-868c53ee91f7697c-320-openvino-int8"
    xml = next(helmet_int8.glob("*.xml")).read_text()
    assert "FakeQuantize" in xml  # NNCF's quantize nodes: the weights run in 8 bits
    assert "FakeQuantize" not in next(helmet_openvino.glob("*.xml")).read_text()
    assert not list(helmet_int8.parent.glob(".calibration"))  # calibration links removed


@pytest.mark.parametrize("image_name", VAL_SAMPLES)
def test_int8_finds_what_fp32_finds(helmet_openvino, helmet_int8, image_name):
    import cv2

    from vision.detectors.ultralytics_yolo import UltralyticsDetector

    every = {n: n for n in ("helmet", "no_helmet", "no_wear", "wear")}
    image = cv2.imread(str(need(VAL_IMAGES / image_name)))
    fp32, int8 = (
        UltralyticsDetector(p, every, input_size=320).detect([image])[0]
        for p in (helmet_openvino, helmet_int8)
    )
    sure = fp32[fp32.score >= 0.5]
    assert len(sure) > 0
    iou = box_iou(sure.xyxy, int8.xyxy)
    iou[sure.label[:, None] != int8.label[None, :]] = 0
    assert (iou.max(axis=1) > 0.7).mean() >= 0.8  # the confident boxes, same class, same place


def test_load_detector_runs_int8_when_asked_and_auto_finds_the_calibration(helmet_int8):
    detector = loader.load_detector("helmet", runtime="openvino", precision="int8")
    assert detector.folder == helmet_int8
    auto = loader.load_detector("helmet", runtime="openvino", precision="auto")
    assert auto.folder == helmet_int8


def test_auto_stays_fp32_off_openvino_or_without_calibration_images(helmet_pt):
    model, _ = helmet_pt
    assert files.int8_calibration(model, "torch", "auto") is None
    assert files.int8_calibration(model, "openvino", "fp32") is None
    absent = model.model_copy(update={"calibration": "shared:data/nowhere/data.yaml"})
    assert files.int8_calibration(absent, "openvino", "auto") is None
    kept_fp32 = model.model_copy(update={"auto_precision": "fp32"})
    assert files.int8_calibration(kept_fp32, "openvino", "auto") is None
    assert files.int8_calibration(kept_fp32, "openvino", "int8") == need(HELMET_DATA)


@pytest.mark.parametrize(
    "calibration, runtime, error, message",
    [
        (None, "openvino", ModelFileError, "names no `calibration` dataset"),
        ("shared:data/nowhere/data.yaml", "openvino", ModelFileError, "nowhere.* is not on disk"),
        ("shared:data/helmet-sfchd/data.yaml", "onnx", ValueError, "int8 runs on openvino only"),
    ],
    ids=["no calibration dataset", "calibration dataset absent", "int8 on onnx"],
)
def test_int8_that_cannot_be_made_is_a_clear_error(helmet_pt, calibration, runtime, error, message):
    model, _ = helmet_pt
    changed = model.model_copy(update={"calibration": calibration})
    with pytest.raises(error, match=message):
        files.int8_calibration(changed, runtime, "int8")


def test_a_calibration_dataset_without_labels_fails_the_export_clearly(cache, helmet_pt, tmp_path):
    model, weights = helmet_pt
    bad = tmp_path / "data.yaml"
    (tmp_path / "images" / "train").mkdir(parents=True)
    bad.write_text("train: images/train\nval: images/train\nnames: {0: helmet}\n")
    with pytest.raises(ModelFileError, match=r"model 'helmet-bad': openvino export .* failed"):
        export.exported_model(
            weights, model.sha256, 320, "openvino", name="helmet-bad", calibration=bad
        )
    assert not list((cache / "exports").glob("helmet-bad-*-int8"))
