"""The shipped helmet detector (models/weights/helmet.pt, trained by `streetwatch train
detector`): registered, small enough to ship, documented, and finding helmets on real val
images of helmet-sfchd."""

from __future__ import annotations

import numpy as np
import pytest

from models import files, loader
from models import registry as reg
from vision.geometry import box_iou


@pytest.fixture(scope="module")
def helmet_entry():
    if "helmet" not in reg.registry():
        pytest.skip("no helmet model in models/registry.yaml yet")
    model = reg.entry("helmet")
    if files.local_file(model) is None:
        pytest.skip(f"helmet weights {model.file} are absent")
    return model


def test_the_helmet_weights_are_registered_checked_and_small(helmet_entry):
    path = files.weights_file(helmet_entry, allow_fetch=False)  # sha256 checked
    assert path.stat().st_size < 25e6
    assert helmet_entry.class_map == {"helmet": "helmet", "no_helmet": "no_helmet"}
    assert helmet_entry.metrics["val_ap50_helmet"] > 0.5
    assert "research" in helmet_entry.licence


def test_the_model_card_gives_per_class_figures(helmet_entry):
    card = (reg.REGISTRY_FILE.parent / "cards" / "helmet.md").read_text(encoding="utf-8")
    for row in ("| helmet |", "| no_helmet |", "## Metrics on the val split", "licence"):
        assert row in card


def yolo_boxes(label_file, width: int, height: int, class_id: int) -> np.ndarray:
    rows = [line.split() for line in label_file.read_text().splitlines() if line.strip()]
    boxes = [[float(v) for v in row[1:]] for row in rows if int(row[0]) == class_id]
    cx, cy, w, h = np.array(boxes, np.float64).reshape(-1, 4).T
    return np.stack([(cx - w / 2) * width, (cy - h / 2) * height,
                     (cx + w / 2) * width, (cy + h / 2) * height], axis=1)  # fmt: skip


def test_it_finds_most_labelled_helmets_on_real_val_images(helmet_entry, helmet_data):
    import cv2

    detector = loader.load_detector("helmet", conf=0.25)
    assert detector.labels == {"helmet", "no_helmet"}
    images = sorted((helmet_data.parent / "images" / "val").iterdir())[:12]
    found, total = 0, 0
    for path in images:
        image = cv2.imread(str(path))
        label = helmet_data.parent / "labels" / "val" / f"{path.stem}.txt"
        truth = yolo_boxes(label, image.shape[1], image.shape[0], class_id=0)
        if len(truth) == 0:
            continue
        helmets = detector.detect([image])[0].with_label("helmet")
        total += len(truth)
        if len(helmets):
            found += int((box_iou(truth, helmets.xyxy).max(axis=1) >= 0.5).sum())
    assert total >= 10
    assert found / total >= 0.5, f"{found} of {total} labelled helmets found"
