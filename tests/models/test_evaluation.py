"""``models.evaluation`` on a tiny real subset (8 val images of helmet-sfchd), with the model
trained in ``tiny_training``: per-class figures in [0, 1], the JSON shape of ``--json``, and
clear errors for models that cannot be evaluated on the data."""

from __future__ import annotations

import json

import pytest

from models.datasets import DatasetError
from models.evaluation import EvaluationError, evaluate
from vision.detectors.base import ModelFileError

FIGURES = {"ap50", "ap50_95", "precision", "recall"}


@pytest.fixture(scope="module")
def report(tiny_training, helmet_data):
    result, _, _ = tiny_training
    return evaluate(result.weights, helmet_data, split="val", imgsz=160, limit=8)


def test_the_report_has_every_labelled_class_with_figures_in_0_1(report):
    assert report.images == 8 and report.imgsz == 160 and report.split == "val"
    assert set(report.per_class) | set(report.absent) == {"helmet", "no_helmet", "no_wear", "wear"}
    assert "helmet" in report.per_class
    for metrics in report.per_class.values():
        for value in (metrics.precision, metrics.recall, metrics.ap50, metrics.ap50_95):
            assert 0.0 <= value <= 1.0
        assert metrics.ap50_95 <= metrics.ap50 + 1e-9
        assert metrics.instances > 0
    assert 0.0 <= report.map50_95 <= report.map50 <= 1.0


def test_the_json_object_has_the_documented_shape(report):
    body = json.loads(json.dumps(report.to_json()))
    assert {"model", "per_class", "map50", "map50_95"} <= set(body)
    assert body["model"].endswith("helmet-tiny.pt")
    for name, figures in body["per_class"].items():
        assert set(figures) == FIGURES, name
        assert all(0.0 <= v <= 1.0 for v in figures.values())
    assert 0.0 <= body["map50"] <= 1.0 and 0.0 <= body["map50_95"] <= 1.0


def test_the_same_model_on_the_same_images_gives_the_same_figures(report, tiny_training):
    result, _, _ = tiny_training
    again = evaluate(result.weights, report.data, imgsz=160, limit=8)
    assert again.to_json() == report.to_json()


@pytest.mark.parametrize(
    "model, error, message",
    [
        ("fall-person-yolov8", EvaluationError, r"classes \['Normal', 'Fall'\].*helmet"),
        ("yolox-nano-coco", EvaluationError, "backend yolox-onnx cannot be evaluated"),
        ("no-such-model", ModelFileError, "neither a registered model"),
        ("README.md", ModelFileError, "README.md: not a loadable Ultralytics YOLO model"),
    ],
    ids=[
        "a model of other classes",
        "a YOLOX ONNX model",
        "an unknown name",
        "a file that is not a model",
    ],
)
def test_models_that_cannot_be_evaluated_are_clear_errors(
    helmet_data, base_weights, model, error, message
):
    with pytest.raises(error, match=message):
        evaluate(model, helmet_data, limit=8)


def test_an_unknown_split_names_the_splits_there(helmet_data):
    with pytest.raises(DatasetError, match="no 'test' split.*train, val"):
        evaluate("fall-person-yolov8", helmet_data, split="test")


def test_the_eval_command_ends_with_the_json_object(tiny_training, helmet_data):
    from typer.testing import CliRunner

    from service.cli.eval import eval_app

    result, _, _ = tiny_training
    args = ["detector", "--model", str(result.weights), "--data", str(helmet_data)]
    run = CliRunner().invoke(eval_app, [*args, "--imgsz", "160", "--limit", "8", "--json"])
    assert run.exit_code == 0, run.output
    lines = run.stdout.strip().splitlines()
    body = json.loads(lines[-1])
    assert set(body["per_class"]) >= {"helmet"}
    assert any(line.split()[:1] == ["no_helmet"] for line in lines[:-1])  # the table row
