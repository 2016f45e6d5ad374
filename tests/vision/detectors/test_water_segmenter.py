"""The segmentation water detector on real street photos (../shared/data/flood-street) with the
real DeepLabV3 ADE20K model and the shipped head: flooded streets are found, dry and rain-wet
roads stay quiet, zones and batches behave, and a wrong model file is refused in one line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED, need
from vision.detectors.base import Detector, ModelFileError
from vision.detectors.water_segmenter import (
    SHARE_THRESHOLD,
    WaterHead,
    WaterSegmenter,
    lower_zone,
)

MODEL = SHARED / "models" / "deeplabv3_mnv2_ade20k.tflite"
FLOOD = SHARED / "data" / "flood-street"
HEAD = Path(__file__).resolve().parents[3] / "models" / "weights" / "water_head.json"

FLOODED = {
    "a flooded street mirroring parked cars": ("val/flooding/image_145.jpg", 0.99),
    "cars wading through a flooded street": ("train/flooding/image_102.jpg", 0.89),
    "a man walking into brown flood water": ("val/flooding/image_75.jpg", 0.96),
}
"""Label -> (image, water share of the lower half, measured)."""
DRY = {
    "a dirt track under a stormy sky": "val/normal/0Y7A0761.jpg",
    "a dry country highway": "val/normal/ia_100000000415.jpg",
    "a dry road with stock watermarks": "val/normal/images_11.jpg",
    "a rain-wet city avenue": "hard_negatives/wet_road/15684955619_6e27cdf1d2_b.jpg",
}
GREY_ROAD = "val/normal/images_15.jpg"
"""A dry suburban road whose smooth grey asphalt the model half calls water."""


def image(relative: str) -> np.ndarray:
    picture = cv2.imread(str(need(FLOOD / relative)))
    assert picture is not None, relative
    return picture


@pytest.fixture(scope="module")
def segmenter() -> WaterSegmenter:
    return WaterSegmenter(need(MODEL), head=HEAD)


def test_it_is_a_detector_of_water(segmenter):
    assert isinstance(segmenter, Detector)
    assert segmenter.labels == {"water"}
    assert segmenter.threshold == WaterHead.load(HEAD).threshold


@pytest.mark.parametrize("case", list(FLOODED), ids=list(FLOODED))
def test_a_flooded_street_is_flooded(segmenter, case):
    relative, share = FLOODED[case]
    picture = image(relative)
    reading = segmenter.analyse(picture)
    # the figure guards the runtime too: OpenVINO's multi-stream CPU mode returned ~0 here
    assert reading.coverage == pytest.approx(share, abs=0.05)
    assert reading.flooded and reading.score >= segmenter.threshold
    height, width = picture.shape[:2]
    dets = reading.detections
    assert len(dets) >= 1 and set(dets.label.tolist()) == {"water"}
    assert (dets.xyxy[:, [0, 2]] >= 0).all() and (dets.xyxy[:, [0, 2]] <= width).all()
    assert (dets.xyxy[:, 1] >= height / 2 - height / 129 - 1).all()  # inside the lower half
    assert (dets.score > 0.5).all()
    mask = reading.mask
    assert mask.shape == (height, width)
    assert mask[: height // 2 - 2].sum() == 0 and mask.mean() > 0.25


@pytest.mark.parametrize("case", list(DRY), ids=list(DRY))
def test_a_dry_or_rain_wet_road_stays_quiet(segmenter, case):
    reading = segmenter.analyse(image(DRY[case]))
    assert not reading.flooded
    assert reading.score < segmenter.threshold / 2
    assert reading.coverage < 0.05
    assert len(reading.detections) == 0


def test_the_head_overrules_water_coloured_asphalt(segmenter):
    """The water share alone would report this dry road; the head reads the whole scene."""
    reading = segmenter.analyse(image(GREY_ROAD))
    assert reading.coverage > 5 * SHARE_THRESHOLD
    assert not reading.flooded


def test_without_a_head_the_water_share_decides():
    plain = WaterSegmenter(need(MODEL))
    reading = plain.analyse(image(GREY_ROAD))
    assert plain.head is None and plain.threshold == SHARE_THRESHOLD
    assert reading.score == reading.coverage and reading.flooded


def test_a_wide_frame_keeps_its_aspect(segmenter):
    """Letterboxed: a 16:9 frame fills 73 of the 129 grid rows, the padding is dropped."""
    frame = cv2.resize(image("val/flooding/image_145.jpg"), (1920, 1080))
    seg = segmenter.segment([frame])[0]
    assert seg.grid == (73, 129) and seg.frame_size == (1920, 1080)
    assert segmenter.read(seg).coverage > 0.9


def test_a_head_refuses_frames_fitted_otherwise():
    stretched = WaterSegmenter(need(MODEL), fit="stretch")
    assert stretched.segment([image(DRY["a dry country highway"])])[0].grid == (129, 129)
    with pytest.raises(ValueError, match="trained on letterbox frames, not stretch"):
        WaterSegmenter(need(MODEL), head=HEAD, fit="stretch")


def test_a_batch_reads_as_its_frames_one_by_one(segmenter):
    pictures = [
        image(FLOODED["cars wading through a flooded street"][0]),
        image(DRY[next(iter(DRY))]),
    ]
    together = segmenter.analyse_batch(pictures)
    alone = [segmenter.analyse(p) for p in pictures]
    for a, b in zip(together, alone, strict=True):
        assert a.coverage == pytest.approx(b.coverage, abs=1e-4)
        assert a.score == pytest.approx(b.score, abs=1e-4)


def test_detect_finds_water_regions_over_the_whole_frame(segmenter):
    flooded, dry = image("val/flooding/image_145.jpg"), image(DRY["a dry country highway"])
    wet, quiet = segmenter.detect([flooded, dry])
    assert len(wet) >= 1 and set(wet.label.tolist()) == {"water"}
    height, width = flooded.shape[:2]
    assert (wet.xyxy >= 0).all() and (wet.xyxy[:, 2] <= width).all()
    assert (wet.xyxy[:, 3] <= height).all()
    assert len(quiet) == 0


def test_zone_share_follows_the_polygon(segmenter):
    picture = image("val/flooding/image_145.jpg")
    height, width = picture.shape[:2]
    seg = segmenter.segment([picture])[0]
    lower = segmenter.zone_share(seg)
    assert lower == pytest.approx(segmenter.zone_share(seg, lower_zone((width, height))))
    # a zone reaching past the frame counts only its part inside the frame
    beyond = [
        [-50, height / 2],
        [width + 50, height / 2],
        [width + 50, height + 80],
        [-50, height + 80],
    ]
    assert segmenter.zone_share(seg, beyond) == pytest.approx(lower, abs=0.01)
    # the strip along the bottom is all water
    bottom = [[0, height * 0.85], [width, height * 0.85], [width, height], [0, height]]
    assert segmenter.zone_share(seg, bottom) > 0.95
    reading = segmenter.read(seg, bottom)
    assert reading.mask[: int(height * 0.8)].sum() == 0


def test_a_zone_outside_the_frame_is_refused(segmenter):
    seg = segmenter.segment([image(DRY["a dry country highway"])])[0]
    width, height = seg.frame_size
    with pytest.raises(ValueError, match="outside the 640x480 frame"):
        segmenter.zone_share(seg, [[width + 10, 0], [width + 90, 0], [width + 90, 50]])


# -- refused model files ---------------------------------------------------------------------


def assert_one_line_naming(error: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message


def test_a_missing_model_file_is_refused(tmp_path):
    path = tmp_path / "deeplab.tflite"
    with pytest.raises(ModelFileError) as error:
        WaterSegmenter(path)
    assert_one_line_naming(error, path, "no such model file")


def test_a_corrupt_model_file_is_refused(tmp_path):
    path = tmp_path / "deeplab.tflite"
    path.write_bytes(need(MODEL).read_bytes()[: 1 << 20])  # truncated download
    with pytest.raises(ModelFileError) as error:
        WaterSegmenter(path)
    assert_one_line_naming(error, path, "sha256", "corrupt or replaced")


def test_an_unreadable_model_file_is_refused_without_a_checksum(tmp_path):
    path = tmp_path / "deeplab.tflite"
    path.write_bytes(b"not a flatbuffer at all" * 100)
    with pytest.raises(ModelFileError) as error:
        WaterSegmenter(path, sha256=None)
    assert_one_line_naming(error, path, "not a loadable segmentation model")


def test_another_model_is_refused(tmp_path):
    other = need(SHARED / "models" / "yolox_nano.onnx")
    with pytest.raises(ModelFileError) as error:
        WaterSegmenter(other, sha256=None)
    assert_one_line_naming(error, other, "not the DeepLabV3 ADE20K segmentation model")


@pytest.mark.parametrize(
    "text, words",
    [("{not json", "not a readable water head"), ('{"format": "x"}', "not a water head file")],
    ids=["not JSON", "another JSON file"],
)
def test_a_broken_head_file_is_refused(tmp_path, text, words):
    path = tmp_path / "head.json"
    path.write_text(text)
    with pytest.raises(ModelFileError) as error:
        WaterHead.load(path)
    assert_one_line_naming(error, path, words)
