from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED
from vision.schedule import RoleSchedule
from vision.types import Frame

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def street() -> list[np.ndarray]:
    """Two real frames of the PETS 2009 clip, 5 s apart (people have moved)."""
    capture = cv2.VideoCapture(str(SHARED / "media" / "vtest.avi"))
    frames = []
    for index in range(60):
        ok, image = capture.read()
        assert ok
        if index in (0, 50):
            frames.append(image)
    capture.release()
    return frames


def frame(pts: float, image: np.ndarray) -> Frame:
    return Frame("cam-1", int(pts), pts, T0 + timedelta(seconds=pts), image)


@pytest.mark.parametrize(
    "roles, every_s, times, expected",
    [
        pytest.param(
            {"person"}, 5, [0, 1, 2], [{"person"}] * 3, id="moving roles run on every frame"
        ),
        pytest.param(
            {"garbage"},
            5,
            [0, 1, 4.9, 5, 6, 10.5],
            [{"garbage"}, set(), set(), {"garbage"}, set(), {"garbage"}],
            id="static roles run on their cadence",
        ),
        pytest.param(
            {"person", "water"},
            2,
            [0, 1, 2, 3],
            [{"person", "water"}, {"person"}, {"person", "water"}, {"person"}],
            id="both kinds on one camera",
        ),
    ],
)
def test_due_roles_follow_the_cadence(street, roles, every_s, times, expected):
    schedule = RoleSchedule(roles, every_s)
    assert [set(schedule.due(frame(t, street[0]))) for t in times] == expected


def test_an_unchanged_frame_skips_the_person_detector_but_not_past_the_recheck(street):
    schedule = RoleSchedule({"person"}, recheck_s=3, skip_unchanged=2.0)
    still = street[0]
    noisy = np.clip(still.astype(np.int16) + 1, 0, 255).astype(np.uint8)  # sensor noise only
    due = [set(schedule.due(frame(t, still if t % 2 else noisy))) for t in range(7)]
    assert due == [{"person"}, set(), set(), {"person"}, set(), set(), {"person"}]
    assert schedule.skipped == 4


def test_a_changed_scene_runs_the_person_detector_at_once(street):
    schedule = RoleSchedule({"person"}, recheck_s=60, skip_unchanged=2.0)
    assert schedule.due(frame(0, street[0])) == {"person"}
    assert schedule.due(frame(1, street[0])) == set()
    assert schedule.due(frame(2, street[1])) == {"person"}  # people walked on


def test_skip_unchanged_zero_never_skips(street):
    schedule = RoleSchedule({"person", "helmet"}, recheck_s=60)
    assert all(schedule.due(frame(t, street[0])) == {"person", "helmet"} for t in range(5))
