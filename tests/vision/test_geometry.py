import numpy as np
import pytest

from vision.geometry import box_iou, box_overlap_fraction, points_in_polygon, polygon_area

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]
# a "U" shape: the notch (4..6, 3..10) is outside
U_SHAPE = [[0, 0], [10, 0], [10, 10], [6, 10], [6, 3], [4, 3], [4, 10], [0, 10]]


@pytest.mark.parametrize(
    "polygon, point, inside",
    [
        (SQUARE, (5, 5), True),
        (SQUARE, (11, 5), False),
        (SQUARE, (-0.1, 5), False),
        (SQUARE, (5, 10.5), False),
        (U_SHAPE, (2, 8), True),
        (U_SHAPE, (5, 8), False),
        (U_SHAPE, (5, 1), True),
        (U_SHAPE, (8, 8), True),
    ],
    ids=[
        "centre of a square is inside",
        "right of a square is outside",
        "just left of a square is outside",
        "below a square is outside",
        "left arm of a U is inside",
        "the notch of a U is outside",
        "the base of a U is inside",
        "right arm of a U is inside",
    ],
)
def test_points_in_polygon(polygon, point, inside):
    assert points_in_polygon(np.array([point]), np.array(polygon)).tolist() == [inside]


def test_a_point_on_a_shared_edge_belongs_to_exactly_one_of_two_adjacent_zones():
    left = np.array([[0, 0], [10, 0], [10, 10], [0, 10]])
    right = np.array([[10, 0], [20, 0], [20, 10], [10, 10]])
    point = np.array([[10, 5]])
    assert points_in_polygon(point, left)[0] != points_in_polygon(point, right)[0]


def test_points_in_polygon_handles_many_points_and_no_points():
    grid = np.array([[x, y] for x in range(-5, 15) for y in range(-5, 15)]) + 0.5
    inside = points_in_polygon(grid, np.array(SQUARE))
    assert inside.sum() == 100
    assert points_in_polygon(np.zeros((0, 2)), np.array(SQUARE)).shape == (0,)


@pytest.mark.parametrize(
    "polygon, area",
    [(SQUARE, 100.0), (U_SHAPE, 100.0 - 2 * 7), ([[0, 0], [4, 0], [0, 3]], 6.0)],
    ids=["square", "U shape", "right triangle"],
)
def test_polygon_area(polygon, area):
    assert polygon_area(np.array(polygon)) == pytest.approx(area)


@pytest.mark.parametrize(
    "a, b, iou",
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [2, 2, 4, 4], 4 / 100),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
    ],
    ids=["identical", "disjoint", "half overlap", "contained", "degenerate boxes"],
)
def test_box_iou(a, b, iou):
    assert box_iou(np.array([a]), np.array([b]))[0, 0] == pytest.approx(iou)


@pytest.mark.parametrize(
    "polygon, box, fraction",
    [
        (SQUARE, [2, 2, 4, 4], 1.0),
        (SQUARE, [5, 5, 15, 15], 0.25),
        (SQUARE, [20, 20, 30, 30], 0.0),
        (SQUARE, [-10, -10, 20, 20], 100 / 900),
        (SQUARE, [10, 0, 20, 10], 0.0),
        (U_SHAPE, [4.5, 4, 5.5, 9], 0.0),
        (U_SHAPE, [3, 5, 7, 9], 0.5),
        (U_SHAPE, [2, 0, 8, 2], 1.0),
        (U_SHAPE, [3, 2, 7, 4], (4 * 1 + 2 * 1) / 8),
        ([[0, 0], [4, 0], [0, 4]], [0, 0, 4, 4], 0.5),
        (SQUARE, [3, 3, 3, 8], 0.0),
        (SQUARE, [5, 5, 4, 4], 0.0),
    ],
    ids=[
        "box wholly inside a square",
        "a quarter of the box inside a square",
        "box far outside",
        "box around the whole square",
        "box touching the square's edge only",
        "box in the notch of a U",
        "box across the notch of a U: its two arms",
        "box in the base of a U",
        "box straddling the base and the notch of a U",
        "half a box under a triangle's hypotenuse",
        "zero-width box",
        "inverted box",
    ],
)
def test_box_overlap_fraction(polygon, box, fraction):
    got = box_overlap_fraction(np.array([box]), np.array(polygon))
    assert got.shape == (1,)
    assert got[0] == pytest.approx(fraction)


def test_box_overlap_fraction_matches_sampling_on_a_concave_polygon():
    rng = np.random.default_rng(7)
    corners = rng.uniform(-3, 13, size=(20, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
    got = box_overlap_fraction(boxes, np.array(U_SHAPE))
    for box, fraction in zip(boxes, got, strict=True):
        u = (np.arange(200) + 0.5) / 200
        xs, ys = np.meshgrid(box[0] + u * (box[2] - box[0]), box[1] + u * (box[3] - box[1]))
        sampled = points_in_polygon(np.stack([xs.ravel(), ys.ravel()], 1), np.array(U_SHAPE))
        assert fraction == pytest.approx(sampled.mean(), abs=0.02)


def test_box_overlap_fraction_of_no_boxes_is_empty():
    assert box_overlap_fraction(np.zeros((0, 4)), np.array(SQUARE)).shape == (0,)
