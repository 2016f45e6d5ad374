import subprocess

import numpy as np
import pytest

from streams import raw_frames
from streams.ffmpeg_tools import ffmpeg_binary
from streams.file_source import FileSource
from tests.conftest import ANCHOR


def ffmpeg_bgr(path, width, height, frames):
    """The first frames as ffmpeg's own BGR conversion writes them."""
    out = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-i", str(path), "-frames:v", str(frames)]
        + ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(frames, height, width, 3)


@pytest.mark.parametrize(
    "fixture, width, height",
    [("vtest", 768, 576), ("street_1080p", 1920, 1080)],
    ids=["PETS campus clip 576p", "shopping street 1080p"],
)
def test_i420_through_opencv_matches_ffmpegs_bgr(request, fixture, width, height):
    path = request.getfixturevalue(fixture)
    ours = [f.image for f in FileSource("cam", path, 1000.0, ANCHOR).frames()][:3]
    theirs = ffmpeg_bgr(path, width, height, 3)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.shape == (height, width, 3)
        difference = np.abs(mine.astype(np.int16) - reference.astype(np.int16))
        assert difference.mean() < 2.0  # rounding of two YUV->BGR conversions, no shift
        assert np.percentile(difference, 99) <= 6


def test_an_odd_sized_video_is_cropped_to_even(vtest, tmp_path):
    odd = tmp_path / "odd.mkv"
    subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-i", str(vtest), "-t", "2", "-vf", "crop=767:575:0:0"]
        + ["-c:v", "ffv1", "-pix_fmt", "yuv444p", str(odd)],
        check=True,
    )
    frames = list(FileSource("cam", odd, 2.0, ANCHOR))
    assert len(frames) == 4
    assert {f.image.shape for f in frames} == {(574, 766, 3)}


def test_a_short_read_is_the_end_of_the_stream(tmp_path):
    data = tmp_path / "half.raw"
    data.write_bytes(bytes(64 * 48 * 3 // 2 * 2 - 1))  # one whole frame, then most of one
    with data.open("rb") as pipe:
        reader = raw_frames.FrameReader(pipe, 64, 48)
        assert reader.next() is not None
        assert reader.next() is None


def test_luma_is_the_grey_plane_without_a_copy():
    i420 = np.arange(48 * 3 // 2 * 64, dtype=np.uint32).astype(np.uint8).reshape(72, 64)
    grey = raw_frames.luma(i420)
    assert grey.shape == (48, 64) and np.shares_memory(grey, i420)


@pytest.mark.parametrize(
    "hold",
    [lambda frame: frame, lambda frame: frame[10:20], lambda frame: [frame]],
    ids=["the frame", "a view of it", "a list holding it"],
)
def test_a_frame_still_held_anywhere_is_never_written_over(hold):
    pool = raw_frames.BufferPool((48, 64, 3), keep=2)
    first = pool.take()
    kept = hold(first)
    del first
    second = pool.take()
    assert not np.shares_memory(second, kept if not isinstance(kept, list) else kept[0])


def test_a_dropped_frame_is_reused_and_the_pool_stays_bounded():
    pool = raw_frames.BufferPool((48, 64, 3), keep=2)
    first = pool.take()
    address = first.ctypes.data
    del first
    assert pool.take().ctypes.data == address and pool.reused == 1
    held = [pool.take() for _ in range(5)]  # all held: new buffers, only 2 kept by the pool
    assert len({a.ctypes.data for a in held}) == 5
    assert len(pool._buffers) == 2


def test_the_reader_recycles_frames_nobody_holds(vtest):
    frames = FileSource("cam", vtest, 2.0, ANCHOR).frames()
    grey_means = [float(next(frames).image.mean()) for _ in range(8)]  # each dropped at once
    frames.close()
    assert len(set(grey_means)) > 1  # recycled buffers carry each new frame, not a stale one
