"""Ultralytics OpenVINO exports run by OpenVINO directly (vision/detectors/openvino_yolo.py):
the boxes of Ultralytics' own predictor on the same export, on real helmet-sfchd val images and
a real 1080p street frame; batches keep their order; bad folders are clear errors.

Uses the helmet exports (fp32 and INT8) of the cache the pipeline uses (made there once)."""

from __future__ import annotations

import numpy as np
import pytest

from models import export, files
from models import registry as reg
from tests.conftest import SHARED, STREET_1080P, need
from vision.detectors.base import ModelFileError
from vision.detectors.openvino_yolo import OpenVinoYoloDetector
from vision.detectors.ultralytics_yolo import UltralyticsDetector
from vision.geometry import box_iou

HELMET_DATA = SHARED / "data" / "helmet-sfchd" / "data.yaml"
VAL_IMAGES = SHARED / "data" / "helmet-sfchd" / "images" / "val"
VAL_SAMPLES = ["00004_000008_jpg.jpg", "00014_000022_jpg.jpg", "00015_000023_jpg.jpg"]
EVERY = {n: n for n in ("helmet", "no_helmet", "no_wear", "wear")}


@pytest.fixture(scope="module")
def exports():
    model = reg.entry("helmet")
    if files.local_file(model) is None:
        pytest.skip(f"helmet weights {model.file} are absent")
    weights = files.weights_file(model, allow_fetch=False)
    return {
        precision: export.exported_model(
            weights, model.sha256, 320, "openvino", name="helmet", calibration=calibration
        )
        for precision, calibration in (("fp32", None), ("int8", need(HELMET_DATA)))
    }


def images():
    import cv2

    found = [cv2.imread(str(need(VAL_IMAGES / name))) for name in VAL_SAMPLES]
    capture = cv2.VideoCapture(str(need(STREET_1080P)))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return [*found, frame]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
@pytest.mark.parametrize("index", range(4), ids=[*VAL_SAMPLES, "street 1080p"])
def test_the_boxes_of_ultralytics_own_predictor(exports, precision, index):
    image = images()[index]
    ours = OpenVinoYoloDetector(exports[precision], EVERY, input_size=320).detect([image])[0]
    theirs = UltralyticsDetector(exports[precision], EVERY, input_size=320).detect([image])[0]
    assert abs(len(ours) - len(theirs)) <= 1
    if len(theirs):
        iou = box_iou(theirs.xyxy, ours.xyxy)
        iou[theirs.label[:, None] != ours.label[None, :]] = 0
        assert (iou.max(axis=1) > 0.95).mean() >= 0.9
        best = iou.argmax(axis=1)
        close = iou.max(axis=1) > 0.95
        np.testing.assert_allclose(ours.score[best][close], theirs.score[close], atol=0.02)


def test_a_batch_of_mixed_sizes_keeps_the_order(exports):
    detector = OpenVinoYoloDetector(exports["int8"], EVERY, input_size=320)
    batch = images()
    together = detector.detect(batch)
    for image, dets in zip(batch, together, strict=True):
        alone = detector.detect([image])[0]
        np.testing.assert_allclose(dets.xyxy, alone.xyxy, atol=1e-3)
        assert dets.label.tolist() == alone.label.tolist()
    assert detector.detect([]) == []


def test_boxes_are_in_the_frames_own_pixels(exports):
    frame = images()[3]
    found = OpenVinoYoloDetector(exports["fp32"], EVERY, input_size=320).detect([frame])[0]
    assert len(found)
    assert found.xyxy[:, 2].max() <= 1920 and found.xyxy[:, 3].max() <= 1080
    assert found.xyxy[:, 2].max() > 320  # scaled back from the 320-wide input


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp, "not an Ultralytics OpenVINO export"),
        (lambda tmp: (tmp / "m.xml").write_text("<net/>") and tmp, "not an Ultralytics OpenVINO"),
    ],
    ids=["an empty folder", "an xml without metadata"],
)
def test_a_folder_that_is_not_an_export_is_a_clear_error(tmp_path, make, message):
    with pytest.raises(ModelFileError, match=message):
        OpenVinoYoloDetector(make(tmp_path), {"helmet": "helmet"})


def test_a_class_map_naming_unknown_classes_is_a_clear_error(exports):
    with pytest.raises(ModelFileError, match=r"class map names \['vest'\]"):
        OpenVinoYoloDetector(exports["fp32"], {"vest": "helmet"})
