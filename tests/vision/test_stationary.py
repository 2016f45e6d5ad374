import numpy as np
import pytest

from vision.stationary import StationaryMemory
from vision.types import Detections

PILE = [100, 100, 160, 150]
BAG = [300, 100, 340, 140]


def dets(*boxes, label="garbage", score=0.8):
    labels = [label] * len(boxes) if isinstance(label, str) else list(label)
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), labels, [score] * len(boxes))


def shifted(box, dx=0.0, dy=0.0):
    return [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]


def feed(memory, observations):
    """observations: [(pts, [box, ...])]; returns the alive objects after the last one."""
    objects = []
    for pts, boxes in observations:
        objects = memory.observe(pts, dets(*boxes))
    return objects


@pytest.mark.parametrize(
    "observations, ids, hits, first_pts",
    [
        ([(t, [PILE]) for t in range(0, 50, 5)], [1], [10], [0]),
        ([(t, [shifted(PILE, (t % 3) * 3)]) for t in range(0, 50, 5)], [1], [10], [0]),
        ([(t, [PILE] if t % 10 == 0 else []) for t in range(0, 50, 5)], [1], [5], [0]),
        ([(0, [PILE]), (5, []), (30, []), (50, [PILE])], [1], [2], [0]),
        ([(0, [PILE]), (5, []), (40, []), (65, [])], [], [], []),
        ([(0, [PILE]), (5, []), (40, []), (65, [PILE])], [2], [1], [65]),
        ([(0, [PILE, BAG]), (5, [BAG, PILE]), (10, [PILE])], [1, 2], [3, 2], [0, 0]),
        ([(0, []), (5, [PILE]), (10, [PILE])], [1], [2], [5]),
        ([(0, [PILE]), (100, [PILE])], [2], [1], [100]),
    ],
    ids=[
        "a still pile keeps one id and gains a hit per observation",
        "a pile whose box jitters a little is still one object",
        "a pile missed on every other observation keeps its id and first sight",
        "a pile hidden for less than hide_s keeps its id and first sight",
        "a pile unseen for more than hide_s is forgotten",
        "a pile seen again after being forgotten is a new object",
        "two piles keep their ids whatever the detection order",
        "a pile first seen on the second observation starts then",
        "a gap in observations longer than hide_s starts the memory over",
    ],
)
def test_objects_are_matched_by_iou_and_survive_being_hidden(observations, ids, hits, first_pts):
    objects = feed(StationaryMemory(iou=0.3, hide_s=30), observations)
    assert [obj.id for obj in objects] == ids
    assert [obj.hits for obj in objects] == hits
    assert [obj.first_pts for obj in objects] == first_pts


def test_a_moving_box_never_accumulates_hits():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    for i in range(10):
        objects = memory.observe(i * 1.0, dets(shifted(PILE, dx=50 * i)))
    assert max(obj.hits for obj in objects) == 1
    assert memory.present(9.0, min_hits=2) == []


@pytest.mark.parametrize(
    "step_px, max_hits",
    [(10, 7), (30, 2)],
    ids=["a slow walker matched step by step", "a faster walker"],
)
def test_a_box_that_travels_away_from_where_it_was_first_seen_starts_over(step_px, max_hits):
    memory = StationaryMemory(iou=0.3, hide_s=30)
    dwells = []
    for i in range(40):
        objects = memory.observe(float(i), dets(shifted(PILE, dx=step_px * i)))
        dwells.append(max(obj.dwell(float(i)) for obj in objects if obj.seen))
    assert max(dwells) < 60 / step_px  # never longer than it takes to travel one box width
    assert max(obj.hits for obj in memory.objects) <= max_hits


def test_a_growing_pile_keeps_its_dwell():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    for i in range(20):
        grown = [PILE[0], PILE[1] - 5 * i, PILE[2] + 10 * i, PILE[3]]
        objects = memory.observe(float(i), dets(grown))
    assert [(obj.id, obj.first_pts, obj.hits) for obj in objects] == [(1, 0.0, 20)]


def test_hidden_objects_are_reported_but_not_seen():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    memory.observe(0, dets(PILE, BAG))
    objects = memory.observe(5, dets(BAG))
    assert [(obj.id, obj.seen, obj.det_index) for obj in objects] == [
        (1, False, None),
        (2, True, 0),
    ]
    assert objects[0].last_pts == 0 and objects[1].last_pts == 5


