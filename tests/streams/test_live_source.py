"""Live decoding against a real RTSP server on 127.0.0.1 (GStreamer), with real faults:
the server killed, frozen (SIGSTOP), down at start, a wrong path, a frozen picture."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.clip_ring import export_clip
from streams.live_source import HealthState, LiveSettings, LiveSource, rtsp_command

FAST = LiveSettings(
    analysis_fps=2.0,
    open_timeout_s=5,
    io_timeout_s=2,
    stall_timeout_s=3,
    backoff_initial_s=0.3,
    backoff_max_s=2,
    frozen_after_s=2,
)


def settings(**changes) -> LiveSettings:
    from dataclasses import replace

    return replace(FAST, **changes)


def wait_for(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def collect(source: LiveSource, seconds: float) -> list:
    frames, last = [], -1
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = source.latest(last, timeout=0.2)
        if frame is not None:
            frames.append(frame)
            last = frame.index
    return frames


@pytest.fixture
def live():
    started: list[LiveSource] = []

    def make(url: str, config: LiveSettings = FAST, camera: str = "cam") -> LiveSource:
        source = LiveSource(camera, url, config).start()
        started.append(source)
        return source

    yield make
    for source in started:
        source.stop()


@pytest.mark.parametrize(
    "config, present, absent",
    [
        (
            settings(analysis_fps=2.0, gop_s=2.0),
            ["-rtsp_transport tcp", "-timeout 2000000", "fps=2"],
            ["skip_frame"],
        ),
        (settings(analysis_fps=0.5, gop_s=1.0), ["-skip_frame nokey"], ["fps="]),
        (settings(sampling="keyframes"), ["-skip_frame nokey"], ["fps="]),
        (settings(sampling="fps", analysis_fps=0.2), ["fps=0.2"], ["skip_frame"]),
        (settings(max_width=960), ["scale='min(960,iw)':-2"], []),
        (settings(hwaccel="cuda"), ["-hwaccel cuda"], []),
        (settings(), ["-threads 1 "], []),
        (settings(decoder_threads=0), ["-threads 0 "], []),
        (settings(segment_dir=Path("/ring")), ["-f segment", "-c copy", "/ring/seg%03d.ts"], []),
    ],
    ids=[
        "fps filter when the interval is shorter than the GOP",
        "keyframes only when the interval is longer than the GOP",
        "keyframes forced",
        "fps forced",
        "downscale in the decoder",
        "GPU decode",
        "one decoding thread by default",
        "ffmpeg's auto threads when asked",
        "encoded segments copied to the ring",
    ],
)  # fmt: skip
def test_decoder_command(config, present, absent):
    command = " ".join(rtsp_command("rtsp://127.0.0.1:8554/cam", config))
    for part in present:
        assert part in command
    for part in absent:
        assert part not in command


def test_a_file_camera_loops_at_real_time():
    command = rtsp_command("/videos/clip.mp4", FAST)
    assert command[command.index("-stream_loop") + 1] == "-1" and "-re" in command


def test_frames_arrive_at_the_analysis_rate_with_increasing_timestamps(rtsp_server, live):
    source = live(rtsp_server.url("vtest"), settings(analysis_fps=2.0))
    assert wait_for(lambda: source.health().state is HealthState.ONLINE, 15)
    frames = collect(source, 5.0)
    assert 6 <= len(frames) <= 14  # about 2 per second
    assert frames[0].image.shape == (576, 768, 3)
    assert all(b.pts > a.pts for a, b in zip(frames, frames[1:], strict=False))
    assert abs(frames[-1].wall - datetime.now(UTC)) < timedelta(seconds=2)
    health = source.health()
    assert (health.width, health.height, health.restarts) == (768, 576, 0)
    assert health.last_frame_age_s is not None and health.last_frame_age_s < 2


def test_keyframe_only_decoding_gives_one_frame_per_gop(rtsp_server, live):
    source = live(rtsp_server.url("street"), settings(analysis_fps=0.5, gop_s=1.0))
    assert wait_for(lambda: source.health().frames_in > 0, 15)
    time.sleep(2.0)  # past the start-up burst
    first = source.health().frames_in
    time.sleep(5.0)
    decoded = source.health().frames_in - first
    assert 3 <= decoded <= 8  # GOP of 25 frames at 25 fps: about one keyframe a second, not 125


def test_downscaling_in_the_decoder_reports_the_scale_to_source_pixels(rtsp_server, live):
    source = live(rtsp_server.url("street"), settings(max_width=960))
    frame = source.latest(timeout=15)
    assert frame is not None
    assert frame.image.shape == (540, 960, 3) and frame.scale == pytest.approx(2.0)


def test_a_slow_consumer_gets_the_newest_frame_and_drops_are_counted(rtsp_server, live):
    source = live(rtsp_server.url("vtest"), settings(analysis_fps=5.0))
    assert source.latest(timeout=15) is not None
    time.sleep(2.0)  # nobody reads: frames are replaced, not queued
    newest = source.latest(timeout=1)
    assert newest is not None and newest.index >= 5
    assert source.health().frames_dropped >= 5


def test_a_killed_server_is_reconnected_when_it_comes_back(own_rtsp_server, live):
    own_rtsp_server.start()
    source = live(own_rtsp_server.url("vtest"))
    assert wait_for(lambda: source.health().frames_in > 2, 15)
    own_rtsp_server.kill()
    assert wait_for(lambda: source.health().state is HealthState.OFFLINE, 10)
    assert "decoder exited" in (source.health().last_error or "")
    own_rtsp_server.start()
    before = source.health().frames_in
    assert wait_for(lambda: source.health().frames_in > before + 2, 20)
    assert source.health().state is HealthState.ONLINE
    assert source.health().restarts >= 1


def test_a_frozen_server_is_noticed_and_the_decoder_restarted(own_rtsp_server, live):
    own_rtsp_server.start()
    source = live(own_rtsp_server.url("vtest"))
    assert wait_for(lambda: source.health().frames_in > 2, 15)
    own_rtsp_server.freeze()
    try:
        frozen_at = time.monotonic()
        assert wait_for(lambda: source.health().state is HealthState.OFFLINE, 15)
        noticed_after = time.monotonic() - frozen_at
        assert noticed_after < 12  # stall timeout 3 s (+ socket timeout), never ffmpeg's default
        assert source.health().restarts >= 1
    finally:
        own_rtsp_server.thaw()
    before = source.health().frames_in
    assert wait_for(lambda: source.health().frames_in > before + 2, 25)


def test_a_camera_down_at_start_is_retried_until_it_comes_up(own_rtsp_server, live):
    source = live(own_rtsp_server.url("vtest"))
    assert wait_for(lambda: source.health().restarts >= 2, 15)
    assert source.health().state is HealthState.OFFLINE
    assert "refused" in (source.health().last_error or "").lower()
    own_rtsp_server.start()
    assert wait_for(lambda: source.health().state is HealthState.ONLINE, 20)


def test_a_camera_password_never_reaches_health_or_logs(own_rtsp_server, live, caplog):
    """The server is down: ffmpeg's error repeats the URL; health and logs show it masked."""
    caplog.set_level("DEBUG", logger="streams.live_source")
    url = own_rtsp_server.url("vtest").replace("rtsp://", "rtsp://admin:S3cretPass@")
    source = live(url)
    assert wait_for(lambda: source.health().restarts >= 1, 15)
    assert source.url == url  # the real URL is what connects
    assert "S3cretPass" not in (source.health().last_error or "")
    assert "S3cretPass" not in caplog.text
    assert "admin:***@" in caplog.text  # the debug line with the ffmpeg command


