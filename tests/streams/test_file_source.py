import numpy as np
import pytest

from streams.ffmpeg_tools import VideoError, probe_video
from streams.file_source import FileSource, decoder_command
from tests.conftest import ANCHOR


@pytest.mark.parametrize(
    "fixture, width, height, fps, frames",
    [("vtest", 768, 576, 10.0, 795), ("street_1080p", 1920, 1080, 25.0, 96)],
    ids=["PETS campus clip 576p", "shopping street 1080p"],
)
def test_probe_describes_real_clips(request, fixture, width, height, fps, frames):
    info = probe_video(request.getfixturevalue(fixture))
    assert (info.width, info.height, info.fps, info.frame_count) == (width, height, fps, frames)


def test_sampling_at_two_fps_yields_video_timestamps(vtest_frames):
    assert len(vtest_frames) == 159  # 79.5 s at 2 fps
    assert [f.pts for f in vtest_frames[:4]] == [0.0, 0.5, 1.0, 1.5]
    assert vtest_frames[-1].pts == pytest.approx(79.0)
    assert [f.index for f in vtest_frames[:3]] == [0, 1, 2]
    assert vtest_frames[0].image.shape == (576, 768, 3)
    assert vtest_frames[4].wall == ANCHOR.replace(second=2)


def test_sampled_frames_differ_over_time(vtest_frames):
    a, b = vtest_frames[0].image.astype(np.int16), vtest_frames[40].image.astype(np.int16)
    assert np.abs(a - b).mean() > 1.0


@pytest.mark.parametrize(
    "fps, expected",
    [(1.0, 4), (5.0, 19), (100.0, 96)],
    ids=["1fps", "5fps", "capped at the source rate"],
)
def test_sampling_rate_on_the_1080p_clip(street_1080p, fps, expected):
    source = FileSource("street", street_1080p, fps, ANCHOR)
    frames = list(source)
    assert len(frames) == expected
    assert abs(len(frames) - source.expected_frames) <= 1  # the progress bar's estimate
    assert frames[0].image.shape == (1080, 1920, 3)


def test_the_decoder_samples_inside_ffmpeg(vtest):
    command = decoder_command(str(vtest), 2.0, probe_video(vtest))
    assert "fps=fps=2" in " ".join(command)
    assert command[command.index("-pix_fmt") + 1] == "yuv420p"


def test_a_half_read_source_leaves_no_decoder_running(vtest):
    source = FileSource("demo-01", vtest, 2.0, ANCHOR)
    frames = source.frames()
    next(frames)
    process = source._process
    frames.close()
    assert process is not None and process.poll() is not None


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.mp4", "no such video file"),
        (lambda d: (d / "empty.mp4").touch() or d / "empty.mp4", "empty"),
        (lambda d: write(d / "notes.mp4", "hello, not a video\n" * 50), "not a readable video"),
        (lambda d: d, "is a directory"),
    ],
    ids=["missing file", "zero-byte file", "text file named .mp4", "a directory"],
)  # fmt: skip
def test_bad_video_files_are_clear_errors(tmp_path, make, message):
    with pytest.raises(VideoError, match=message):
        FileSource("cam", make(tmp_path), 2.0, ANCHOR)


def test_a_truncated_video_yields_the_frames_it_has(tmp_path, street_1080p):
    data = street_1080p.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    try:
        frames = list(FileSource("street", cut, 5.0, ANCHOR))
    except VideoError as exc:  # the moov atom may sit at the end: then nothing is decodable
        assert "cut.mp4" in str(exc)
    else:
        assert len(frames) < 20