def test_a_label_flip_on_the_same_pile_keeps_the_object_and_its_best_label():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    memory.observe(0, dets(PILE, label="garbage", score=0.9))
    (obj,) = memory.observe(5, dets(PILE, label="bin_overflow", score=0.5))
    assert (obj.id, obj.hits, obj.label, obj.score) == (1, 2, "garbage", pytest.approx(0.9))


def test_matching_prefers_the_same_label_when_boxes_overlap():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    table, umbrella = [100, 100, 200, 200], [90, 90, 210, 190]
    memory.observe(0, dets(table, umbrella, label=["table", "umbrella"]))
    objects = memory.observe(5, dets(umbrella, table, label=["umbrella", "table"]))
    assert [(obj.id, obj.label, obj.det_index) for obj in objects] == [
        (1, "table", 1),
        (2, "umbrella", 0),
    ]


def test_present_filters_by_hits_and_dwell():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    feed(memory, [(0, [PILE]), (5, [PILE, BAG]), (10, [PILE, BAG])])
    assert [obj.id for obj in memory.present(10)] == [1, 2]
    assert [obj.id for obj in memory.present(10, min_hits=3)] == [1]
    assert [obj.id for obj in memory.present(10, min_dwell_s=6)] == [1]


NEAR_PILE = shifted(PILE, dx=40)  # overlaps PILE with IoU < 0.3
ELSEWHERE = [400, 300, 450, 350]
WATCHED = [(t, []) for t in range(0, 100, 10)]  # watched empty for 100 s


@pytest.mark.parametrize(
    "observations, clean",
    [
        ([(0, [PILE])], False),
        ([(0, []), (10, []), (20, [PILE])], False),
        ([(0, []), (15, []), (30, []), (31, [PILE])], True),
        ([(t, []) for t in range(0, 300, 10)] + [(300, [PILE])], True),
        (WATCHED + [(100, [NEAR_PILE]), (110, []), (120, [PILE])], False),
        (WATCHED + [(100, [NEAR_PILE]), (120, []), (140, []), (150, [PILE])], False),
        (WATCHED + [(100, [NEAR_PILE]), (120, []), (140, []), (170, [PILE])], True),
        ([(0, [ELSEWHERE]), (10, [ELSEWHERE]), (20, [ELSEWHERE]), (40, [PILE])], True),
        ([(0, [NEAR_PILE]), (10, [NEAR_PILE]), (20, [NEAR_PILE]), (40, [PILE, NEAR_PILE])], False),
    ],
    ids=[
        "there from the first observation",
        "appeared after too short a watch",
        "appeared after a watch of the clean period",
        "appeared after a long clean watch",
        "appeared where a pile is hidden right now",
        "appeared where a pile was forgotten moments ago",
        "appeared where a pile was forgotten before the clean period",
        "appeared away from the other pile",
        "appeared overlapping a pile that is still there",
    ],
)
def test_clean_before_says_whether_the_place_was_watched_empty(observations, clean):
    memory = StationaryMemory(iou=0.3, hide_s=30)
    objects = feed(memory, observations)
    newest = max(objects, key=lambda obj: obj.id)
    assert newest.box.tolist() == PILE
    assert memory.clean_before(newest, clean_s=30) is clean


def test_was_empty_needs_watching_to_cover_the_span():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    feed(memory, [(10, []), (20, [BAG])])
    assert memory.was_empty(np.array(PILE), 10, 20)
    assert not memory.was_empty(np.array(PILE), 5, 20)
    assert not memory.was_empty(np.array(BAG), 10, 25)
    assert memory.was_empty(np.array(BAG), 10, 20)


def test_reset_forgets_everything_and_stops_watching():
    memory = StationaryMemory(iou=0.3, hide_s=30)
    feed(memory, [(0, [PILE]), (5, [PILE])])
    memory.reset()
    assert memory.objects == [] and memory.watching_since is None
    (obj,) = memory.observe(10, dets(PILE))
    assert (obj.id, obj.first_pts, memory.watching_since) == (2, 10, 10)
