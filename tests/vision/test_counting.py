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
    ScaledTiledDetector,
    body_people,
    fuse_people,
    head_people,
    match_heads,
)
from vision.tiling import TiledDetector
from vision.types import Detections
from vision.zones import Zone

MALL = SHARED / "data" / "crowd-mall"
DENSE_FRAMES = (99, 241)
"""Two of the densest crowd-mall frames: 50 and 49 people."""
LEFT = Zone.from_points("left", [(-1, -1), (320, -1), (320, 481), (-1, 481)])
RIGHT = Zone.from_points("right", [(320, -1), (641, -1), (641, 481), (320, 481)])
"""The two halves of a 640x480 frame (a little beyond its borders, where feet may lie)."""


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
            [(0, 0, 20, 60)], [(6, 40, 14, 48)], [False],
            id="a head at the body's knees is another person",
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


@pytest.mark.parametrize(
    "size, side, grid",
    [
        pytest.param((640, 480), 256, (3, 3), id="a 640x480 mall camera gets 256-px tiles"),
        pytest.param((1920, 1080), 768, (3, 2), id="a 1080p street gets 768-px tiles"),
        pytest.param((320, 240), 160, (3, 2), id="a small frame keeps the minimum tile"),
    ],
)
def test_scaled_tiles_follow_the_frame_width(size, side, grid):
    tiler = ScaledTiledDetector(Fixed(Detections.empty()), fraction=0.4, min_tile=160)
    tiles = tiler.tiles(np.zeros((size[1], size[0], 3), np.uint8))
    assert {t.width for t in tiles} == {side}
    assert (len({t.x0 for t in tiles}), len({t.y0 for t in tiles})) == grid
    assert max(t.x1 for t in tiles) == size[0] and max(t.y1 for t in tiles) == size[1]


@pytest.mark.parametrize("fraction, overlap", [(0, 0.2), (1.5, 0.2), (0.4, 1.0)])
def test_scaled_tiles_reject_bad_settings(fraction, overlap):
    with pytest.raises(ValueError, match="fraction|overlap"):
        ScaledTiledDetector(Fixed(Detections.empty()), fraction=fraction, overlap=overlap)


@pytest.mark.parametrize(
    "frame", range(len(DENSE_FRAMES)), ids=lambda i: f"mall frame {DENSE_FRAMES[i]}"
)
def test_tiles_count_a_dense_crowd_the_whole_frame_misses(dense_frames, yolox_low, frame):
    image, truth = dense_frames[frame]
    whole = BodyCounter(yolox_low, 0.35).count(image)  # the crowding rule's default today
    tiled = BodyCounter(ScaledTiledDetector(yolox_low, fraction=0.4), 0.25).count(image)
    assert whole < 0.67 * truth, f"whole frame counted {whole} of {truth}"
    assert abs(tiled - truth) <= 0.2 * truth, f"tiles counted {tiled} of {truth}"


def test_zone_counts_split_a_real_crowd_between_two_halves(dense_frames, yolox_low):
    image, _ = dense_frames[0]
    people = BodyCounter(ScaledTiledDetector(yolox_low), 0.25).locate(image)
    assert people.count(LEFT) > 5 and people.count(RIGHT) > 5
    assert people.count(LEFT) + people.count(RIGHT) == len(people)


def test_heads_fused_with_bodies_never_count_fewer_than_either(dense_frames, yolox_low):
    from models.files import local_file
    from models.loader import load_detector
    from models.registry import entry

    if local_file(entry("helmet")) is None:
        pytest.skip("helmet weights (models/weights/helmet.pt) are absent")
    helmet = load_detector("helmet", conf=0.05)
    image, truth = dense_frames[0]
    bodies = BodyCounter(ScaledTiledDetector(yolox_low), 0.25).locate(image)
    heads = HeadCounter(TiledDetector(helmet, tile_size=320, overlap=64), 0.15).locate(image)
    assert len(heads) > 0.3 * truth, f"{len(heads)} heads of {truth} people"
    fused = fuse_people(bodies, heads, "union")
    assert max(len(bodies), len(heads)) <= len(fused) <= len(bodies) + len(heads)
    assert set(fused.kinds.tolist()) == {"body", "head"}
