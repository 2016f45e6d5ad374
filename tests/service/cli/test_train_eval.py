"""``train detector`` and ``eval detector`` (service/cli/train.py, service/cli/eval.py) on bad
input: one ``error: ...`` line and exit 1 (2 for malformed arguments), no traceback;
the --json output of a shipped model when it is there."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from models import files
from models import registry as reg
from service.cli.eval import eval_app
from service.cli.train import train_app
from tests.conftest import SHARED, need

HELMET_DATA = SHARED / "data" / "helmet-sfchd" / "data.yaml"


def invoke(app, *args: str):
    return CliRunner().invoke(app, list(args))


def error_line(run) -> str:
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "app, command",
    [(train_app, "detector"), (eval_app, "detector")],
    ids=["train detector", "eval detector"],
)
def test_help_lists_the_options(app, command):
    run = invoke(app, command, "--help")
    assert run.exit_code == 0
    for option in ("--data", "--imgsz", "--device"):
        assert option in run.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--data", "nowhere.yaml", "--base", "fall-person-yolov8", "--epochs", "1"],
            "nowhere.yaml: no such dataset file",
        ),
        (["--data", "{data}", "--base", "README.md", "--epochs", "1"], "not a PyTorch .pt"),
        (["--data", "{data}", "--base", "fall-person-yolov8", "--epochs", "0"], "--epochs 0"),
    ],
    ids=["a missing data.yaml", "a base that is not a model", "zero epochs"],
)
def test_train_with_bad_input_is_one_error_line(args, message):
    data = str(need(HELMET_DATA))
    run = invoke(train_app, "detector", "--name", "x", *(a.format(data=data) for a in args))
    assert run.exit_code == 1
    assert message in error_line(run)


def test_a_malformed_set_option_is_a_usage_error():
    data = str(need(HELMET_DATA))
    run = invoke(
        train_app, "detector", "--data", data, "--base", "x.pt", "--epochs", "1", "--name", "x",
        "--set", "freeze",
    )  # fmt: skip
    assert run.exit_code == 2
    assert "--set 'freeze': expected KEY=VALUE" in error_line(run)


@pytest.mark.parametrize(
    "model, message",
    [
        ("yolox-nano-coco", "backend yolox-onnx cannot be evaluated"),
        ("missing.pt", "neither a registered model"),
    ],
    ids=["a YOLOX ONNX model", "a weight file that is not there"],
)
def test_eval_with_bad_input_is_one_error_line(model, message):
    run = invoke(eval_app, "detector", "--model", model, "--data", str(need(HELMET_DATA)))
    assert run.exit_code == 1
    assert message in error_line(run)


def test_eval_of_the_shipped_helmet_model_ends_with_json():
    if "helmet" not in reg.registry() or files.local_file(reg.entry("helmet")) is None:
        pytest.skip("no shipped helmet model in models/registry.yaml yet")
    data = str(need(HELMET_DATA))
    run = invoke(
        eval_app, "detector", "--model", "helmet", "--data", data, "--limit", "6", "--json"
    )
    assert run.exit_code == 0, run.output
    body = json.loads(run.stdout.strip().splitlines()[-1])
    assert body["model"] == "helmet"
    assert {"ap50", "ap50_95", "precision", "recall"} == set(body["per_class"]["helmet"])
