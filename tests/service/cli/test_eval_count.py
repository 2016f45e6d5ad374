"""``streetwatch eval count``: people counted on real crowd-mall frames against their head
points; tiles close most of the whole frame's shortfall; unusable folders are one error line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli.eval import eval_app
from tests.models.test_eval_count import mall_folder  # noqa: F401  (the real frames fixture)


def run(*args: str):
    return CliRunner().invoke(eval_app, ["count", *args])


def figures(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_tiles_count_a_dense_crowd_closer_than_the_whole_frame(mall_folder):  # noqa: F811
    whole = figures(run("--data", str(mall_folder), "--no-tiling", "--min-score", "0.35", "--json"))
    tiled = figures(run("--data", str(mall_folder), "--json"))
    assert whole["images"] == tiled["images"] == len(whole["per_image"]) >= 3
    assert whole["bias"] < 0  # the whole frame counts short in a crowd
    assert tiled["mae_percent"] < whole["mae_percent"] / 2
    assert {"mae", "mae_percent", "bias", "per_image"} <= set(tiled)


@pytest.mark.parametrize(
    "layout",
    [pytest.param("empty", id="an empty folder"), pytest.param("missing", id="no such folder")],
)
def test_an_unusable_folder_is_one_error_line(tmp_path, layout):
    folder = tmp_path / "crowd"
    if layout == "empty":
        folder.mkdir()
    result = run("--data", str(folder), "--no-tiling")
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output
