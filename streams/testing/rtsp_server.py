"""A real RTSP server on 127.0.0.1 for tests and benchmarks: GStreamer's gst-rtsp-server
serving H.264 clips as endless live cameras.

Run it with Debian's Python, which has the ``gi`` bindings (a project venv usually does not):

    /usr/bin/python3 streams/testing/rtsp_server.py --port 8554 \\
        --mount cam1=/tmp/street.h264@25 --mount cam2=/tmp/vtest.h264@10

Each mount plays an Annex-B H.264 elementary stream made with access-unit delimiters
(``ffmpeg ... -c:v libx264 -bf 0 -x264-params aud=1 -f h264 clip.h264``, see
``streams.testing.rtsp.encode_clip``) in a loop, paced at its frame rate, so the camera never
ends. It prints ``ready <port>`` once it listens. Kill it to simulate a dead camera; SIGSTOP it
to simulate a frozen one. This file imports nothing from the project.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

AUD = b"\x00\x00\x00\x01\x09"


def access_units(path: str) -> list[bytes]:
    with open(path, "rb") as handle:
        data = handle.read()
    units = [AUD + part for part in data.split(AUD) if part]
    if data and not data.startswith(AUD):
        raise SystemExit(f"{path}: not an H.264 stream with access unit delimiters (aud=1)")
    if not units:
        raise SystemExit(f"{path}: no frames")
    return units


class LoopingClipFactory(GstRtspServer.RTSPMediaFactory):
    """Serves one clip as a live camera: access units pushed through appsrc, looped forever."""

    def __init__(self, path: str, fps: float) -> None:
        super().__init__()
        self.units = access_units(path)
        self.duration = int(Gst.SECOND / fps)
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src format=time is-live=false block=false "
            "caps=video/x-h264,stream-format=byte-stream,alignment=au "
            "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self._configure)

    def _configure(self, _factory, media) -> None:
        source = media.get_element().get_child_by_name("src")
        state = {"n": 0}

        def need_data(src, _length) -> None:
            n = state["n"]
            buffer = Gst.Buffer.new_wrapped(self.units[n % len(self.units)])
            buffer.pts = buffer.dts = n * self.duration
            buffer.duration = self.duration
            state["n"] = n + 1
            src.emit("push-buffer", buffer)

        source.connect("need-data", need_data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--mount", action="append", required=True, help="NAME=PATH.h264@FPS (repeatable)"
    )
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for spec in args.mount:
        name, _, rest = spec.partition("=")
        path, _, fps = rest.rpartition("@")
        mounts.add_factory(f"/{name}", LoopingClipFactory(path, float(fps)))
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on {args.host}:{args.port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
