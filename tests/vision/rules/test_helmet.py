from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from vision.rules.helmet import MissingHelmetRule, MissingHelmetSettings
from vision.types import Detections, Frame
from vision.zones import Zone

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SITE = Zone.from_points("site", [[0, 0], [400, 0], [400, 300], [0, 300]])
IMAGE = np.zeros((360, 480, 3), np.uint8)
SIZE = 40
"""Head boxes are SIZE x SIZE pixels."""


def frame(pts: float) -> Frame:
    return Frame("cam-1", int(pts), pts, T0 + timedelta(seconds=pts), IMAGE)


def heads(*spec: tuple[float, float, str], score: float = 0.8) -> Detections:
    """One head box per (x, y, label): label "B" bare (no_helmet), "H" helmet, else as given."""
    labels = {"B": "no_helmet", "H": "helmet"}
    boxes = [[x, y, x + SIZE, y + SIZE] for x, y, _ in spec]
    return Detections(
        np.array(boxes, np.float32).reshape(-1, 4),
        [labels.get(label, label) for _, _, label in spec],
        [score] * len(spec),
    )


def rule(zone: Zone = SITE, **thresholds) -> MissingHelmetRule:
    return MissingHelmetRule("cam-1", zone, MissingHelmetSettings(**thresholds))


def run(r: MissingHelmetRule, observations, step: float = 1.0):
    """Feed one Detections per observation, ``step`` seconds apart; return every candidate."""
    fired = []
    for i, dets in enumerate(observations):
        fired += r.update(frame(i * step), dets)
    return fired


def test_a_bare_head_fires_after_min_observations_as_one_stable_subject():
    fired = run(rule(), [heads((100, 100, "B"))] * 6)
    assert [c.pts for c in fired] == [2.0, 3.0, 4.0, 5.0]
    assert {c.subject for c in fired} == {"head-1"}
    assert {c.started_pts for c in fired} == {0.0}
    first = fired[0]
    assert (first.type, first.camera_id, first.zone) == ("missing_helmet", "cam-1", "site")
    assert first.boxes == [[100.0, 100.0, 140.0, 140.0]]
    assert first.count is None
    assert first.score == pytest.approx(0.8)


@pytest.mark.parametrize(
    "labels, fired_at",
    [
        ("BBBBB", [2, 3, 4]),
        ("HHHHHHH", []),
        ("BB", []),
        ("BBHBB", [2, 3, 4]),
        ("HBHBH", []),
        ("BBBHHHH", [2, 3, 4]),
        ("HHHHBBBB", [6, 7]),
    ],
    ids=[
        "bare every time fires from the third observation",
        "a worker wearing a helmet never fires",
        "two observations are too few to judge",
        "a flickering label bare 4 of 5 times fires",
        "a flickering label bare 2 of 5 times does not",
        "a worker who puts a helmet on stops firing",
        "a worker who takes the helmet off fires once most of the window is bare",
    ],
)
def test_a_head_is_judged_on_its_last_observations(labels, fired_at):
    fired = run(rule(), [heads((100, 100, label)) for label in labels])
    assert [c.pts for c in fired] == fired_at
    assert {c.subject for c in fired} <= {"head-1"}


def test_the_score_is_the_mean_confidence_of_the_bare_observations():
    observations = [heads((100, 100, "B"), score=s) for s in (0.5, 0.7, 0.9)]
    observations.append(heads((100, 100, "H"), score=0.99))
    fired = run(rule(), observations)
    assert [c.score for c in fired] == [pytest.approx(0.7), pytest.approx(0.7)]


def test_two_bare_workers_are_two_subjects_and_a_helmeted_one_none():
    workers = heads((50, 100, "B"), (200, 100, "H"), (300, 150, "B"))
    fired = run(rule(), [workers] * 4)
    assert [(c.pts, c.subject) for c in fired] == [
        (2.0, "head-1"),
        (2.0, "head-3"),
        (3.0, "head-1"),
        (3.0, "head-3"),
    ]
    assert fired[1].boxes == [[300.0, 150.0, 340.0, 190.0]]


