"""Tiled inference: the tile grid, the merge of boxes cut at tile edges, one batch per call, and
YOLOX-Nano on a real 1080p street view with and without tiles."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from tests.conftest import ANCHOR
from vision.detectors.base import Detector
from vision.geometry import box_iou
from vision.tiling import Tile, TiledDetector, tile_grid
from vision.types import Detections


class BlobDetector:
    """A stand-in model: every bright blob is an object, white ones ``person``, red ones ``car``.

    It records the size of every batch it is given.
    """

    name = "blobs"
    labels = frozenset({"person", "car"})

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        self.batches.append(len(images))
        return [self._blobs(image) for image in images]

    @staticmethod
    def _blobs(image: np.ndarray) -> Detections:
        mask = (image.max(axis=2) > 127).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        boxes, labels = [], []
        for x, y, w, h, _area in stats[1:count]:
            boxes.append([x, y, x + w, y + h])
            blue = image[y : y + h, x : x + w, 0].mean()
            labels.append("person" if blue > 127 else "car")
        return Detections(
            np.array(boxes).reshape(-1, 4), np.array(labels), np.full(len(boxes), 0.9)
        )


def canvas(*rectangles: tuple[int, int, int, int, str], size=(640, 480)) -> np.ndarray:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    colours = {"person": (255, 255, 255), "car": (0, 0, 255)}
    for x0, y0, x1, y1, label in rectangles:
        image[y0:y1, x0:x1] = colours[label]
    return image


def sorted_boxes(dets: Detections) -> list[list[float]]:
    return sorted(dets.xyxy.round().tolist())


@pytest.mark.parametrize(
    "width, height, tile, overlap",
    [
        (1920, 1080, 640, 128),
        (768, 576, 416, 64),
        (1280, 640, 640, 0),
        (300, 200, 640, 128),
        (1000, 700, (512, 256), 32),
    ],
    ids=[
        "1080p in 640 tiles",
        "PETS 768x576 in 416 tiles",
        "exact multiple without overlap",
        "frame smaller than a tile",
        "rectangular tiles",
    ],
)
def test_the_tile_grid_covers_the_frame_exactly(width, height, tile, overlap):
    tiles = tile_grid(width, height, tile, overlap)
    tile_w, tile_h = (tile, tile) if isinstance(tile, int) else tile
    covered = np.zeros((height, width), np.int32)
    for t in tiles:
        assert 0 <= t.x0 < t.x1 <= width and 0 <= t.y0 < t.y1 <= height
        assert t.width == min(tile_w, width) and t.height == min(tile_h, height)
        covered[t.y0 : t.y1, t.x0 : t.x1] += 1
    assert covered.min() >= 1, "some pixels are in no tile"
    xs = sorted({t.x0 for t in tiles})
    ys = sorted({t.y0 for t in tiles})
    for starts, side in ((xs, min(tile_w, width)), (ys, min(tile_h, height))):
        for a, b in zip(starts, starts[1:], strict=False):
            assert a + side - b >= overlap, "neighbouring tiles share too few pixels"


@pytest.mark.parametrize(
    "tile, overlap",
    [(640, 640), (640, -1), (0, 0)],
    ids=["overlap as big as the tile", "negative overlap", "empty tile"],
)
def test_bad_tile_settings_are_refused(tile, overlap):
    with pytest.raises(ValueError, match="overlap|tile size"):
        TiledDetector(BlobDetector(), tile_size=tile, overlap=overlap)


@pytest.mark.parametrize(
    "overlap, rectangle",
    [
        (0, (250, 100, 400, 180)),
        (0, (280, 180, 360, 320)),
        (64, (200, 60, 460, 140)),
        (64, (300, 200, 340, 300)),
    ],
    ids=[
        "split by a vertical edge, no overlap",
        "split into four at a tile corner, no overlap",
        "longer than the overlap, across both tiles",
        "inside the overlap, cut in one tile only",
    ],
)
def test_an_object_split_across_tiles_becomes_one_box(overlap, rectangle):
    blobs = BlobDetector()
    tiled = TiledDetector(blobs, tile_size=(320, 240), overlap=overlap, full_frame=False)
    image = canvas((*rectangle, "person"))
    assert len(tiled.tiles(image)) >= 4
    dets = tiled.detect([image])[0]
    assert sorted_boxes(dets) == [list(map(float, rectangle))]
    assert dets.label.tolist() == ["person"]


def test_neighbours_on_both_sides_of_an_edge_stay_apart():
    tiled = TiledDetector(BlobDetector(), tile_size=(320, 480), overlap=0, full_frame=False)
    image = canvas((250, 100, 320, 200, "person"), (326, 100, 400, 200, "person"))
    assert sorted_boxes(tiled.detect([image])[0]) == [[250, 100, 320, 200], [326, 100, 400, 200]]


def test_objects_of_different_labels_are_not_merged():
    tiled = TiledDetector(BlobDetector(), tile_size=(320, 480), overlap=0, full_frame=False)
    image = canvas((250, 100, 320, 200, "person"), (320, 100, 400, 200, "car"))
    dets = tiled.detect([image])[0]
    assert sorted(zip(dets.label.tolist(), sorted_boxes(dets), strict=True)) == [
        ("car", [320, 100, 400, 200]),
        ("person", [250, 100, 320, 200]),
    ]


def test_the_whole_frame_view_adds_nothing_twice():
    tiled = TiledDetector(BlobDetector(), tile_size=(320, 240), overlap=32, full_frame=True)
    image = canvas((100, 50, 500, 400, "car"), (20, 420, 60, 470, "person"))
    dets = tiled.detect([image])[0]
    assert sorted(dets.label.tolist()) == ["car", "person"]
    assert sorted_boxes(dets.with_label("car")) == [[100, 50, 500, 400]]


def test_all_tiles_of_all_frames_go_to_the_model_as_one_batch():
    blobs = BlobDetector()
    tiled = TiledDetector(blobs, tile_size=(320, 240), overlap=32, full_frame=True)
    images = [canvas((10, 10, 50, 50, "person")), canvas(size=(1280, 720))]
    results = tiled.detect(images)
    per_frame = [len(tiled.tiles(image)) + 1 for image in images]
    assert blobs.batches == [sum(per_frame)]
    assert [len(r) for r in results] == [1, 0]
    assert tiled.detect([]) == []


def test_it_is_a_detector_with_the_wrapped_labels():
    tiled = TiledDetector(BlobDetector())
    assert isinstance(tiled, Detector)
    assert tiled.labels == {"person", "car"}
    assert tiled.name == "blobs+tiled"


def test_a_tile_knows_its_size():
    assert (Tile(10, 20, 110, 70).width, Tile(10, 20, 110, 70).height) == (100, 50)


@pytest.fixture(scope="module")
def street_frames(street_1080p):
    from streams.file_source import FileSource

    return [frame.image for frame in FileSource("street", street_1080p, 1.0, ANCHOR)]


@pytest.fixture(scope="module")
def tiled_yolox(yolox_detector):
    return TiledDetector(yolox_detector, tile_size=640, overlap=128)


def people(dets: Detections, min_score: float = 0.4) -> Detections:
    found = dets.with_label("person")
    return found[found.score >= min_score]


def test_tiles_find_at_least_as_many_people_on_the_1080p_street(
    yolox_detector, tiled_yolox, street_frames
):
    assert street_frames[0].shape == (1080, 1920, 3)
    for image in street_frames[:3]:
        whole = people(yolox_detector.detect([image])[0])
        tiled = people(tiled_yolox.detect([image])[0])
        assert len(whole) >= 5, "the street is busy: YOLOX alone sees several people"
        assert len(tiled) >= len(whole)
        assert (tiled.xyxy >= 0).all()
        assert (tiled.xyxy[:, [0, 2]] <= 1920).all() and (tiled.xyxy[:, [1, 3]] <= 1080).all()
        # what the whole frame shows is found again, not lost in the merge
        assert (box_iou(whole.xyxy, tiled.xyxy).max(axis=1) >= 0.3).mean() >= 0.8
        # no duplicates survive the merge
        overlaps = box_iou(tiled.xyxy, tiled.xyxy) - np.eye(len(tiled))
        assert overlaps.max() < 0.5


def test_a_batch_of_frames_gives_the_same_boxes_as_one_by_one(tiled_yolox, street_frames):
    images = street_frames[:2]
    batched = tiled_yolox.detect(images)
    for image, dets in zip(images, batched, strict=True):
        single = tiled_yolox.detect([image])[0]
        np.testing.assert_allclose(dets.xyxy, single.xyxy, atol=1e-3)
        assert dets.label.tolist() == single.label.tolist()
        np.testing.assert_allclose(dets.score, single.score, atol=1e-5)
