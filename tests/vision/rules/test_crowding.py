from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from vision.rules.crowding import CrowdingRule, CrowdingSettings
from vision.types import Detections, Frame
from vision.zones import Zone

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ZONE = Zone.from_points("square", [[0, 0], [400, 0], [400, 300], [0, 300]])
IMAGE = np.zeros((360, 480, 3), np.uint8)


def frame(pts: float) -> Frame:
    return Frame("cam-1", int(pts * 2), pts, T0 + timedelta(seconds=pts), IMAGE)


def people(n: int, *, score: float = 0.9, outside: int = 0, label: str = "person") -> Detections:
    boxes = [[10 + 30 * i, 100, 30 + 30 * i, 200] for i in range(n)]
    boxes += [[410 + 5 * i, 250, 430 + 5 * i, 350] for i in range(outside)]  # feet outside
    total = n + outside
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), [label] * total, [score] * total)


def run(rule: CrowdingRule, counts: list[int], step: float = 0.5, **kwargs):
    """Feed one count per frame; return (pts, count) of every candidate."""
    fired = []
    for i, count in enumerate(counts):
        for candidate in rule.update(frame(i * step), people(count, **kwargs)):
            fired.append((candidate.pts, candidate.count))
    return fired


def rule(min_people=5, min_duration_s=2.0, max_gap_s=1.0, zone=ZONE) -> CrowdingRule:
    return CrowdingRule(
        "cam-1",
        zone,
        CrowdingSettings(
            min_people=min_people, min_duration_s=min_duration_s, min_score=0.4, max_gap_s=max_gap_s
        ),
    )


def test_a_crowd_fires_only_after_the_duration_and_reports_count_and_start():
    r = rule()
    candidates = []
    for i in range(10):
        candidates += r.update(frame(i * 0.5), people(6))
    assert [c.pts for c in candidates] == [2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    assert {c.count for c in candidates} == {6}
    assert {c.started_pts for c in candidates} == {0.0}
    assert len(candidates[0].boxes) == 6
    assert candidates[0].type == "crowding" and candidates[0].zone == "square"


@pytest.mark.parametrize(
    "counts, kwargs, fired_at",
    [
        ([4] * 10, {}, []),
        ([5] * 4, {}, []),
        ([5] * 6, {}, [2.0, 2.5]),
        ([6, 6, 6, 3, 6, 6, 6], {}, [2.0, 2.5, 3.0]),
        ([6, 6, 3, 3, 3, 6, 6, 6, 6, 6], {}, [4.5]),
        ([6] * 8, {"score": 0.3}, []),
        ([6] * 8, {"label": "umbrella"}, []),
    ],
    ids=[
        "never enough people",
        "enough people but not for long enough",
        "enough people for exactly the duration",
        "a one-frame dip within max_gap keeps the clock",
        "a dip longer than max_gap restarts the clock",
        "low-confidence people are not counted",
        "only people are counted",
    ],
)
def test_crowding_duration_and_gaps(counts, kwargs, fired_at):
    assert [pts for pts, _ in run(rule(), counts, **kwargs)] == fired_at


def test_people_whose_feet_are_outside_the_zone_are_not_counted():
    r = rule(min_people=5, min_duration_s=0)
    assert r.update(frame(0), people(4, outside=3)) == []
    assert r.update(frame(0.5), people(5, outside=3))[0].count == 5


def test_no_candidate_outside_active_hours():
    night = Zone.from_points("square", ZONE.polygon, ((time(20), time(6)),))
    r = rule(min_duration_s=0, zone=night)
    assert r.update(frame(0), people(9)) == []  # 10:00 UTC is outside 20:00-06:00
