"""The waterlogging rule on real pixels: PETS 2009 campus frames (vtest.avi) at a 2 s cadence,
untouched (people walking across the zone) or with a synthetic puddle painted on the crossing
for part of the clip (see tests/vision/detectors/test_water.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time

import cv2
import numpy as np
import pytest

from tests.vision.detectors.test_water import paint_puddle
from vision.geometry import box_iou
from vision.rules.waterlogging import WaterloggingRule, WaterloggingSettings
from vision.types import Detections, Frame
from vision.zones import Zone

CROSSING = Zone.from_points("crossing", [[440, 290], [680, 290], [680, 380], [440, 380]])
"""A road zone on the crossing of vtest.avi (768x576); the puddle covers about a third of it."""
PUDDLE = ((560, 330), (80, 28))
PUDDLE_BOX = [[480, 302, 640, 358]]
NONE = Detections.empty()


@pytest.fixture(scope="module")
def clip(vtest_frames) -> list[tuple[Frame, Frame]]:
    """(dry, wet) frame pairs every 2 s (pts 0, 2, ..., 78): the slow cadence of a static role."""
    return [
        (frame, replace(frame, image=paint_puddle(frame.image, *PUDDLE, seed=frame.index)))
        for frame in vtest_frames[::4]
    ]


def run(rule: WaterloggingRule, clip, wet_during=()):
    """Feed the clip, wet while pts lies in one of the [start, end) intervals; return candidates."""
    fired = []
    for dry, wet in clip:
        is_wet = any(start <= dry.pts < end for start, end in wet_during)
        fired += rule.update(wet if is_wet else dry, NONE)
    return fired


def rule(zone: Zone = CROSSING, **thresholds) -> WaterloggingRule:
    return WaterloggingRule("demo-01", zone, WaterloggingSettings(**thresholds))


def test_the_dry_clip_never_fires_even_with_no_duration(clip):
    assert run(rule(min_duration_s=0.0), clip) == []


def test_a_lasting_puddle_fires_after_the_duration_with_its_box(clip):
    fired = run(rule(), clip, wet_during=[(10, 100)])  # the reference is learned from 0-8 s
    assert [c.pts for c in fired] == [70.0, 72.0, 74.0, 76.0, 78.0]
    assert {c.started_pts for c in fired} == {10.0}
    first = fired[0]
    assert (first.type, first.camera_id, first.zone) == ("waterlogging", "demo-01", "crossing")
    assert first.count is None and first.subject is None
    assert len(first.boxes) == 1 and box_iou(first.boxes, PUDDLE_BOX)[0, 0] >= 0.5
    assert 0.2 <= first.score <= 1.0


@pytest.mark.parametrize(
    "wet_during, fired_at",
    [
        ([(10, 60)], []),
        ([(20, 100)], []),
        ([(10, 30), (36, 100)], [70.0, 72.0, 74.0, 76.0, 78.0]),
        ([(10, 30), (42, 100)], []),
        ([(0, 100)], []),
    ],
    ids=[
        "a puddle lasting 50 s does not fire",
        "a puddle starting at 20 s has not lasted 60 s by the clip's end",
        "a dip of 6 s within max_gap keeps the clock",
        "a dip of 12 s restarts the clock",
        "a puddle there from the start is learned as dry road",
    ],
)
def test_the_puddle_must_last_the_duration(clip, wet_during, fired_at):
    assert [c.pts for c in run(rule(), clip, wet_during)] == fired_at


@pytest.fixture(scope="module")
def dry_reference(vtest_frames, tmp_path_factory) -> str:
    image = np.median(np.stack([f.image for f in vtest_frames[::8]]), axis=0).astype(np.uint8)
    path = tmp_path_factory.mktemp("reference") / "dry.png"
    cv2.imwrite(str(path), image)
    return str(path)


def test_a_configured_reference_analyses_from_the_first_frame(clip, dry_reference):
    r = rule(reference=dry_reference, min_duration_s=10.0)
    fired = run(r, clip[:8], wet_during=[(0, 100)])
    assert [c.pts for c in fired] == [10.0, 12.0, 14.0]
    assert {c.started_pts for c in fired} == {0.0}


def test_frames_downscaled_by_the_decoder_report_boxes_in_source_pixels(clip):
    def half(frame: Frame) -> Frame:
        small = cv2.resize(frame.image, (384, 288), interpolation=cv2.INTER_AREA)
        return replace(frame, image=small, scale=2.0)

    small_clip = [(half(dry), half(wet)) for dry, wet in clip[:12]]
    fired = run(rule(min_duration_s=10.0), small_clip, wet_during=[(10, 100)])
    assert [c.pts for c in fired] == [20.0, 22.0]
    assert box_iou(fired[0].boxes, PUDDLE_BOX)[0, 0] >= 0.5


def test_nothing_is_learned_or_reported_outside_active_hours(clip):
    night = Zone.from_points("crossing", CROSSING.polygon, ((time(20), time(6)),))
    r = rule(zone=night, min_duration_s=0.0)
    assert run(r, clip[:8], wet_during=[(0, 100)]) == []  # the clip shows 08:00 UTC


def test_a_missing_reference_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.png"
    with pytest.raises(ValueError, match=re.escape(f"reference {missing}: no such file")):
        rule(reference=str(missing))


def test_an_unreadable_reference_file_is_named(tmp_path):
    notes = tmp_path / "dry.png"
    notes.write_text("not an image")
    with pytest.raises(
        ValueError, match=re.escape(f"reference {notes}: cannot be read as an image")
    ):
        rule(reference=str(notes))


def test_a_reference_of_another_size_is_refused_on_the_first_frame(clip, tmp_path):
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((480, 640, 3), np.uint8))
    r = rule(reference=str(small))
    message = f"reference {small} is 640x480 but the frames are 768x576"
    with pytest.raises(ValueError, match=re.escape(message)):
        r.update(clip[0][0], NONE)
