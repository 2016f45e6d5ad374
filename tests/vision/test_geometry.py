import numpy as np
import pytest

from vision.geometry import box_iou, points_in_polygon, polygon_area

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
