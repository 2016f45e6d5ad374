"""The YOLOX-Nano COCO model on real frames of vtest.avi (PETS 2009 campus, 768x576)."""

import numpy as np
import pytest

from vision.detectors.base import Detector, ModelFileError
from vision.detectors.yolox_onnx import YoloxOnnxDetector, class_aware_nms


def test_it_is_a_detector(yolox_detector):
    assert isinstance(yolox_detector, Detector)
    assert "person" in yolox_detector.labels


@pytest.mark.parametrize("index", [10, 60, 120], ids=["t=5s", "t=30s", "t=60s"])
def test_finds_the_people_walking_on_the_campus_road(yolox_detector, vtest_frames, index):
    frame = vtest_frames[index]
    dets = yolox_detector.detect([frame.image])[0]
    people = dets.with_label("person")
    people = people[people.score >= 0.4]
    assert 3 <= len(people) <= 14  # the clip shows up to about ten people at once
    assert (people.xyxy[:, [0, 2]] >= -2).all() and (
        people.xyxy[:, [0, 2]] <= frame.width + 2
    ).all()
    assert (people.xyxy[:, [1, 3]] >= -2).all() and (
        people.xyxy[:, [1, 3]] <= frame.height + 2
    ).all()
    heights = people.xyxy[:, 3] - people.xyxy[:, 1]
    widths = people.xyxy[:, 2] - people.xyxy[:, 0]
    assert (heights > widths).mean() > 0.8  # standing people are taller than wide


def test_a_batch_gives_the_same_boxes_as_single_frames(yolox_detector, vtest_frames):
    images = [vtest_frames[i].image for i in (20, 80, 140)]
    batched = yolox_detector.detect(images)
    for image, dets in zip(images, batched, strict=True):
        single = yolox_detector.detect([image])[0]
        np.testing.assert_allclose(dets.xyxy, single.xyxy, atol=1e-3)
        assert dets.label.tolist() == single.label.tolist()


def test_boxes_scale_with_the_input_resolution(yolox_detector, vtest_frames):
    import cv2

    image = vtest_frames[60].image
    small = cv2.resize(image, (384, 288))
    big = yolox_detector.detect([image])[0].with_label("person")
    half = yolox_detector.detect([small])[0].with_label("person")
    assert abs(len(big) - len(half)) <= 3
    assert np.median(big.xyxy[:, 3] - big.xyxy[:, 1]) == pytest.approx(
        2 * np.median(half.xyxy[:, 3] - half.xyxy[:, 1]), rel=0.3
    )


def test_an_empty_batch_gives_no_results(yolox_detector):
    assert yolox_detector.detect([]) == []


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    bogus = tmp_path / "weights.onnx"
    bogus.write_text("this is not a model")
    with pytest.raises(ModelFileError, match="weights.onnx: not a loadable ONNX model"):
        YoloxOnnxDetector(bogus, ["person"], {"person": "person"})


def test_nms_is_done_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    classes = np.array([0, 0, 1])
    assert sorted(class_aware_nms(boxes, scores, classes, 0.5).tolist()) == [0, 2]
