"""People counting: points of bodies and heads, heads fused with the bodies that own them, zone
counts, and the counters on real dense crowd-mall frames with YOLOX-Nano and the helmet model."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED, YOLOX, need
from vision.counting import (
    BodyCounter,
    FusionCounter,
    HeadCounter,
    People,
    PeopleCounter,
    body_people,
    fuse_people,
    head_people,
    match_heads,
)
from vision.types import Detections
from vision.zones import Zone

MALL = SHARED / "data" / "crowd-mall"
DENSE_FRAMES = (99, 241)
"""Two of the densest crowd-mall frames: 50 and 49 people."""
LEFT = Zone.from_points("left", [(0, 0), (320, 0), (320, 480), (0, 480)])
RIGHT = Zone.from_points("right", [(320, 0), (640, 0), (640, 480), (320, 480)])


def dets(*rows: tuple[float, float, float, float, str, float]) -> Detections:
    if not rows:
        return Detections.empty()
    return Detections(
        np.array([r[:4] for r in rows], np.float32),
        np.array([r[4] for r in rows], object),
        np.array([r[5] for r in rows], np.float32),
    )


def test_a_body_stands_at_its_box_bottom_centre_and_a_head_at_its_centre():
    found = dets((10, 20, 30, 100, "person", 0.9), (100, 50, 110, 60, "helmet", 0.8))
    assert body_people(found).points.tolist() == [[20, 100]]
    assert head_people(found).points.tolist() == [[105, 55]]
    assert body_people(found).kinds.tolist() == ["body"]


@pytest.mark.parametrize(
    "min_score, bodies",
    [
        pytest.param(0.1, 2, id="a low threshold keeps the faint body"),
        pytest.param(0.5, 1, id="a high threshold drops it"),
    ],
)
def test_min_score_filters_people(min_score, bodies):
    found = dets((0, 0, 10, 30, "person", 0.9), (20, 0, 30, 30, "person", 0.3))
    assert len(body_people(found, min_score)) == bodies


def test_one_head_seen_as_helmet_and_as_bare_counts_once():
    found = dets(
        (100, 50, 110, 60, "helmet", 0.6),
        (101, 50, 111, 61, "no_helmet", 0.4),
        (200, 50, 210, 60, "no_helmet", 0.5),
        (0, 0, 50, 50, "umbrella", 0.9),
    )
    heads = head_people(found, min_score=0.25)
    assert heads.points.tolist() == [[105, 55], [205, 55]]


def people_of(bodies: list[tuple], heads: list[tuple]) -> tuple[People, People]:
    return (
        body_people(dets(*[(*b, "person", 0.9) for b in bodies])),
        head_people(dets(*[(*h, "no_helmet", 0.9) for h in heads])),
    )


@pytest.mark.parametrize(
    "bodies, heads, matched",
    [
        pytest.param([(0, 0, 20, 60)], [(6, 0, 14, 8)], [True], id="a head on top of its body"),
        pytest.param(
            [(0, 0, 20, 60)], [(6, 40, 14, 48)], [False], id="a head at the body's knees is another person"
        ),
        pytest.param(
            [(0, 0, 20, 60)], [(6, 0, 14, 8), (12, 4, 20, 12)], [True, False],
            id="a body owns one head and the one hidden behind it stays a person",
        ),
        pytest.param(
            [(0, 0, 20, 60), (10, 2, 30, 62)], [(6, 0, 14, 8), (16, 2, 24, 10)], [True, True],
            id="two overlapping bodies each claim their nearest head",
        ),
        pytest.param([], [(6, 0, 14, 8)], [False], id="a head without bodies"),
    ],
)  # fmt: skip
def test_heads_are_matched_to_the_bodies_that_own_them(bodies, heads, matched):
    b, h = people_of(bodies, heads)
    assert match_heads(b, h).tolist() == matched
    fused = fuse_people(b, h, "union")
    assert len(fused) == len(b) + matched.count(False)
    assert len(fused) >= max(len(b), len(h))


def test_max_fusion_takes_the_larger_set():
    b, h = people_of([(0, 0, 20, 60)], [(6, 0, 14, 8), (40, 0, 48, 8)])
    assert fuse_people(b, h, "max").kinds.tolist() == ["head", "head"]
    assert fuse_people(h[:0], b, "max").kinds.tolist() == ["body"]
    with pytest.raises(ValueError, match="unknown fusion mode 'sum'"):
        fuse_people(b, h, "sum")


@pytest.mark.parametrize(
    "zone, expected",
    [
        pytest.param(None, 3, id="no zone counts everybody"),
        pytest.param(LEFT, 2, id="the left half holds a body standing in it and a head"),
        pytest.param(RIGHT, 1, id="the right half holds the body whose feet are in it"),
    ],
)
def test_zone_counts_use_feet_for_bodies_and_centres_for_heads(zone, expected):
    # the body's box straddles the zone edge, its feet (bottom-centre) are at x = 330: right
    b, h = people_of([(300, 100, 360, 300), (10, 10, 50, 150)], [(200, 200, 210, 210)])
    people = fuse_people(b, h)
    assert people.count(zone) == expected
    assert len(people.as_detections()) == 3


class Fixed:
    """A stand-in Detector returning the same boxes for every image."""

    name = "fixed"
    labels = frozenset({"person", "helmet", "no_helmet"})

    def __init__(self, found: Detections) -> None:
        self.found = found

    def detect(self, images):
        return [self.found for _ in images]


def test_counters_share_one_interface():
    found = dets(
        (0, 0, 20, 60, "person", 0.9), (6, 0, 14, 8, "helmet", 0.9), (100, 0, 108, 8, "helmet", 0.9)
    )
    image = np.zeros((100, 200, 3), np.uint8)
    body, head = BodyCounter(Fixed(found)), HeadCounter(Fixed(found))
    fused = FusionCounter(body, head, "union")
    for counter, expected in ((body, 1), (head, 2), (fused, 2)):
        assert isinstance(counter, PeopleCounter)
        assert counter.count(image) == expected
        assert counter.count(
            image, Zone.from_points("z", [(90, 0), (200, 0), (200, 100), (90, 100)])
        ) == (expected - 1)
    assert fused.name == "union(body:fixed@0.25, head:fixed@0.25)"
    with pytest.raises(ValueError, match="fusion mode"):
        FusionCounter(body, head, "sum")


@pytest.fixture(scope="module")
def dense_frames() -> list[tuple[np.ndarray, int]]:
    """(image, true count) of the DENSE_FRAMES of crowd-mall."""
    video, points = need(MALL / "mall.mp4"), need(MALL / "points.json")
    truth = {f["index"]: f["count"] for f in json.loads(points.read_text())["frames"]}
    capture = cv2.VideoCapture(str(video))
    out = []
    for index in range(max(DENSE_FRAMES) + 1):
        ok, image = capture.read()
        assert ok, f"{video}: frame {index} did not decode"
        if index in DENSE_FRAMES:
            out.append((image, truth[index]))
    capture.release()
    return out


@pytest.fixture(scope="module")
def yolox_low():
    need(YOLOX)
    from models.loader import load_detector

    return load_detector("yolox-nano-coco", conf=0.05)
