"""CameraPipeline: each rule gets the detectors it needs, static ones on their slow cadence,
and rules whose detectors did not run keep their last answer so events stay open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from service.config import Config
from service.edge.detector_set import DetectorSet
from service.edge.pipeline import CameraPipeline, camera_roles
from tests.conftest import VTEST
from vision.types import Detections, Frame

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WHOLE = [[0, 0], [768, 0], [768, 576], [0, 576]]
PILE = [300.0, 400.0, 420.0, 470.0]


class ScriptedDetector:
    """A stand-in detector that finds the same boxes on every frame and counts its calls."""

    def __init__(self, name: str, boxes: list[list[float]], label: str) -> None:
        self.name = name
        self.labels = frozenset({label})
        self.boxes = boxes
        self.label = label
        self.frames = 0

    def detect(self, images):
        self.frames += len(images)
        n = len(self.boxes)
        return [Detections(np.array(self.boxes), [self.label] * n, [0.9] * n) for _ in images]


class Collect:
    def __init__(self) -> None:
        self.updates = []

    def post(self, update) -> None:
        self.updates.append(update)


@pytest.fixture(scope="module")
def street() -> np.ndarray:
    capture = cv2.VideoCapture(str(VTEST))
    ok, image = capture.read()
    capture.release()
    assert ok
    return image


def config(tmp_path, rules: dict, kind: str = "ground", static_every_s: float = 5) -> Config:
    return Config.model_validate(
        {
            "data_dir": str(tmp_path),
            "cameras": [
                {
                    "id": "cam-1",
                    "url": str(VTEST),
                    "kind": kind,
                    "zones": [{"name": "z", "polygon": WHOLE, "rules": rules}],
                }
            ],
            "rules": {
                "crowding": {"min_people": 2, "min_duration_s": 0},
                "garbage": {"dwell_s": 4, "min_observations": 2, "clean_before_s": 0},
            },
            "models": {"static_every_s": static_every_s},
            "events": {"close_after_s": 3, "cooldown_s": 5},
        }
    )


@pytest.mark.parametrize(
    "rules, kind, roles",
    [
        pytest.param({"crowding": {}}, "ground", {"person"}, id="crowding needs people"),
        pytest.param({"street_vending": {}}, "ground", {"person"}, id="vending on the ground"),
        pytest.param({"street_vending": {}}, "eagle_eye", {"vendor"}, id="vending from above"),
        pytest.param({"garbage": {}, "missing_helmet": {}}, "ground", {"garbage", "helmet"}),
        pytest.param({"waterlogging": {}}, "ground", {"water"}, id="water needs no model"),
    ],
)
def test_a_camera_needs_the_roles_of_its_rules(tmp_path, rules, kind, roles):
    cfg = config(tmp_path, rules, kind)
    assert camera_roles(cfg.cameras) == roles


def test_static_detector_runs_on_its_cadence_and_the_event_stays_open(tmp_path, street):
    cfg = config(tmp_path, {"garbage": {}, "crowding": {}}, static_every_s=5)
    people = ScriptedDetector("people", [[10, 100, 40, 200], [60, 100, 90, 200]], "person")
    garbage = ScriptedDetector("piles", [PILE], "garbage")
    detectors = DetectorSet(cfg, person=people, garbage=garbage)
    sink = Collect()
    pipeline = CameraPipeline(cfg, cfg.cameras[0], detectors, "test", [sink])
    for second in range(31):
        frame = Frame("cam-1", second, float(second), T0 + timedelta(seconds=second), street)
        pipeline.process(frame)
    pipeline.finish()
    assert people.frames == 31
    assert garbage.frames == 7  # t = 0, 5, ..., 30
    changes = {(u.event.type, u.change.value) for u in sink.updates}
    opened = [u.event for u in sink.updates if u.change.value == "opened"]
    assert sorted(e.type for e in opened) == ["crowding", "garbage"]  # one each, never reopened
    garbage_event = next(e for e in opened if e.type == "garbage")
    assert garbage_event.video_t0 == 0 and garbage_event.boxes == [PILE]
    assert ("garbage", "closed") in changes
    final = [
        u.event for u in sink.updates if u.change.value == "final" and u.event.type == "garbage"
    ]
    assert final[0].video_t1 == 30  # held between looks: seen until the end, not until t=25
