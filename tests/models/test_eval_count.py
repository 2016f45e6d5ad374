"""Counting evaluation on points-annotated crowd folders: MAE, MAE %, bias, and clear errors for
folders that are not usable. Real frames come from ../shared/data/crowd-mall."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.eval_count import (
    CountEvalError,
    CountResult,
    ImageCount,
    evaluate_count,
    image_names,
    read_points,
)
from tests.conftest import SHARED, need

MALL = SHARED / "data" / "crowd-mall"
MALL_FRAMES = (13, 99, 241)
"""A sparse frame (16 people) and two dense ones (50, 49)."""


def write_folder(root: Path, items: dict[str, tuple[np.ndarray, str | None]]) -> Path:
    """images/NAME.jpg and points/NAME.txt (the text as given; None: no points file)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "points").mkdir(exist_ok=True)
    for name, (image, points) in items.items():
        cv2.imwrite(str(root / "images" / f"{name}.jpg"), image)
        if points is not None:
            (root / "points" / f"{name}.txt").write_text(points)
    return root


def squares(*centres: tuple[int, int]) -> tuple[np.ndarray, str]:
    """A dark image with a white square at each centre, and its points text."""
    image = np.zeros((120, 160, 3), np.uint8)
    for x, y in centres:
        image[y - 4 : y + 5, x - 4 : x + 5] = 255
    return image, "".join(f"{x} {y}\n" for x, y in centres)


def count_squares(image: np.ndarray) -> int:
    mask = (image.max(axis=2) > 127).astype(np.uint8)
    return cv2.connectedComponents(mask)[0] - 1


@pytest.fixture(scope="module")
def mall_folder(tmp_path_factory) -> Path:
    """Three real crowd-mall frames with their head points, as a points folder."""
    video, points = need(MALL / "mall.mp4"), need(MALL / "points.json")
    frames = {f["index"]: f["points"] for f in json.loads(points.read_text())["frames"]}
    capture = cv2.VideoCapture(str(video))
    items, index = {}, 0
    while index <= max(MALL_FRAMES):
        ok, image = capture.read()
        assert ok, f"{video}: frame {index} did not decode"
        if index in MALL_FRAMES:
            text = "".join(f"{x} {y}\n" for x, y in frames[index])
            items[f"{index:04d}"] = (image, text)
        index += 1
    capture.release()
    return write_folder(tmp_path_factory.mktemp("mall"), items)


def test_an_exact_counter_scores_zero_error(tmp_path):
    folder = write_folder(
        tmp_path,
        {"a": squares((20, 20), (60, 60), (100, 30)), "b": squares((30, 90)), "c": squares()},
    )
    result = evaluate_count(folder, count_squares)
    assert [(i.name, i.true, i.predicted) for i in result.images] == [
        ("a", 3, 3),
        ("b", 1, 1),
        ("c", 0, 0),
    ]
    assert (result.mae, result.mae_percent, result.bias) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "predict, mae, mae_percent, bias",
    [
        pytest.param(lambda image: 0, 115 / 3, 100.0, -115 / 3, id="counting nobody misses all"),
        pytest.param(
            lambda image: 40, (24 + 10 + 9) / 3, 43 / 115 * 100, (24 - 10 - 9) / 3,
            id="a constant 40 overcounts the sparse frame and undercounts the dense ones",
        ),
    ],
)  # fmt: skip
def test_errors_on_real_mall_frames(mall_folder, predict, mae, mae_percent, bias):
    result = evaluate_count(mall_folder, predict)
    assert [(i.name, i.true) for i in result.images] == [("0013", 16), ("0099", 50), ("0241", 49)]
    assert result.mae == pytest.approx(mae)
    assert result.mae_percent == pytest.approx(mae_percent)
    assert result.bias == pytest.approx(bias)
    assert result.summary()["images"] == 3


def test_counter_objects_names_and_progress(mall_folder):
    class Fixed:
        def count(self, image: np.ndarray) -> int:
            assert image.shape == (480, 640, 3)
            return 20

    seen = []
    result = evaluate_count(
        mall_folder, Fixed(), lambda done, total, name: seen.append((done, total, name)),
        names=["0241", "0013"],
    )  # fmt: skip
    assert seen == [(1, 2, "0241"), (2, 2, "0013")]
    assert [i.error for i in result.images] == [20 - 49, 20 - 16]
    assert image_names(mall_folder) == ["0013", "0099", "0241"]


def test_mae_percent_is_total_error_over_total_truth():
    result = CountResult((ImageCount("a", 10, 7), ImageCount("b", 30, 33), ImageCount("c", 0, 2)))
    assert result.mae == pytest.approx(8 / 3)
    assert result.mae_percent == pytest.approx(8 / 40 * 100)
    assert result.bias == pytest.approx(2 / 3)
    assert CountResult(()).mae_percent == 0.0


def test_points_files_allow_comments_blank_lines_and_commas(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("# x y\n10 20\n\n30.5,40\n  7 8  # a child\n")
    assert read_points(path).tolist() == [[10, 20], [30.5, 40], [7, 8]]


@pytest.mark.parametrize(
    "layout, message",
    [
        pytest.param("no folder", "no such folder", id="a folder that does not exist"),
        pytest.param("empty folder", "no images/ folder", id="an empty folder"),
        pytest.param("empty images", "no images", id="an images folder with no images"),
        pytest.param("missing points", r"b\.txt: missing", id="an image without a points file"),
        pytest.param("three numbers", r"a\.txt:2: expected 'x y'", id="a line with three numbers"),
        pytest.param("words", r"a\.txt:1: expected 'x y'.*'x y'", id="a header line of words"),
        pytest.param("nan", r"a\.txt:1: expected", id="a point that is not finite"),
        pytest.param("unknown name", "no image named", id="a name not in the folder"),
    ],
)
def test_unusable_folders_raise_a_clear_error(tmp_path, layout, message):
    folder = tmp_path / "crowd"
    names = None
    if layout == "empty folder":
        folder.mkdir()
    elif layout == "empty images":
        (folder / "images").mkdir(parents=True)
    elif layout != "no folder":
        image, _ = squares((20, 20))
        points = {
            "missing points": "20 20\n",
            "three numbers": "20 20\n1 2 3\n",
            "words": "x y\n",
            "nan": "nan 4\n",
            "unknown name": "20 20\n",
        }[layout]
        items = {"a": (image, points)}
        if layout == "missing points":
            items["b"] = (image, None)
        write_folder(folder, items)
        names = ["zz"] if layout == "unknown name" else None
    with pytest.raises(CountEvalError, match=message):
        evaluate_count(folder, count_squares, names=names)


def test_a_folder_fails_before_the_counter_runs(tmp_path):
    image, _ = squares((20, 20))
    folder = write_folder(tmp_path, {"a": (image, "20 20\n"), "b": (image, "oops\n")})
    calls = []
    with pytest.raises(CountEvalError, match=r"b\.txt:1"):
        evaluate_count(folder, lambda im: calls.append(1) or 1)
    assert calls == []
