"""The YOLOX-Nano COCO model on real frames of vtest.avi (PETS 2009 campus, 768x576), run by
ONNX Runtime (its fixed 416x416 square) and by OpenVINO (reshaped to each frame's rectangle)."""

import numpy as np
import pytest

from tests.conftest import YOLOX, need
from vision.detectors.base import Detector, ModelFileError
from vision.detectors.yolox_onnx import YoloxOnnxDetector, class_aware_nms
from vision.geometry import box_iou

RUNTIMES = {"onnx": "onnxruntime", "openvino": "openvino"}


@pytest.fixture(scope="module", params=sorted(RUNTIMES), ids=lambda r: f"on {RUNTIMES[r]}")
def yolox_detector(request):
    need(YOLOX)
    from models.loader import load_detector

    detector = load_detector("yolox-nano-coco", runtime=request.param)
    assert detector.runtime == RUNTIMES[request.param]
    return detector


@pytest.fixture(scope="module")
def both_runtimes():
    need(YOLOX)
    from models.loader import load_detector

    return [load_detector("yolox-nano-coco", runtime=r) for r in sorted(RUNTIMES)]


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


@pytest.mark.parametrize("index", [10, 60, 120], ids=["t=5s", "t=30s", "t=60s"])
def test_the_openvino_rectangle_finds_the_people_of_the_onnxruntime_square(
    both_runtimes, vtest_frames, index
):
    square, rectangle = (d.detect([vtest_frames[index].image])[0] for d in both_runtimes)
    square, rectangle = (d[(d.label == "person") & (d.score >= 0.4)] for d in (square, rectangle))
    assert len(square) >= 3
    assert abs(len(square) - len(rectangle)) <= 1
    iou = box_iou(square.xyxy, rectangle.xyxy)
    assert (iou.max(axis=1) > 0.7).mean() >= 0.8  # the same people, boxed alike


def test_openvino_runs_a_16_9_frame_at_416x256(both_runtimes, street_1080p_frame):
    runner = both_runtimes[1]._runner
    assert runner.shape_for(*street_1080p_frame.shape[:2]) == (256, 416)
    assert both_runtimes[0]._runner.shape_for(*street_1080p_frame.shape[:2]) == (416, 416)
    people = both_runtimes[1].detect([street_1080p_frame])[0].with_label("person")
    assert len(people) >= 5  # a busy shopping street
    assert people.xyxy[:, 2].max() > 1000  # boxes in the frame's own 1920x1080 pixels


def test_a_batch_of_mixed_shapes_keeps_the_order(both_runtimes, vtest_frames, street_1080p_frame):
    detector = both_runtimes[1]
    images = [vtest_frames[60].image, street_1080p_frame, vtest_frames[120].image]
    batched = detector.detect(images)
    for image, dets in zip(images, batched, strict=True):
        np.testing.assert_allclose(dets.xyxy, detector.detect([image])[0].xyxy, atol=1e-2)


def test_an_empty_batch_gives_no_results(yolox_detector):
    assert yolox_detector.detect([]) == []


@pytest.mark.parametrize("runtime", sorted(RUNTIMES.values()))
def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path, runtime):
    bogus = tmp_path / "weights.onnx"
    bogus.write_text("this is not a model")
    with pytest.raises(ModelFileError, match="weights.onnx: not a loadable ONNX model"):
        YoloxOnnxDetector(bogus, ["person"], {"person": "person"}, runtime=runtime)


def test_nms_is_done_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    classes = np.array([0, 0, 1])
    assert sorted(class_aware_nms(boxes, scores, classes, 0.5).tolist()) == [0, 2]


@pytest.fixture(scope="module")
def street_1080p_frame(street_1080p):
    import cv2

    capture = cv2.VideoCapture(str(street_1080p))
    ok, image = capture.read()
    capture.release()
    assert ok, f"{street_1080p}: no first frame"
    return image
