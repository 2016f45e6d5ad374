from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from vision.rules.base import Rule
from vision.rules.vending import StreetVendingRule, StreetVendingSettings
from vision.types import Detections, Frame
from vision.zones import Zone

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAVEMENT = Zone.from_points("pavement", [[0, 100], [400, 100], [400, 300], [0, 300]])
IMAGE = np.zeros((360, 480, 3), np.uint8)
DWELL = 20.0  # seconds (production: minutes); one observation a second

UMBRELLA = [100, 120, 180, 200]
TABLE = [110, 170, 170, 210]
VENDOR = [190, 130, 220, 230]  # centre 68 px from the umbrella's: within 1.5 x 80 px
FAR_PERSON = [350, 130, 380, 230]
STALL_FROM_ABOVE = [200, 150, 260, 210]
OFF_PAVEMENT = [100, 20, 180, 90]


def frame(pts: float) -> Frame:
    return Frame("cam-1", int(pts), pts, T0 + timedelta(seconds=pts), IMAGE)


def scene(*objects) -> Detections:
    """objects: (label, box) or (label, box, score)."""
    rows = [(o[0], o[1], o[2] if len(o) > 2 else 0.8) for o in objects]
    return Detections(
        np.array([box for _, box, _ in rows], np.float32).reshape(-1, 4),
        [label for label, _, _ in rows],
        [score for _, _, score in rows],
    )


def shifted(box, dx):
    return [box[0] + dx, box[1], box[2] + dx, box[3]]


def rule(zone=PAVEMENT, needs=frozenset({"person"}), **thresholds) -> StreetVendingRule:
    thresholds = {"dwell_s": DWELL, "hide_s": 10.0, **thresholds}
    return StreetVendingRule("cam-1", zone, StreetVendingSettings(**thresholds), needs)


def run(r, scenes):
    """One scene per second; returns the candidates."""
    fired = []
    for i, dets in enumerate(scenes):
        fired += r.update(frame(float(i)), dets)
    return fired


def test_a_person_at_an_umbrella_fires_after_the_dwell_on_every_observation():
    r = rule()
    fired = run(r, [scene(("umbrella", UMBRELLA), ("person", VENDOR))] * 31)
    assert [c.pts for c in fired] == [float(t) for t in range(20, 31)]
    first = fired[0]
    assert (first.type, first.camera_id, first.zone) == ("street_vending", "cam-1", "pavement")
    assert (first.count, first.started_pts, first.subject) == (1, 0.0, None)
    assert first.boxes == [[100.0, 120.0, 180.0, 200.0]]
    assert first.score == pytest.approx(0.8)
    assert isinstance(r, Rule) and r.needs == frozenset({"person"})


def umbrella_and(person, n=31, score=0.8, person_score=0.8):
    return [scene(("umbrella", UMBRELLA, score), ("person", person, person_score))] * n


@pytest.mark.parametrize(
    "scenes, fired_from",
    [
        (umbrella_and(VENDOR, n=20), None),
        (umbrella_and(VENDOR), 20.0),
        ([scene(("umbrella", UMBRELLA), ("table", TABLE), ("person", VENDOR))] * 31, 20.0),
        (
            [
                scene(("umbrella", shifted(UMBRELLA, 30 * i)), ("person", shifted(VENDOR, 30 * i)))
                for i in range(31)
            ],
            None,
        ),
        (
            [
                scene(("umbrella", shifted(UMBRELLA, 5 * i)), ("person", shifted(VENDOR, 5 * i)))
                for i in range(31)
            ],
            None,
        ),
        ([scene(("umbrella", UMBRELLA))] * 31, None),
        (umbrella_and(FAR_PERSON), None),
        (
            [
                scene(("umbrella", UMBRELLA), ("person", VENDOR if i % 3 == 0 else FAR_PERSON))
                for i in range(31)
            ],
            None,
        ),
        (
            [
                scene(("umbrella", UMBRELLA), ("person", VENDOR if i % 2 == 0 else FAR_PERSON))
                for i in range(31)
            ],
            20.0,
        ),
        (
            [
                scene(("umbrella", UMBRELLA), ("person", VENDOR))
                if i % 5 != 4
                else scene(("person", VENDOR))
                for i in range(31)
            ],
            20.0,
        ),
        (umbrella_and(VENDOR, score=0.2), None),
        (umbrella_and(VENDOR, person_score=0.2), None),
        ([scene(("umbrella", OFF_PAVEMENT), ("person", VENDOR))] * 31, None),
        ([scene(("street_vendor", STALL_FROM_ABOVE))] * 31, 20.0),
        ([scene(("person", VENDOR))] * 31, None),
    ],
    ids=[
        "not before the dwell",
        "a person at an umbrella for the dwell",
        "an umbrella and a table are reported together",
        "a pedestrian carrying an umbrella",
        "a pedestrian strolling with an umbrella, matched step by step",
        "an umbrella with nobody near it",
        "an umbrella with a person far from it",
        "an umbrella attended on only a third of the observations",
        "an umbrella attended on half of the observations",
        "an umbrella hidden now and then keeps its dwell",
        "a low-confidence umbrella is ignored",
        "a low-confidence person does not attend",
        "an umbrella standing outside the zone",
        "a vendor stall seen from above needs no person",
        "a person standing alone is not a stall",
    ],
)
def test_vending_needs_a_stationary_attended_stall_for_the_dwell(scenes, fired_from):
    fired = run(rule(), scenes)
    expected = [] if fired_from is None else [float(t) for t in range(int(fired_from), 31)]
    assert [c.pts for c in fired] == expected
    assert {c.started_pts for c in fired} == ({0.0} if fired else set())


def test_two_stall_objects_are_counted_and_both_boxes_reported():
    fired = run(rule(), [scene(("umbrella", UMBRELLA), ("table", TABLE), ("person", VENDOR))] * 21)
    assert (fired[-1].count, len(fired[-1].boxes)) == (2, 2)


def test_an_eagle_eye_rule_needs_the_vendor_role():
    r = rule(needs=frozenset({"vendor"}))
    assert r.needs == frozenset({"vendor"})
    assert [c.pts for c in run(r, [scene(("street_vendor", STALL_FROM_ABOVE))] * 21)] == [20.0]


def test_no_candidate_outside_active_hours():
    night = Zone.from_points("pavement", PAVEMENT.polygon, ((time(20), time(6)),))
    assert run(rule(zone=night), umbrella_and(VENDOR, n=60)) == []


def test_the_dwell_starts_when_the_active_hours_begin():
    # the stall stands from 10:00:00; vending is enforced from 10:00:10
    hours = Zone.from_points("pavement", PAVEMENT.polygon, ((time(10, 0, 10), time(20)),))
    fired = run(rule(zone=hours), umbrella_and(VENDOR, n=41))
    assert [c.pts for c in fired] == [float(t) for t in range(30, 41)]
    assert {c.started_pts for c in fired} == {10.0}
