"""The reference-frame water detector on real pixels: PETS 2009 campus frames (vtest.avi) with
a synthetic puddle (darkened, smoothed, bluish, with specular highlights) painted on the road,
and the untouched frames, people walking included, which must show no water."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.detectors.base import Detector
from vision.detectors.water import WaterDetector
from vision.geometry import box_iou

ROAD = [
    [0, 190], [300, 212], [480, 198], [700, 108], [768, 100], [768, 490], [600, 432],
    [430, 362], [330, 302], [180, 266], [0, 242],
]  # fmt: skip
"""The campus road of vtest.avi (768x576), between the parking bays and the lawn."""


def paint_puddle(
    image: np.ndarray,
    centre: tuple[int, int],
    axes: tuple[int, int],
    *,
    tone: float = 0.55,
    glints: int = 6,
    seed: int = 0,
) -> np.ndarray:
    """A soft-edged elliptic puddle: the road under it blurred, its brightness times ``tone``,
    tinted towards the sky's blue, with ``glints`` bright specular streaks."""
    rng = np.random.default_rng(seed)
    out = image.astype(np.float32)
    alpha = np.zeros(image.shape[:2], np.float32)
    cv2.ellipse(alpha, centre, axes, 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 4)[..., None]
    wet = cv2.GaussianBlur(out, (0, 0), 5) * tone + np.array([12, 4, 0], np.float32)
    glare = np.zeros(image.shape[:2], np.float32)
    for _ in range(glints):
        x = int(centre[0] + rng.uniform(-0.6, 0.6) * axes[0])
        y = int(centre[1] + rng.uniform(-0.5, 0.5) * axes[1])
        cv2.ellipse(glare, (x, y), (int(rng.integers(4, 10)), 2), 0, 0, 360, 1.0, -1)
    glare = cv2.GaussianBlur(glare, (0, 0), 1.5)[..., None]
    wet = wet * (1 - glare) + 245 * glare
    return np.clip(out * (1 - alpha) + wet * alpha, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def water(vtest_frames) -> WaterDetector:
    dry = [frame.image for frame in vtest_frames[::8]]
    return WaterDetector.from_frames(dry, ROAD)


def test_it_is_a_detector_of_water(water):
    assert isinstance(water, Detector)
    assert water.labels == {"water"}


@pytest.mark.parametrize(
    "centre, axes",
    [((560, 330), (80, 28)), ((680, 250), (50, 22)), ((150, 222), (60, 14))],
    ids=[
        "a wide puddle on the crossing",
        "a puddle on the road up to the car park",
        "a thin puddle on the far lane",
    ],
)
@pytest.mark.parametrize("index", [10, 60], ids=["t=5s", "t=30s, people on the road"])
def test_a_puddle_on_the_road_is_found_where_it_is(water, vtest_frames, index, centre, axes):
    image = paint_puddle(vtest_frames[index].image, centre, axes)
    analysis = water.analyse(image)
    dets = analysis.detections
    assert len(dets) == 1 and dets.label.tolist() == ["water"]
    truth = np.array(
        [centre[0] - axes[0], centre[1] - axes[1], centre[0] + axes[0], centre[1] + axes[1]]
    )
    x0, y0, x1, y1 = dets.xyxy[0]
    assert (x0, y0) >= tuple(truth[:2] - 20) and (x1, y1) <= tuple(truth[2:] + 20)
    inter = np.clip(np.minimum([x1, y1], truth[2:]) - np.maximum([x0, y0], truth[:2]), 0, None)
    assert inter.prod() >= 0.6 * np.prod(truth[2:] - truth[:2])
    assert 0.2 <= dets.score[0] <= 1.0
    ellipse = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(ellipse, centre, axes, 0, 0, 360, 1, -1)
    assert (analysis.mask & ellipse.astype(bool)).sum() >= 0.6 * ellipse.sum()
    assert 0.005 < analysis.coverage < 0.1


@pytest.mark.parametrize(
    "tone, glints",
    [(0.6, 0), (1.3, 0), (0.75, 3)],
    ids=["dark and dull", "mirroring a bright sky", "barely darker, with glints"],
)
def test_puddles_of_other_looks_are_found(water, vtest_frames, tone, glints):
    image = paint_puddle(vtest_frames[30].image, (560, 330), (80, 28), tone=tone, glints=glints)
    dets = water.detect([image])[0]
    assert len(dets) == 1
    assert box_iou(dets.xyxy, [[480, 302, 640, 358]])[0, 0] >= 0.5


def test_the_frames_as_they_are_show_no_water(water, vtest_frames):
    """Every frame at 2 fps, people walking across the road in most of them."""
    wet = [i for i, frame in enumerate(vtest_frames) if len(water.detect([frame.image])[0])]
    assert wet == []


@pytest.mark.parametrize("gain", [0.7, 1.25], ids=["a darker day", "a brighter day"])
def test_a_change_of_light_over_the_whole_view_is_not_water(water, vtest_frames, gain):
    image = np.clip(vtest_frames[60].image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    analysis = water.analyse(image)
    assert len(analysis.detections) == 0 and analysis.coverage == 0.0


def test_water_off_the_road_is_ignored(water, vtest_frames):
    image = paint_puddle(vtest_frames[10].image, (250, 450), (80, 28))  # on the lawn
    assert len(water.detect([image])[0]) == 0


def test_a_batch_gives_one_result_per_frame(water, vtest_frames):
    images = [vtest_frames[10].image, paint_puddle(vtest_frames[10].image, (560, 330), (80, 28))]
    assert [len(d) for d in water.detect(images)] == [0, 1]
    assert water.detect([]) == []


def test_a_frame_of_another_size_is_refused(water):
    with pytest.raises(ValueError, match="frame is 640x480, the reference 768x576"):
        water.analyse(np.zeros((480, 640, 3), np.uint8))


def test_a_road_outside_the_frame_is_refused(vtest_frames):
    with pytest.raises(ValueError, match="road polygon covers no pixel"):
        WaterDetector(vtest_frames[0].image, [[900, 900], [1000, 900], [1000, 1000]])
