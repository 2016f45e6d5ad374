"""A detector trained once per session: 1 epoch on 8 helmet images at imgsz 160 (about 15 s)."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED, need

HELMET_DATA = SHARED / "data" / "helmet-sfchd" / "data.yaml"


@pytest.fixture(scope="session")
def helmet_data():
    return need(HELMET_DATA)


@pytest.fixture(scope="session")
def base_weights():
    from models import files
    from models import registry as reg

    if files.local_file(reg.entry("fall-person-yolov8")) is None:
        pytest.skip(
            "fall-person-yolov8 weights not fetched: run `streetwatch models verify --fetch`"
        )
    return "fall-person-yolov8"


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory, helmet_data, base_weights):
    from models.training import TrainRecipe, train_detector

    out = tmp_path_factory.mktemp("models")
    epochs = []
    recipe = TrainRecipe(
        data=helmet_data,
        base=base_weights,
        epochs=1,
        imgsz=160,
        name="helmet-tiny",
        batch=8,
        limit=8,
    )
    result = train_detector(
        recipe,
        out_dir=out,
        runs_dir=out / "runs",
        on_epoch=lambda record, total: epochs.append((record, total)),
    )
    return result, epochs, out
