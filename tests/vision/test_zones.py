from datetime import UTC, datetime, time

import numpy as np
import pytest

from vision.types import Detections
from vision.zones import Zone

ROAD = Zone.from_points("road", [[0, 100], [200, 100], [200, 200], [0, 200]])


def dets(*boxes):
    return Detections(
        np.array(boxes, dtype=np.float32), ["person"] * len(boxes), [0.9] * len(boxes)
    )


@pytest.mark.parametrize(
    "box, inside",
    [
        ([50, 120, 70, 180], True),
        ([50, 20, 70, 150], True),
        ([50, 40, 70, 90], False),
        ([50, 150, 70, 230], False),
        ([185, 120, 210, 180], True),
        ([195, 120, 240, 180], False),
    ],
    ids=[
        "person wholly inside",
        "head outside but feet inside",
        "wholly above the zone",
        "body inside but feet below the zone",
        "feet centre just inside the right edge",
        "feet centre beyond the right edge",
    ],
)
def test_zone_contains_by_the_bottom_centre_of_the_box(box, inside):
    assert ROAD.contains(dets(box)).tolist() == [inside]


def test_zone_hours_are_read_in_the_zone_time_zone():
    from zoneinfo import ZoneInfo

    zone = Zone.from_points(
        "z", [[0, 0], [1, 0], [1, 1]], ((time(8), time(20)),), ZoneInfo("Asia/Shanghai")
    )
    assert zone.is_active(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    assert not zone.is_active(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))  # 21:00 in Shanghai


def test_zone_contains_of_no_detections_is_empty():
    assert ROAD.contains(Detections.empty()).shape == (0,)


@pytest.mark.parametrize(
    "hours, clock, active",
    [
        ((), time(3, 0), True),
        (((time(8), time(20)),), time(12, 0), True),
        (((time(8), time(20)),), time(20, 0), False),
        (((time(8), time(20)),), time(7, 59), False),
        (((time(22), time(6)),), time(23, 30), True),
        (((time(22), time(6)),), time(5, 59), True),
        (((time(22), time(6)),), time(12, 0), False),
        (((time(7), time(9)), (time(17), time(19))), time(18, 0), True),
    ],
    ids=[
        "no hours means always",
        "noon inside day hours",
        "end of day hours is exclusive",
        "before day hours",
        "late evening inside overnight hours",
        "early morning inside overnight hours",
        "noon outside overnight hours",
        "second of two ranges",
    ],
)
def test_zone_active_hours(hours, clock, active):
    zone = Zone.from_points("z", [[0, 0], [1, 0], [1, 1]], hours)
    moment = datetime(2026, 11, 23, clock.hour, clock.minute, tzinfo=UTC)
    assert zone.is_active(moment) is active


# an "L"-shaped kerb: the top-right quarter of the 0..200 x 100..300 square is not in the zone
KERB = Zone.from_points(
    "kerb", [[0, 100], [200, 100], [200, 200], [100, 200], [100, 300], [0, 300]]
)


@pytest.mark.parametrize(
    "box, min_fraction, overlaps",
    [
        ([20, 120, 60, 160], 0.3, True),
        ([80, 120, 120, 160], 0.3, True),
        ([180, 180, 220, 220], 0.3, False),
        ([180, 190, 220, 230], 0.2, False),
        ([120, 220, 180, 280], 0.01, False),
        ([80, 180, 120, 220], 0.7, True),
        ([80, 180, 120, 220], 0.8, False),
        ([-40, 120, 10, 160], 0.2, True),
        ([-40, 120, 10, 160], 0.3, False),
    ],
    ids=[
        "pile wholly on the kerb",
        "pile across two parts of the kerb",
        "a quarter of the pile on the kerb is below 0.3",
        "an eighth of a pile at the kerb's corner fails 0.2",
        "a pile in the L's missing quarter",
        "three quarters at the inner corner pass 0.7",
        "three quarters at the inner corner fail 0.8",
        "a fifth of the pile on the kerb passes 0.2",
        "a fifth of the pile on the kerb fails 0.3",
    ],
)
def test_zone_overlaps_by_the_share_of_the_box_inside(box, min_fraction, overlaps):
    assert KERB.overlaps(dets(box), min_fraction).tolist() == [overlaps]


def test_zone_overlaps_of_no_detections_is_empty():
    assert KERB.overlaps(Detections.empty(), 0.3).shape == (0,)
