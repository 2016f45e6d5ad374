"""``streetwatch export dataset``: reviewed cases as a YOLO dataset Ultralytics can read."""

from datetime import UTC, datetime, timedelta

import pytest
import typer
import yaml
from typer.testing import CliRunner

from service.cli.export import export_app
from service.feedback.dataset_export import ExportError, export_dataset, split_of
from service.web.app import create_app
from tests.service.review_helpers import make_config, make_event, seed

SINCE = "2020-01-01T00:00:00Z"
CLI = typer.Typer()
CLI.add_typer(export_app, name="export")  # as service.cli wires it: streetwatch export dataset


@pytest.fixture
def reviewed(tmp_path):
    """Four cases: confirmed and dispatched, rejected as a wrong object, rejected as permitted
    (a real stall: not a model error), and one never reviewed."""
    from fastapi.testclient import TestClient

    config = make_config(tmp_path)
    events = [
        make_event(config, "pos", camera="cam-1"),
        make_event(config, "neg", camera="cam-2", clean=False),
        make_event(config, "ok", camera="cam-1", zone="permit"),
        make_event(config, "new", camera="cam-2", zone="later"),
    ]
    store = seed(config, events).store
    client = TestClient(create_app(config, store, environ={}))
    ids = {c["zone"] + c["camera_id"]: c["id"] for c in client.get("/cases").json()["items"]}
    for body, key in [
        ({"action": "confirm"}, "zcam-1"),
        ({"action": "dispatch"}, "zcam-1"),
        ({"action": "reject", "reason_code": "wrong_object"}, "zcam-2"),
        ({"action": "reject", "reason_code": "permitted"}, "permitcam-1"),
    ]:
        assert client.post(f"/cases/{ids[key]}/transitions", json=body).status_code == 200
    return config, store, ids


def read_lines(path):
    return path.read_text().splitlines()


def test_the_export_is_a_yolo_dataset(reviewed, tmp_path):
    config, store, ids = reviewed
    out = tmp_path / "ds"
    since = datetime(2020, 1, 1, tzinfo=UTC)
    summary = export_dataset(store, config.evidence_path, out, since, val_share=0.0)
    assert (summary.positives, summary.negatives, summary.boxes) == (1, 1, 2)
    assert summary.skipped == {"rejected as permitted": 1}
    assert summary.from_snapshots == 1  # the hard negative kept no clean frame
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["train"] == "images/train" and data["val"] == "images/val"
    assert data["names"][0] == "person" and data["nc"] == len(data["names"])
    assert read_lines(out / "classes.txt")[0] == "person"
    positive = f"{ids['zcam-1']}_pos"
    labels = read_lines(out / "labels" / "train" / f"{positive}.txt")
    assert len(labels) == 2
    cls, cx, cy, w, h = labels[0].split()
    assert (
        cls == "0"
        and float(cx) == pytest.approx(120 / 640)
        and float(h) == pytest.approx(100 / 480, abs=1e-6)
    )
    assert (out / "images" / "train" / f"{positive}.jpg").stat().st_size > 1000
    negative = f"{ids['zcam-2']}_neg"
    assert (out / "labels" / "train" / f"{negative}.txt").read_text() == ""
    [rejected] = [yaml.safe_load(line) for line in read_lines(out / "rejected_boxes.jsonl")]
    assert rejected["image"] == f"images/train/{negative}.jpg" and len(rejected["boxes"]) == 2
    manifest = [yaml.safe_load(line) for line in read_lines(out / "manifest.jsonl")]
    assert {(m["kind"], m["image_source"]) for m in manifest} == {
        ("positive", "clean"),
        ("negative", "snapshot"),
    }


def test_since_leaves_out_earlier_reviews(reviewed, tmp_path):
    config, store, _ = reviewed
    later = datetime.now(UTC) + timedelta(minutes=1)
    summary = export_dataset(store, config.evidence_path, tmp_path / "ds", later)
    assert (summary.positives, summary.negatives) == (0, 0)


def test_clean_only_leaves_out_snapshots_with_drawings(reviewed, tmp_path):
    config, store, _ = reviewed
    since = datetime(2020, 1, 1, tzinfo=UTC)
    summary = export_dataset(store, config.evidence_path, tmp_path / "ds", since, clean_only=True)
    assert (summary.positives, summary.negatives) == (1, 0)


def test_a_case_stays_on_one_side_of_the_split():
    assert split_of("abc", 0.0) == "train" and split_of("abc", 1.0) == "val"
    shares = [split_of(f"case{i}", 0.2) for i in range(1000)]
    assert 150 < shares.count("val") < 250


def test_it_refuses_a_folder_that_is_not_an_export(reviewed, tmp_path):
    config, store, _ = reviewed
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(ExportError, match="not an earlier export"):
        export_dataset(store, config.evidence_path, tmp_path / "mine", datetime.now(UTC))
    out = tmp_path / "ds"
    export_dataset(store, config.evidence_path, out, datetime(2020, 1, 1, tzinfo=UTC))
    export_dataset(store, config.evidence_path, out, datetime(2020, 1, 1, tzinfo=UTC))  # again


def test_the_command_line(reviewed, tmp_path):
    config, _, _ = reviewed
    out = tmp_path / "cli-ds"
    runner = CliRunner()
    args = ["--since", SINCE, "--out", str(out), "--config", str(config.source_file)]
    result = runner.invoke(CLI, ["export", "dataset", *args])
    assert result.exit_code == 0, result.output
    assert "1 positives (2 boxes), 1 hard negatives" in result.output
    assert "skipped 1: rejected as permitted" in result.output
    assert (out / "data.yaml").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "last week"], "--since: 'last week' is not an ISO 8601"),
        (["--since", SINCE, "--config", "/nope.yaml"], "no such config file"),
    ],
    ids=["a since that is not a time", "a missing config"],
)
def test_the_command_line_on_bad_input(tmp_path, args, message):
    result = CliRunner().invoke(CLI, ["export", "dataset", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output
