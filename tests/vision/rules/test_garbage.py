from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from vision.rules.base import Rule
from vision.rules.garbage import GarbageRule, GarbageSettings
from vision.types import Detections, Frame
from vision.zones import Zone

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KERB = Zone.from_points("kerb", [[0, 100], [400, 100], [400, 300], [0, 300]])
IMAGE = np.zeros((360, 480, 3), np.uint8)
STEP = 5.0  # the garbage detector's slow cadence

PILE = [100.04, 150, 160, 200]
BAG = [300, 200, 340, 240]
PASSER_BY = [120, 100, 150, 210]
OFF_KERB = [350, 50, 450, 120]  # a fifth of it on the kerb


def frame(pts: float) -> Frame:
    return Frame("cam-1", int(pts), pts, T0 + timedelta(seconds=pts), IMAGE)


def piles(*boxes, score=0.8, label="garbage") -> Detections:
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4), [label] * len(boxes), [score] * len(boxes)
    )


def run(rule, script, **kwargs):
    """script: one list of pile boxes per observation, STEP apart; returns the candidates."""
    fired = []
    for i, boxes in enumerate(script):
        fired += rule.update(frame(i * STEP), piles(*boxes, **kwargs))
    return fired


def seconds(start: float, stop: float) -> list[float]:
    """Observation times from start to stop inclusive."""
    return [t * STEP for t in range(int(start / STEP), int(stop / STEP) + 1)]


def rule(zone=KERB, **thresholds) -> GarbageRule:
    return GarbageRule("cam-1", zone, GarbageSettings(**thresholds))


def test_a_pile_fires_on_every_observation_after_the_dwell_with_its_box_and_start():
    r = rule()
    fired = run(r, [[PILE]] * 21)
    assert [c.pts for c in fired] == seconds(60, 100)
    first = fired[0]
    assert (first.type, first.camera_id, first.zone) == ("garbage", "cam-1", "kerb")
    assert (first.count, first.started_pts, first.subject) == (1, 0.0, None)
    assert first.boxes == [[100.0, 150.0, 160.0, 200.0]]
    assert first.score == pytest.approx(0.8)
    assert isinstance(r, Rule) and r.needs == frozenset({"garbage"})


@pytest.mark.parametrize(
    "script, fired_at, started",
    [
        ([[PILE]] * 11, [], None),
        ([[PILE]] * 13, seconds(60, 60), 0.0),
        ([[PILE]] * 4 + [[]] * 10 + [[PILE]] * 7, seconds(60, 100), 0.0),
        ([[PILE] if i % 2 == 0 else [] for i in range(21)], seconds(60, 100), 0.0),
        ([[PILE]] * 2 + [[]] * 19, [], None),
        ([[]] * 4 + [[PILE]] * 2 + [[]] * 2 + [[PILE]] * 13, seconds(80, 100), 20.0),
    ],
    ids=[
        "not before the dwell",
        "at exactly the dwell",
        "a pile hidden by passers-by for less than hide_s keeps its dwell",
        "a pile detected on every other observation still fires",
        "a pile seen on fewer than min_observations never fires",
        "dwell counts from the first sight",
    ],
)
def test_dwell_and_hiding(script, fired_at, started):
    fired = run(rule(), script)
    assert [c.pts for c in fired] == fired_at
    assert {c.started_pts for c in fired} == ({started} if fired else set())


def test_a_pile_unseen_for_longer_than_hide_s_is_forgotten_and_starts_over():
    # seen 0..15, then unseen until it comes back at 150: forgotten at 140 (unseen > 120 s)
    script = [[PILE]] * 4 + [[]] * 26 + [[PILE]] * 20
    fired = run(rule(), script)
    assert [c.pts for c in fired] == seconds(60, 135) + seconds(210, 245)
    assert {c.started_pts for c in fired if c.pts >= 210} == {150.0}


def test_a_passer_by_detected_as_a_person_does_not_disturb_the_pile():
    r = rule()
    fired = []
    for i in range(21):
        dets = piles(PILE)
        if 4 <= i < 10:  # the pile is hidden behind them
            dets = Detections(np.array([PASSER_BY], np.float32), ["person"], [0.9])
        fired += r.update(frame(i * STEP), dets)
    assert [c.pts for c in fired] == seconds(60, 100)


@pytest.mark.parametrize(
    "boxes, kwargs",
    [
        ([PILE], {"score": 0.3}),
        ([PILE], {"label": "person"}),
        ([OFF_KERB], {}),
    ],
    ids=[
        "low-confidence piles are ignored",
        "only garbage labels count",
        "a pile mostly off the kerb is ignored",
    ],
)
def test_what_is_not_a_pile_in_the_zone_never_fires(boxes, kwargs):
    assert run(rule(), [boxes] * 30, **kwargs) == []


def test_an_overflowing_bin_is_garbage_too():
    fired = run(rule(), [[BAG]] * 13, label="bin_overflow")
    assert [(c.pts, c.type) for c in fired] == [(60.0, "garbage")]


@pytest.mark.parametrize(
    "empty_observations, expected_type",
    [
        (0, "garbage"),
        (4, "garbage"),
        (6, "illegal_dumping"),
        (20, "illegal_dumping"),
    ],
    ids=[
        "a pile there from the first observation is garbage",
        "a pile after a clean watch of 20 s is garbage",
        "a pile after a clean watch of 30 s is illegal dumping",
        "a pile after a long clean watch is illegal dumping",
    ],
)
def test_a_new_pile_on_a_clean_kerb_is_illegal_dumping(empty_observations, expected_type):
    script = [[]] * empty_observations + [[PILE]] * 20
    fired = run(rule(), script)
    appeared = empty_observations * STEP
    assert [c.pts for c in fired] == seconds(appeared + 60, appeared + 95)
    assert {c.type for c in fired} == {expected_type}
    assert {c.started_pts for c in fired} == {appeared}


def test_a_dumped_pile_beside_old_garbage_makes_the_candidate_dumping_and_keeps_it():
    # PILE there from the start; BAG dumped at 40 on a part of the kerb watched clean
    script = [[PILE]] * 8 + [[PILE, BAG]] * 30
    fired = run(rule(), script)
    by_pts = {c.pts: c for c in fired}
    assert (by_pts[60.0].type, by_pts[60.0].count) == ("garbage", 1)
    assert by_pts[95.0].type == "garbage"  # the bag has not yet lain for the dwell
    assert [c.pts for c in fired if c.type == "illegal_dumping"] == seconds(100, 185)
    late = by_pts[185.0]
    assert (late.count, late.started_pts) == (2, 0.0)
    assert late.boxes == [[100.0, 150.0, 160.0, 200.0], [300.0, 200.0, 340.0, 240.0]]


def test_a_pile_left_outside_active_hours_is_reported_when_the_hours_begin():
    daytime = Zone.from_points("kerb", KERB.polygon, ((time(10, 2), time(20)),))
    fired = run(rule(zone=daytime), [[PILE]] * 30)
    assert [c.pts for c in fired] == seconds(120, 145)
    assert {c.started_pts for c in fired} == {0.0}


def test_no_candidate_outside_active_hours():
    night = Zone.from_points("kerb", KERB.polygon, ((time(20), time(6)),))
    assert run(rule(zone=night), [[PILE]] * 30) == []