def test_a_wrong_path_is_a_clear_error_in_health_not_a_crash(rtsp_server, live):
    source = live(rtsp_server.url("no-such-camera"))
    assert wait_for(lambda: source.health().restarts >= 1, 15)
    health = source.health()
    assert health.state is HealthState.OFFLINE and "404" in (health.last_error or "")
    started = time.monotonic()
    source.stop()
    assert time.monotonic() - started < 5


def test_a_still_picture_is_reported_frozen(rtsp_server, live):
    source = live(rtsp_server.url("still"), settings(frozen_after_s=2.0))
    assert wait_for(lambda: source.health().state is HealthState.FROZEN, 15)


def test_a_corrupt_file_camera_reports_the_error(tmp_path, live):
    bogus = tmp_path / "camera.mp4"
    bogus.write_bytes(os.urandom(4096))
    source = live(str(bogus))
    assert wait_for(lambda: source.health().restarts >= 1, 15)
    assert source.health().state is HealthState.OFFLINE
    assert source.health().last_error


def test_stop_terminates_the_decoder(rtsp_server, live):
    source = live(rtsp_server.url("vtest"))
    assert source.latest(timeout=15) is not None
    pid = source.decoder_pid
    assert pid is not None
    source.stop()
    assert source.decoder_pid is None
    assert (
        not Path(f"/proc/{pid}").exists()
        or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    )
    assert source.health().state is HealthState.STOPPED


def test_an_evidence_clip_is_cut_from_the_segment_ring(rtsp_server, live, tmp_path):
    ring = tmp_path / "ring"
    source = live(
        rtsp_server.url("vtest"), settings(segment_dir=ring, segment_s=1.0, segment_count=8)
    )
    assert source.latest(timeout=15) is not None
    time.sleep(6)
    now = datetime.now(UTC)
    clip = export_clip(
        ring, now - timedelta(seconds=4), now - timedelta(seconds=1), tmp_path / "e.mp4", 1.0
    )
    assert clip is not None
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(clip)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert 2.0 <= float(probe.stdout) <= 9.0
    assert len(list(ring.glob("seg*.ts"))) <= 8  # the ring wraps: bounded disk
