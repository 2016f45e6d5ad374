"""The ``live`` section: decoding live cameras (timeouts, backoff, watchdog, clips)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from service.config.base import FiniteFloat, StrictModel


class LiveConfig(StrictModel):
    """How workers pull live cameras (``streetwatch run``)."""

    hwaccel: Literal["cuda"] | None = Field(None, description="GPU decode on GPU nodes")
    decoder_threads: int = Field(
        1,
        ge=0,
        le=64,
        description="ffmpeg decoding threads per camera; 0 = ffmpeg's auto (a thread per core). "
        "One costs a quarter less CPU per keyframe than auto on the 2-core test machine, and "
        "many cameras already fill the cores",
    )
    open_timeout_s: FiniteFloat = Field(10.0, gt=0, le=300, description="Connect + first frame")
    io_timeout_s: FiniteFloat = Field(5.0, gt=0, le=300, description="RTSP socket timeout")
    stall_timeout_s: FiniteFloat = Field(
        10.0, gt=0, le=3600, description="Restart the decoder when no frame arrives this long"
    )
    backoff_initial_s: FiniteFloat = Field(1.0, gt=0, le=600)
    backoff_max_s: FiniteFloat = Field(60.0, gt=0, le=3600)
    frozen_after_s: FiniteFloat = Field(
        30.0, gt=0, description="Identical frames this long mark the camera frozen"
    )
    offline_event_after_s: FiniteFloat = Field(
        120.0, ge=0, description="A camera offline this long becomes a camera_offline event"
    )
    clip_pre_s: FiniteFloat = Field(4.0, ge=0, le=120, description="Clip seconds before an event")
    clip_post_s: FiniteFloat = Field(4.0, ge=0, le=120, description="Clip seconds after it opens")
    segment_s: FiniteFloat = Field(2.0, gt=0, le=60, description="Ring buffer segment length")
    clips: bool = Field(True, description="Keep a ring of encoded segments and cut event clips")
    loop_files: bool = Field(True, description="File cameras replay in a loop at real time")
