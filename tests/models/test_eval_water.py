"""Evaluating the water segmenter on small folders of real flood-street photos (linked from
../shared, never copied), its clear errors, and training the head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.eval_water import (
    HEAD_FILE,
    WaterEvalError,
    _fit_logistic,
    evaluate_water,
    false_alarms,
    fit_water_head,
)
from tests.conftest import SHARED, need
from vision.detectors.water_segmenter import WaterHead, WaterSegmenter

MODEL = SHARED / "models" / "deeplabv3_mnv2_ade20k.tflite"
FLOOD = SHARED / "data" / "flood-street"
FLOODING = [
    "val/flooding/image_145.jpg",
    "train/flooding/image_102.jpg",
    "val/flooding/image_75.jpg",
]
NORMAL = ["val/normal/0Y7A0761.jpg", "val/normal/ia_100000000415.jpg", "val/normal/images_15.jpg"]
WET = [
    "hard_negatives/wet_road/15684955619_6e27cdf1d2_b.jpg",
    "hard_negatives/wet_road/8161090108_775637106f_b.jpg",
]


def linked(folder: Path, files: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for relative in files:
        source = need(FLOOD / relative)
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture(scope="module")
def segmenter() -> WaterSegmenter:
    return WaterSegmenter(need(MODEL), head=HEAD_FILE)


@pytest.fixture
def small_set(tmp_path) -> Path:
    linked(tmp_path / "small" / "flooding", FLOODING)
    linked(tmp_path / "small" / "normal", NORMAL)
    return tmp_path / "small"


def test_a_small_real_set_is_measured(segmenter, small_set):
    calls = []
    result = evaluate_water(
        small_set, segmenter=segmenter, batch=2, progress=lambda *a: calls.append(a)
    )
    assert (result.tp, result.fp, result.fn, result.tn) == (3, 0, 0, 3)
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)
    assert result.threshold == segmenter.threshold and result.scored_by == "head"
    assert calls == [(2, 6), (4, 6), (6, 6)]
    shares = {Path(r.path).name: r.share for r in result.images}
    assert shares["image_145.jpg"] > 0.9 and shares["ia_100000000415.jpg"] < 0.01
    assert result.to_json()["f1"] == 1.0 and result.seconds_per_image > 0


def test_the_water_share_alone_mistakes_a_grey_road(small_set):
    plain = WaterSegmenter(need(MODEL))
    result = evaluate_water(small_set, segmenter=plain)
    assert result.scored_by == "share"
    assert (result.tp, result.fp) == (3, 1)
    assert [Path(r.path).name for r in result.images if r.predicted and not r.flooded] == [
        "images_15.jpg"
    ]
    # an explicit threshold overrides the segmenter's
    strict = evaluate_water(small_set, threshold=0.9, segmenter=plain)
    assert strict.threshold == 0.9 and strict.fp == 0 and strict.tp == 2


def test_a_zone_in_image_pixels_applies_to_every_image(segmenter, small_set):
    below = [[0, 70], [700, 70], [700, 700], [0, 700]]  # the frames are 100 to 640 px wide
    result = evaluate_water(small_set, zone=below, segmenter=segmenter)
    assert result.zone == [[0.0, 70.0], [700.0, 70.0], [700.0, 700.0], [0.0, 700.0]]
    assert result.recall == 1.0


def test_rain_wet_roads_raise_no_false_alarm(segmenter, tmp_path):
    folder = linked(tmp_path / "wet", WET)
    result = false_alarms(folder, segmenter=segmenter)
    assert result.false_alarm_rate == 0.0 and result.tn == 2
    assert len(false_alarms(folder, half="odd", segmenter=segmenter).images) == 1


def unreadable(root: Path) -> Path:
    (root / "flooding" / "broken.jpg").write_text("this is not a JPEG")
    return root


def missing_normal(root: Path) -> Path:
    for picture in (root / "normal").iterdir():
        picture.unlink()
    (root / "normal").rmdir()
    return root


def empty_flooding(root: Path) -> Path:
    for picture in (root / "flooding").iterdir():
        picture.unlink()
    return root


@pytest.mark.parametrize(
    "spoil, words",
    [
        (lambda root: root / "absent", "no such data folder"),
        (missing_normal, "no normal/ folder"),
        (empty_flooding, "flooding: no images"),
        (unreadable, "broken.jpg: cannot be read as an image"),
    ],
    ids=[
        "a missing folder",
        "no normal/ folder",
        "an empty flooding/ folder",
        "an unreadable image",
    ],
)
def test_bad_data_is_a_clear_error(segmenter, small_set, spoil, words):
    with pytest.raises(WaterEvalError, match=words):
        evaluate_water(spoil(small_set), segmenter=segmenter)


def test_a_zone_outside_the_frame_is_a_clear_error(segmenter, small_set):
    with pytest.raises(WaterEvalError, match="lies outside the"):
        evaluate_water(small_set, zone=[[2000, 0], [2100, 0], [2100, 90]], segmenter=segmenter)


def test_an_empty_negatives_folder_is_a_clear_error(segmenter, tmp_path):
    (tmp_path / "wet").mkdir()
    with pytest.raises(WaterEvalError, match="no images"):
        false_alarms(tmp_path / "wet", segmenter=segmenter)


def test_a_head_trained_on_real_photos_round_trips(tmp_path):
    plain = WaterSegmenter(need(MODEL))
    train = tmp_path / "train"
    linked(train / "flooding", FLOODING + ["val/flooding/image_27.jpg"])
    linked(
        train / "normal", NORMAL[:2] + ["val/normal/images_11.jpg", "train/normal/images_30.jpg"]
    )
    negatives = [need(FLOOD / relative) for relative in WET]
    fit = fit_water_head(train, negatives, segmenter=plain, c=[0.1, 1.0], folds=2, repeats=1)
    assert fit.c in (0.1, 1.0) and set(fit.candidates) == {0.1, 1.0}
    assert fit.samples == {"flooding": 4, "normal": 4, "extra_negatives": 2}
    assert 0 < fit.head.threshold < 1
    saved = WaterHead.load(fit.head.save(tmp_path / "head.json", trained_on="test"))
    assert saved.meta["trained_on"] == "test"
    features = np.random.default_rng(0).normal(-5, 2, (3, 302))
    assert np.allclose(saved.predict(features), fit.head.predict(features), atol=1e-4)
    scored = evaluate_water(train, segmenter=WaterSegmenter(need(MODEL), head=saved))
    assert scored.f1 == 1.0  # the training images themselves


def test_too_few_images_to_cross_validate_is_a_clear_error(small_set):
    with pytest.raises(WaterEvalError, match="too few images"):
        fit_water_head(small_set, segmenter=WaterSegmenter(need(MODEL)), folds=5)


def test_the_logistic_fit_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6))
    y = (x[:, 0] - x[:, 1] + rng.normal(size=200) > 0).astype(float)
    coef, intercept = _fit_logistic(x, y, 0.3)
    reference = sklearn.LogisticRegression(C=0.3, tol=1e-10, max_iter=10_000).fit(x, y)
    assert np.allclose(coef, reference.coef_[0], atol=1e-5)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-5)
