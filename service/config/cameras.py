"""Cameras and their zones: where each rule applies, and when."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from service.config.base import ID_PATTERN, FiniteFloat, KeyedValueError, StrictModel
from service.config.rules import RULE_NAMES, ZoneRules


class HourRange(StrictModel):
    start: time
    end: time


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_hour_range(text: Any) -> HourRange:
    if isinstance(text, HourRange):
        return text
    match = _HOURS.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not an hour range like '08:00-20:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an hour or minute out of range")
    start = time(h1 % 24, m1)
    end = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else time(h2, m2)
    if start == end:
        raise ValueError(f"{text!r} is empty (start equals end)")
    return HourRange(start=start, end=end)


class ZoneConfig(StrictModel):
    name: str = Field(pattern=ID_PATTERN, description="Zone name, unique within its camera")
    polygon: list[tuple[FiniteFloat, FiniteFloat]] = Field(
        description="Polygon vertices [[x, y], ...] in source image pixels (>= 3 points)"
    )
    rules: ZoneRules = Field(description="Rules enforced in this zone, with optional overrides")
    active_hours: list[HourRange] = Field(
        default_factory=list,
        description="Local hour ranges like '08:00-20:00' when the rules apply; empty = always",
    )

    @field_validator("active_hours", mode="before")
    @classmethod
    def _parse_hours(cls, value: Any) -> Any:
        if isinstance(value, list):
            parsed = []
            for index, item in enumerate(value):
                try:
                    parsed.append(_parse_hour_range(item))
                except ValueError as exc:
                    raise KeyedValueError(str(exc), index) from None
            return parsed
        return value

    @field_validator("polygon")
    @classmethod
    def _check_polygon(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(points) < 3:
            raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
        if any(x < 0 or y < 0 for x, y in points):
            raise ValueError("polygon coordinates are pixels and cannot be negative")
        if any(abs(v) > 100_000 for point in points for v in point):
            raise ValueError("polygon coordinates above 100000 px are not image pixels")
        area = 0.0
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
            area += x1 * y2 - x2 * y1
        if abs(area) < 1.0:
            raise ValueError("polygon has zero area (points are repeated or collinear)")
        return points

    @model_validator(mode="after")
    def _needs_a_rule(self) -> ZoneConfig:
        if not self.rules.model_fields_set:
            raise KeyedValueError(
                f"zone '{self.name}' enforces no rule; name one of {list(RULE_NAMES)}", "rules"
            )
        return self

    def rule_names(self) -> list[str]:
        return [name for name in RULE_NAMES if getattr(self.rules, name) is not None]


class CameraConfig(StrictModel):
    id: str = Field(pattern=ID_PATTERN, description="Camera id, unique in the deployment")
    url: str = Field(min_length=1, description="rtsp://host/path or a video file path")
    kind: Literal["eagle_eye", "ground"] = Field("ground", description="High-altitude or ground")
    analysis_fps: FiniteFloat = Field(2.0, gt=0, le=60, description="Frames analysed per second")
    homography: list[list[FiniteFloat]] | None = Field(
        None, description="3x3 image-to-ground homography (row-major), optional"
    )
    zones: list[ZoneConfig] = Field(min_length=1, description="Zones with the rules they enforce")
    sampling: Literal["auto", "keyframes", "fps"] = Field(
        "auto",
        description="Live decoding: keyframes only, an fps filter, or auto (keyframes when the "
        "analysis interval is at least gop_s)",
    )
    gop_s: FiniteFloat = Field(2.0, gt=0, le=60, description="The camera's keyframe interval")
    max_width: int | None = Field(
        None, ge=64, le=8192, description="Downscale in the decoder to at most this width"
    )
    tiling: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Tiled person detection (tiles 0.4 of the frame width, plus the whole frame) "
        "for counting dense or distant crowds: on, off, or auto (on for eagle-eye cameras, off "
        "for ground ones). On crowd-mall it cuts the count error from 52% to 15% at about 12x "
        "the person detector's CPU per frame (benchmarks/crowd_count.py)",
    )

    @property
    def tiled_people(self) -> bool:
        """Whether this camera's person detections come from tiles."""
        return self.tiling == "on" or (self.tiling == "auto" and self.kind == "eagle_eye")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        if "://" in url:
            scheme, _, rest = url.partition("://")
            if scheme.lower() not in {"rtsp", "rtsps", "file"}:
                raise ValueError(f"unsupported url scheme '{scheme}' (use rtsp://, or a file path)")
            if scheme.lower() != "file" and not rest.split("/")[0].rsplit("@", 1)[-1]:
                raise ValueError(f"rtsp url '{url}' has no host")
        return url

    @field_validator("homography")
    @classmethod
    def _check_homography(cls, matrix: list[list[float]] | None) -> list[list[float]] | None:
        if matrix is None:
            return None
        if len(matrix) != 3 or any(len(row) != 3 for row in matrix):
            raise ValueError("homography must be a 3x3 matrix [[a,b,c],[d,e,f],[g,h,i]]")
        a, b, c = matrix
        det = (
            a[0] * (b[1] * c[2] - b[2] * c[1])
            - a[1] * (b[0] * c[2] - b[2] * c[0])
            + a[2] * (b[0] * c[1] - b[1] * c[0])
        )
        if abs(det) < 1e-12:
            raise ValueError("homography is singular (determinant 0)")
        return matrix

    @model_validator(mode="after")
    def _unique_zones(self) -> CameraConfig:
        seen: set[str] = set()
        for index, zone in enumerate(self.zones):
            if zone.name in seen:
                raise KeyedValueError(
                    f"zone name '{zone.name}' is used twice in camera '{self.id}'",
                    "zones",
                    index,
                    "name",
                )
            seen.add(zone.name)
        return self

    def is_rtsp(self) -> bool:
        return self.url.lower().startswith(("rtsp://", "rtsps://"))