@pytest.mark.parametrize(
    "step_px",
    [10, 25, 35],
    ids=[
        "boxes overlapping a lot",
        "boxes barely overlapping",
        "no overlap but the centre within one head size",
    ],
)
def test_a_worker_moving_between_observations_keeps_the_subject(step_px):
    walk = [heads((20 + step_px * i, 100, "B")) for i in range(6)]
    fired = run(rule(), walk)
    assert [c.subject for c in fired] == ["head-1"] * 4
    assert fired[-1].boxes == [[20.0 + 5 * step_px, 100.0, 60.0 + 5 * step_px, 140.0]]


def test_two_workers_walking_side_by_side_keep_their_subjects():
    walk = [heads((20 + 30 * i, 60, "B"), (20 + 30 * i, 110, "H")) for i in range(6)]
    fired = run(rule(), walk)
    assert [c.subject for c in fired] == ["head-1"] * 4
    assert [c.boxes[0][1] for c in fired] == [60.0] * 4


def test_a_head_far_from_every_track_is_a_new_subject():
    observations = [heads((20, 100, "B"))] * 3 + [heads((200, 100, "B"))] * 3
    fired = run(rule(), observations)
    assert [(c.pts, c.subject) for c in fired] == [(2.0, "head-1"), (5.0, "head-2")]


@pytest.mark.parametrize(
    "absence_s, subjects_after",
    [(8.0, {"head-1"}), (16.0, {"head-2"})],
    ids=["a short absence keeps the subject", "after forget_s the worker is a new subject"],
)
def test_an_unseen_worker_is_forgotten_after_forget_s(absence_s, subjects_after):
    r = rule(forget_s=10.0)
    bare = heads((100, 100, "B"))
    before = [c for pts in (0, 1, 2, 3) for c in r.update(frame(pts), bare)]
    for pts in np.arange(4.0, 3.0 + absence_s):  # frames where the worker is not seen
        assert r.update(frame(pts), Detections.empty()) == []
    back = 3.0 + absence_s
    after = [c for pts in (back, back + 1, back + 2) for c in r.update(frame(pts), bare)]
    assert {c.subject for c in before} == {"head-1"}
    assert {c.subject for c in after} == subjects_after
    if subjects_after == {"head-2"}:
        assert [c.pts for c in after] == [back + 2]
        assert after[0].started_pts == back


@pytest.mark.parametrize(
    "dets",
    [
        heads((100, 290, "B")),
        heads((100, 100, "B"), score=0.2),
        heads((100, 100, "person"), (100, 100, "head")),
    ],
    ids=[
        "a head whose box bottom-centre is outside the zone",
        "a low-confidence head",
        "boxes that are not helmet-detector heads",
    ],
)
def test_heads_that_do_not_count_are_ignored(dets):
    assert run(rule(), [dets] * 6) == []


def test_no_candidate_outside_active_hours():
    night = Zone.from_points("site", SITE.polygon, ((time(20), time(6)),))
    assert run(rule(zone=night), [heads((100, 100, "B"))] * 6) == []  # 10:00 UTC


def test_tracking_starts_afresh_when_the_zone_becomes_active():
    morning = Zone.from_points("site", SITE.polygon, ((time(10, 0, 3), time(18)),))
    fired = run(rule(zone=morning), [heads((100, 100, "B"))] * 8)
    assert [c.pts for c in fired] == [5.0, 6.0, 7.0]
    assert {c.started_pts for c in fired} == {3.0}


@pytest.mark.parametrize(
    "label, score, fires",
    [
        ("B", 0.28, True),
        ("B", 0.22, False),
        ("H", 0.30, False),
    ],
    ids=[
        "a bare head at 0.28 counts (bare_min_score 0.25)",
        "a bare head at 0.22 does not",
        "a helmeted head at 0.30 is below min_score and cannot dilute the bare share",
    ],
)
def test_bare_and_helmeted_heads_have_their_own_score_floors(label, score, fires):
    observations = [heads((100, 100, label), score=score)] * 6
    assert bool(run(rule(), observations)) == (fires and label == "B")
    if label == "H":  # a weak helmet sighting between bare ones does not break the majority
        mixed = [heads((100, 100, "B"), score=0.8), heads((100, 100, "H"), score=score)] * 3
        assert run(rule(), mixed)
