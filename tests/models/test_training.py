"""``models.training``: a 1-epoch fine-tune of the shipped YOLOv8 person model on 8 real helmet
images gives a loadable weight file, a model card and a valid registry entry; bad arguments
fail before any training starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from models import files
from models import registry as reg
from models.datasets import DatasetError
from models.training import TrainingError, TrainRecipe, train_detector
from vision.detectors.base import ModelFileError
from vision.detectors.ultralytics_yolo import UltralyticsDetector


def test_the_trained_weights_load_as_a_helmet_detector(tiny_training, helmet_data):
    result, _, out = tiny_training
    assert result.weights == out / "weights" / "helmet-tiny.pt"
    assert result.weights.stat().st_size < 25e6
    detector = UltralyticsDetector(
        result.weights, {"helmet": "helmet", "no_helmet": "no_helmet"}, input_size=160
    )
    assert detector.class_names == ["helmet", "no_helmet", "no_wear", "wear"]
    image = np.zeros((240, 320, 3), np.uint8)
    assert len(detector.detect([image, image])) == 2


def test_progress_is_reported_once_per_epoch(tiny_training):
    result, epochs, _ = tiny_training
    assert [(record.epoch, total) for record, total in epochs] == [(1, 1)]
    assert result.epochs == 1 and result.seconds > 0
    assert (result.run_dir / "results.csv").is_file()  # kept in runs_dir


def test_the_model_card_names_data_recipe_metrics_and_licences(tiny_training):
    result, _, out = tiny_training
    assert result.card == out / "cards" / "helmet-tiny.md"
    card = result.card.read_text(encoding="utf-8")
    for expected in (
        "# helmet-tiny",
        "helmet-sfchd/data.yaml",
        "1 epochs at imgsz 160",
        "fall-person-yolov8",
        "## Metrics on the val split",
        "| no_helmet |",
        "licence of the data | none stated",
        "licence of the weights | AGPL-3.0",
        "streetwatch train detector --data",
    ):
        assert expected in card, expected


def test_the_registry_entry_validates_and_maps_helmet_labels(tiny_training, tmp_path):
    result, _, out = tiny_training
    body = yaml.safe_load(result.registry_entry)
    entry = body["helmet-tiny"]
    assert entry["file"] == "weights/helmet-tiny.pt"
    assert entry["class_map"] == {"helmet": "helmet", "no_helmet": "no_helmet"}
    assert entry["sha256"] == files.sha256_of(result.weights)
    assert 0 <= entry["metrics"]["val_map50"] <= 1
    entry["file"] = str(out / entry["file"])
    registry_file = tmp_path / "registry.yaml"
    registry_file.write_text(yaml.safe_dump({"models": body}), encoding="utf-8")
    loaded = reg.registry(Path(registry_file))["helmet-tiny"]
    assert files.weights_file(loaded, allow_fetch=False) == result.weights


def recipe(data: Path, base: str, /, **changes) -> TrainRecipe:
    fields = {"data": data, "base": base, "epochs": 1, "imgsz": 160, "name": "x", "limit": 8}
    return TrainRecipe(**(fields | changes))


@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"data": Path("nowhere/data.yaml")}, DatasetError, "nowhere/data.yaml: no such dataset"),
        ({"base": "README.md"}, ModelFileError, "not a PyTorch .pt weight file"),
        ({"base": "no-such-model"}, ModelFileError, "neither a registered model"),
        ({"base": "yolox-nano-coco"}, TrainingError, "yolox-onnx model"),
        ({"name": "../escape"}, TrainingError, "--name"),
        ({"epochs": 0}, TrainingError, "--epochs 0"),
        ({"imgsz": 150}, TrainingError, "multiple of 32"),
    ],
    ids=[
        "a missing data.yaml",
        "a base that is not a weight file",
        "an unknown base name",
        "a base that Ultralytics cannot train",
        "a name that is a path",
        "zero epochs",
        "an image size off the stride",
    ],
)
def test_bad_arguments_fail_before_training(
    tmp_path, helmet_data, base_weights, changes, error, message
):
    with pytest.raises(error, match=message):
        train_detector(recipe(helmet_data, base_weights, **changes), out_dir=tmp_path)
    assert not (tmp_path / "weights").exists()


def test_a_corrupt_base_weight_file_is_a_clear_error(tmp_path, helmet_data):
    bogus = tmp_path / "base.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFileError, match="base.pt: not a loadable Ultralytics YOLO model"):
        train_detector(recipe(helmet_data, str(bogus)), out_dir=tmp_path)


def test_existing_weights_are_kept_unless_forced(tmp_path, helmet_data, base_weights):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "x.pt").write_bytes(b"shipped")
    with pytest.raises(TrainingError, match="x.pt exists.*--force"):
        train_detector(recipe(helmet_data, base_weights), out_dir=tmp_path)
    assert (tmp_path / "weights" / "x.pt").read_bytes() == b"shipped"


def test_a_stopped_run_ships_its_best_weights_with_a_card(
    tiny_training, helmet_data, base_weights, tmp_path
):
    from models.training import ship_run

    result, _, _ = tiny_training
    recipe = TrainRecipe(helmet_data, base_weights, 1, 160, "helmet-shipped", batch=8, limit=8)
    shipped = ship_run(recipe, result.run_dir, out_dir=tmp_path)
    assert shipped.weights == tmp_path / "weights" / "helmet-shipped.pt"
    assert shipped.weights.stat().st_size <= result.weights.stat().st_size * 1.05  # stripped
    assert shipped.epochs == 1
    card = shipped.card.read_text(encoding="utf-8")
    assert "helmet-shipped" in card and "| 1 |" in card  # the epoch from results.csv
    assert "helmet-shipped:" in shipped.registry_entry


def test_shipping_a_folder_that_is_not_a_run_names_it(helmet_data, base_weights, tmp_path):
    from models.training import ship_run

    recipe = TrainRecipe(helmet_data, base_weights, 1, 160, "nothing")
    with pytest.raises(TrainingError, match="results.csv"):
        ship_run(recipe, tmp_path, out_dir=tmp_path)


@pytest.mark.parametrize(
    "registered, inherited",
    [
        ("AGPL-3.0 (checkpoint metadata)", "AGPL-3.0 (checkpoint metadata)"),
        (
            "weights AGPL-3.0 (fine-tuned from fall-person-yolov8, Ultralytics); data "
            "vendor-aerial CC BY 4.0 (Roboflow export)",
            "AGPL-3.0 (fine-tuned from fall-person-yolov8, Ultralytics)",
        ),
    ],
    ids=["a downloaded model's licence", "a model trained here: its weights' part only"],
)
def test_a_fine_tuned_model_inherits_the_weights_licence_of_its_base(registered, inherited):
    from models.training import weights_licence

    assert weights_licence(registered) == inherited
