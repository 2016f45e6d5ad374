"""Start and fault-inject the GStreamer RTSP test server (streams/testing/rtsp_server.py)
from tests and benchmarks. Needs Debian's python3-gi and gst-rtsp-server (scripts/test.sh
installs them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from streams.ffmpeg_tools import ffmpeg_binary

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = os.environ.get("STREETWATCH_GI_PYTHON", "/usr/bin/python3")


def gst_rtsp_available() -> str | None:
    """None when the server can run here, else why not."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); "
            "from gi.repository import GstRtspServer",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return (
            "GStreamer RTSP server bindings missing "
            "(apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi)"
        )
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def encode_clip(
    source: Path, target: Path, *, gop: int, max_frames: int | None = None, loop_still: int = 0
) -> Path:
    """Re-encode a real clip (or one still frame, repeated) to the H.264 stream the server
    plays: Annex B, no B-frames, access-unit delimiters, a keyframe every ``gop`` frames."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y"]
    if loop_still:
        command += ["-loop", "1", "-i", str(source), "-frames:v", str(loop_still), "-r", "10"]
    else:
        command += ["-i", str(source)]
        if max_frames:
            command += ["-frames:v", str(max_frames)]
    command += [
        "-an", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0",
        "-x264-params", "aud=1", "-f", "h264", str(target) + ".part",
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=600)
    Path(str(target) + ".part").replace(target)
    return target


class RtspTestServer:
    """``mounts`` maps a mount name to (h264 file, fps). ``url(name)`` gives its address."""

    def __init__(self, mounts: dict[str, tuple[Path, float]], port: int | None = None) -> None:
        self.mounts = mounts
        self.port = port or free_port()
        self.process: subprocess.Popen[str] | None = None

    def url(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{name}"

    def start(self, timeout: float = 20.0) -> RtspTestServer:
        command = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port)]
        for name, (path, fps) in self.mounts.items():
            command += ["--mount", f"{name}={path}@{fps:g}"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("ready"):
                return self
            if not line and self.process.poll() is not None:
                break
        self.kill()
        raise RuntimeError(f"RTSP test server did not start on port {self.port}")

    def kill(self) -> None:
        """The camera dies: the server process is killed outright."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """The camera freezes: the server stays connected but sends nothing (SIGSTOP)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RtspTestServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.kill()
