"""``service/edge/detector_set.py``: per-camera tiled person detection (``tiling``), batched
with the whole-frame cameras on one loaded model, on a real crowded street frame."""

from __future__ import annotations

import pytest

from service.config import Config
from service.edge.detector_set import DetectorSet
from vision.counting import ScaledTiledDetector

ZONE = {"name": "z", "polygon": [[0, 0], [1920, 0], [1920, 1080], [0, 1080]]}


def config(**tiling: str) -> Config:
    cameras = [
        {
            "id": cam,
            "url": "rtsp://127.0.0.1/x",
            "kind": "eagle_eye" if cam.startswith("eagle") else "ground",
            "zones": [{**ZONE, "rules": {"crowding": {}}}],
            **({"tiling": mode} if mode else {}),
        }
        for cam, mode in tiling.items()
    ]
    return Config.model_validate({"cameras": cameras})


@pytest.mark.parametrize(
    "cam, mode, tiled",
    [
        pytest.param("ground1", None, False, id="a ground camera is whole-frame by default"),
        pytest.param("eagle1", None, True, id="an eagle-eye camera is tiled by default"),
        pytest.param("ground1", "on", True, id="tiling on for a dense ground scene"),
        pytest.param("eagle1", "off", False, id="tiling off on an eagle-eye camera"),
    ],
)
def test_tiling_is_chosen_per_camera(cam, mode, tiled):
    assert config(**{cam: mode}).cameras[0].tiled_people is tiled


def test_tiled_and_whole_frame_cameras_share_one_model_in_one_call(yolox_detector, street_1080p):
    from dataclasses import replace

    from streams.file_source import FileSource
    from tests.conftest import ANCHOR

    street = next(iter(FileSource("x", street_1080p, 1.0, ANCHOR)))
    detectors = DetectorSet(config(ground1="off", dense1="on"), person=yolox_detector)
    frames = [replace(street, camera_id="ground1"), replace(street, camera_id="dense1")]
    whole, tiled = detectors.detect(frames, [frozenset({"person"})] * 2)
    assert isinstance(detectors.tiled_people(), ScaledTiledDetector)
    assert detectors.tiled_people().detector is yolox_detector
    people = [
        len(d.with_label("person")[d.with_label("person").score >= 0.35]) for d in (whole, tiled)
    ]
    # the same frame: tiles find the small, distant people the whole frame misses
    assert people[1] > people[0] >= 5
