"""The streetwatch configuration: pydantic models (unknown keys forbidden) and a loader whose
errors name the file, the key path and what is wrong, on one line.

Relative paths in a config file resolve against the directory of that file.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from service.routing import Route

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
RULE_NAMES = ("crowding", "street_vending", "garbage", "missing_helmet", "waterlogging")
"""Rules this build implements; a zone naming any other rule is a config error."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class KeyedValueError(ValueError):
    """A validation error about a key below the object being validated; ``loc`` (relative to
    that object) is appended to the key path the loader reports."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class CrowdingSettings(StrictModel):
    """People count inside a zone >= ``min_people`` for >= ``min_duration_s``."""

    min_people: int = Field(5, ge=1, description="People in the zone that make a crowd")
    min_duration_s: FiniteFloat = Field(
        30.0, ge=0, description="How long the crowd must persist before an event opens"
    )
    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Person detections below this confidence are not counted"
    )
    max_gap_s: FiniteFloat = Field(
        2.0,
        ge=0,
        description="The count may dip below the threshold this long (occlusion, a missed "
        "detection) without restarting the duration",
    )


class StreetVendingSettings(StrictModel):
    """Stall objects (umbrella, table, chair, cart; the eagle-eye vendor model's stalls) kept in
    one place by people for >= ``dwell_s`` in a no-vending zone, within its active hours."""

    dwell_s: FiniteFloat = Field(
        300.0, ge=0, description="How long a stall must stay before an event opens"
    )
    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Stall and person detections below this are ignored"
    )
    stall_labels: list[str] = Field(
        default_factory=lambda: ["umbrella", "table", "chair", "cart", "street_vendor"],
        min_length=1,
        description="Canonical labels that are stall objects",
    )
    standalone_labels: list[str] = Field(
        default_factory=lambda: ["street_vendor"],
        description="Stall labels that need no person beside them (the eagle-eye vendor "
        "model's boxes already hold the vendor)",
    )
    person_radius: FiniteFloat = Field(
        1.5,
        gt=0,
        description="A person attends a stall within this many stall sizes of its centre",
    )
    min_observations: int = Field(3, ge=1, description="Sightings before a stall can count")
    iou: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Box overlap that makes two sightings one stall"
    )
    hide_s: FiniteFloat = Field(
        60.0, ge=0, description="A stall hidden (by passers-by) this long is still there"
    )


class GarbageSettings(StrictModel):
    """A garbage pile or overflowing bin in a zone for >= ``dwell_s``; a pile that appears where
    the zone was seen clean is reported as ``illegal_dumping``."""

    dwell_s: FiniteFloat = Field(60.0, ge=0, description="How long a pile must stay")
    min_score: FiniteFloat = Field(
        0.4, ge=0, le=1, description="Garbage detections below this are ignored"
    )
    labels: list[str] = Field(
        default_factory=lambda: ["garbage", "bin_overflow"],
        min_length=1,
        description="Canonical labels that are violations",
    )
    min_observations: int = Field(3, ge=1, description="Sightings before a pile can count")
    iou: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Box overlap that makes two sightings one pile"
    )
    hide_s: FiniteFloat = Field(
        120.0, ge=0, description="A pile hidden (by people, vehicles) this long is still there"
    )
    min_overlap: FiniteFloat = Field(
        0.3, gt=0, le=1, description="Share of a pile's box that must lie in the zone"
    )
    clean_before_s: FiniteFloat = Field(
        30.0,
        ge=0,
        description="A pile where the zone was watched clean this long is illegal dumping",
    )


class MissingHelmetSettings(StrictModel):
    """In a construction zone, a person whose head is seen bare in most recent observations:
    one event per person."""

    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Helmeted-head detections below this are ignored"
    )
    bare_min_score: FiniteFloat = Field(
        0.25,
        ge=0,
        le=1,
        description="Bare-head (no_helmet) detections below this are ignored: the helmet "
        "model's best-F1 no_helmet threshold on the helmet-sfchd val split (0.25-0.26, fp32 "
        "and int8); a single low score cannot fire, the K-window majority must agree",
    )
    window: int = Field(5, ge=1, description="The last K observations of a head that count")
    bare_fraction: FiniteFloat = Field(
        0.6, gt=0, le=1, description="Share of those K where the head was bare"
    )
    min_observations: int = Field(3, ge=1, description="Sightings of a head before it can fire")
    match_iou: FiniteFloat = Field(
        0.2, gt=0, le=1, description="Box overlap that makes two sightings one head"
    )
    forget_s: FiniteFloat = Field(
        10.0, gt=0, description="A head unseen this long is a new person next time"
    )


class WaterloggingSettings(StrictModel):
    """Water covers >= ``min_coverage`` of the zone (a road) for >= ``min_duration_s``; found by
    comparison with a dry reference frame of the camera."""

    min_coverage: FiniteFloat = Field(0.15, gt=0, le=1, description="Share of the zone under water")
    min_duration_s: FiniteFloat = Field(
        60.0, ge=0, description="How long the water must stay before an event opens"
    )
    max_gap_s: FiniteFloat = Field(
        10.0, ge=0, description="Coverage may dip this long without restarting the duration"
    )
    reference: str | None = Field(
        None,
        description="Dry reference image of this camera (path, relative to the config file); "
        "unset: the median of the first frames, so the road must be dry at start",
    )
    reference_frames: int = Field(
        5, ge=1, le=100, description="Frames whose median is the learned reference"
    )


RULE_SETTINGS: dict[str, type[StrictModel]] = {
    "crowding": CrowdingSettings,
    "street_vending": StreetVendingSettings,
    "garbage": GarbageSettings,
    "missing_helmet": MissingHelmetSettings,
    "waterlogging": WaterloggingSettings,
}


def _overrides_of(settings: type[StrictModel]) -> type[StrictModel]:
    """The per-zone overrides of a rule's settings: the same keys, every one optional."""
    fields: dict[str, Any] = {}
    for field_name, info in settings.model_fields.items():
        checked = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field_name] = (checked | None, Field(None, description=info.description))
    name = settings.__name__.replace("Settings", "Overrides")
    return create_model(name, __base__=StrictModel, **fields)


CrowdingOverrides = _overrides_of(CrowdingSettings)
StreetVendingOverrides = _overrides_of(StreetVendingSettings)
GarbageOverrides = _overrides_of(GarbageSettings)
MissingHelmetOverrides = _overrides_of(MissingHelmetSettings)
WaterloggingOverrides = _overrides_of(WaterloggingSettings)


class RuleDefaults(StrictModel):
    """Global rule thresholds; zones override them key by key."""

    crowding: CrowdingSettings = Field(default_factory=CrowdingSettings)
    street_vending: StreetVendingSettings = Field(default_factory=StreetVendingSettings)
    garbage: GarbageSettings = Field(default_factory=GarbageSettings)
    missing_helmet: MissingHelmetSettings = Field(default_factory=MissingHelmetSettings)
    waterlogging: WaterloggingSettings = Field(default_factory=WaterloggingSettings)


class ZoneRules(StrictModel):
    """The rules that apply in a zone; ``{}`` as a value keeps the global thresholds."""

    crowding: CrowdingOverrides | None = None  # type: ignore[valid-type]
    street_vending: StreetVendingOverrides | None = None  # type: ignore[valid-type]
    garbage: GarbageOverrides | None = None  # type: ignore[valid-type]
    missing_helmet: MissingHelmetOverrides | None = None  # type: ignore[valid-type]
    waterlogging: WaterloggingOverrides | None = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _null_means_defaults(cls, value: Any) -> Any:
        # `crowding:` with nothing after it is YAML null; it names the rule just like `{}`
        if isinstance(value, dict):
            return {k: {} if k in RULE_NAMES and v is None else v for k, v in value.items()}
        return value


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


class ModelsConfig(StrictModel):
    person: list[str] = Field(
        default_factory=lambda: ["yolox-nano-coco", "fall-person-yolov8"],
        min_length=1,
        description="Person detector: registry names in order of preference (the first whose "
        "weights are available is used) or paths to weight files",
    )
    helmet: list[str] = Field(
        default_factory=lambda: ["helmet"],
        min_length=1,
        description="Head detector (helmet / no_helmet) for missing_helmet zones",
    )
    garbage: list[str] = Field(
        default_factory=lambda: ["garbage"],
        min_length=1,
        description="Garbage pile / bin / overflowing bin detector for garbage zones",
    )
    vendor: list[str] = Field(
        default_factory=lambda: ["vendor"],
        min_length=1,
        description="Stalls seen from above, for street_vending zones of eagle-eye cameras",
    )
    device: str = Field("cpu", description="cpu or cuda:N")
    runtime: Literal["auto", "torch", "openvino", "onnx"] = Field(
        "auto",
        description="What runs the detectors: torch, openvino (CPU only) or onnx (ONNX "
        "Runtime); Ultralytics .pt models through an export made once into the cache, YOLOX "
        "ONNX models on OpenVINO (reshaped to each frame's rectangle) or else on ONNX Runtime; "
        "auto = openvino on cpu (1.4-2.4x faster than torch on the 2-core test machine, same "
        "detections: benchmarks/detector_speed.py --runtime), torch on cuda",
    )
    precision: Literal["auto", "fp32", "int8"] = Field(
        "auto",
        description="Precision of the OpenVINO exports of Ultralytics detectors: int8 (NNCF "
        "post-training quantization calibrated on the registry entry's `calibration` "
        "dataset; about half the CPU of fp32 on the 2-core test machine), fp32, or auto = int8 "
        "where the runtime is openvino and the calibration images are on disk, else fp32",
    )
    conf: FiniteFloat = Field(0.25, gt=0, lt=1, description="Detector confidence threshold")
    static_every_s: FiniteFloat = Field(
        5.0,
        gt=0,
        le=600,
        description="Static things (garbage, stalls seen from above, water) are looked for at "
        "most this often per camera; between looks their rules keep their last answer",
    )
    skip_unchanged: FiniteFloat = Field(
        0.0,
        ge=0,
        le=255,
        description="Skip the person/helmet detectors on a frame whose mean absolute "
        "difference from the last analysed one (grey, 64 px wide) is below this; 0 = never "
        "skip. Never skips longer than static_every_s",
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, device: str) -> str:
        if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
            raise ValueError(f"unknown device '{device}' (use cpu, cuda or cuda:N)")
        return device

    @model_validator(mode="after")
    def _int8_needs_openvino(self) -> ModelsConfig:
        if self.precision == "int8" and self.resolved_runtime != "openvino":
            raise ValueError(
                f"precision int8 runs on the openvino runtime, not {self.resolved_runtime} "
                "(set runtime: openvino on a cpu device, or precision: auto)"
            )
        return self

    @property
    def resolved_runtime(self) -> str:
        """``runtime`` with auto decided: openvino on cpu, torch on cuda."""
        if self.runtime == "auto":
            return "openvino" if self.device == "cpu" else "torch"
        return self.runtime

    @field_validator("person", "helmet", "garbage", "vendor", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class QueueConfig(StrictModel):
    url: str | None = Field(
        None,
        description="Dispatch queue backend: sqlite:///path (embedded, the default "
        "sqlite:///<data_dir>/queue.db) or redis://host:port/db (many workers on many nodes)",
    )
    lease_ttl_s: FiniteFloat = Field(
        15.0,
        gt=0,
        le=600,
        description="With Redis: camera leases; a dead worker's cameras move within this time",
    )
    spool: bool = Field(
        True,
        description="Spool events under <data_dir>/spool while the queue is unreachable "
        "(Redis down, SQLite locked by another process or its disk full); drained when back",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError(
                f"unsupported queue url '{url}': use sqlite:///path/to/queue.db (embedded) "
                "or redis://host:port/db"
            )
        return url

    @property
    def networked(self) -> bool:
        return bool(self.url and self.url.startswith(("redis://", "rediss://")))


class EventSettings(StrictModel):
    close_after_s: FiniteFloat = Field(
        10.0, ge=0, description="An event closes when its violation is unseen this long"
    )
    cooldown_s: FiniteFloat = Field(
        30.0,
        ge=0,
        description="After closing, the same violation in the same zone reopens the same "
        "event within this time instead of opening a new one",
    )
    id_bucket_s: FiniteFloat = Field(
        60.0, gt=0, description="First-seen bucket width in the event id (idempotent posting)"
    )


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


class WebhookConfig(StrictModel):
    url: str = Field(pattern=r"^https?://", description="Where to POST notifications")
    secret_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the HMAC secret (secrets stay out of configs)",
    )
    events: list[Literal["case.created", "case.escalated", "case.reopened"]] = Field(
        default_factory=lambda: ["case.created", "case.escalated"], min_length=1
    )


class DispatchConfig(StrictModel):
    """Cases: merging events, routing, deadlines, verified closure, notifications."""

    cases_url: str | None = Field(
        None, description="SQLAlchemy URL of the case store; default sqlite:///<data_dir>/cases.db"
    )
    merge_distance_m: FiniteFloat = Field(
        15.0, gt=0, description="Events of one type this close on the ground share a case"
    )
    verify_window_s: FiniteFloat = Field(
        300.0, ge=0, description="After resolve, the camera must stay clean this long to close"
    )
    tick_s: FiniteFloat = Field(5.0, gt=0, le=3600, description="Deadline / verification clock")
    routing: dict[str, Route] = Field(
        default_factory=dict, description="Overrides of the default type -> department table"
    )
    webhooks: list[WebhookConfig] = Field(default_factory=list)


class ServerConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Bind address of the API and review UI")
    port: int = Field(8000, ge=1, le=65535)


class TokenConfig(StrictModel):
    """One API token: who holds it, what they may do, and where its value comes from."""

    name: str = Field(
        pattern=ID_PATTERN, description="Who holds the token; the actor of their transitions"
    )
    role: Literal["viewer", "reviewer", "admin"] = Field(
        description="viewer reads; reviewer and admin may also write (review, dispatch, ...)"
    )
    token_env: str = Field(
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the token (token values stay out of configs)",
    )


class AuthConfig(StrictModel):
    """API tokens (plus any in the STREETWATCH_TOKENS environment variable). With none the
    service runs in local mode: no login, bound to 127.0.0.1 only."""

    tokens: list[TokenConfig] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _unique_names(self) -> AuthConfig:
        seen: set[str] = set()
        for index, token in enumerate(self.tokens):
            if token.name in seen:
                raise KeyedValueError(
                    f"token name '{token.name}' is used twice", "tokens", index, "name"
                )
            seen.add(token.name)
        return self


class FeedbackConfig(StrictModel):
    """What a rejection teaches: suppressions and hard-negative samples."""

    suppression_hours: FiniteFloat = Field(
        24.0,
        gt=0,
        le=24 * 365,
        description="A rejected case suppresses matching candidates (camera, zone, type, "
        "region) this long",
    )
    suppression_min_overlap: FiniteFloat = Field(
        0.5,
        gt=0,
        le=1,
        description="A candidate matches a suppression when at least this share of its boxes' "
        "extent lies inside the rejected region",
    )
    dataset_dir: Path | None = Field(
        None, description="Hard negatives and exports; default <data_dir>/datasets"
    )


class Config(StrictModel):
    """A streetwatch deployment: cameras, zones, rules, models, queue, evidence."""

    data_dir: Path = Field(Path(".streetwatch"), description="Queue, evidence and caches")
    timezone: str = Field(
        "UTC", description="IANA time zone of zone active hours, e.g. Asia/Shanghai"
    )
    evidence_dir: Path | None = Field(None, description="Default <data_dir>/evidence")
    cameras: list[CameraConfig] = Field(min_length=1, max_length=4096)
    rules: RuleDefaults = Field(default_factory=RuleDefaults)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    events: EventSettings = Field(default_factory=EventSettings)
    server: ServerConfig = Field(default_factory=ServerConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    source_file: Path | None = Field(None, exclude=True, description="Set by the loader")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{name}' (use an IANA name like Asia/Shanghai)"
            ) from None
        return name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _unique_cameras(self) -> Config:
        seen: set[str] = set()
        for index, camera in enumerate(self.cameras):
            if camera.id in seen:
                raise KeyedValueError(
                    f"camera id '{camera.id}' is used twice", "cameras", index, "id"
                )
            seen.add(camera.id)
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        known = ", ".join(c.id for c in self.cameras)
        raise KeyError(f"no camera '{camera_id}' in the config (cameras: {known})")

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def dataset_path(self) -> Path:
        return self.feedback.dataset_dir or self.data_dir / "datasets"

    @property
    def cases_url(self) -> str:
        return self.dispatch.cases_url or f"sqlite:///{self.data_dir / 'cases.db'}"

    @property
    def queue_url(self) -> str:
        return self.queue.url or f"sqlite:///{self.data_dir / 'queue.db'}"

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(path)
        if path.is_absolute() or self.source_file is None:
            return path
        return (self.source_file.resolve().parent / path).resolve()

    def crowding_for(self, zone: ZoneConfig) -> CrowdingSettings:
        return self.rule_settings(zone, "crowding")  # type: ignore[return-value]

    def rule_settings(self, zone: ZoneConfig, rule: str) -> StrictModel:
        """The settings ``rule`` runs with in ``zone``: the global ones with the zone's
        overrides on top."""
        overrides = getattr(zone.rules, rule)
        merged = getattr(self.rules, rule).model_dump()
        if overrides is not None:
            merged.update(overrides.model_dump(exclude_none=True))
        return RULE_SETTINGS[rule](**merged)


class ConfigError(Exception):
    """A config problem, printed as one line: ``FILE: KEY.PATH: what is wrong``."""

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        # user text (keys, urls) can hold newlines; the error must stay on one line
        file, key, message = (_one_line(str(part)) for part in (file, key, message))
        self.file, self.key, self.message = file, key, message
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + message)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def load_config(path: str | Path) -> Config:
    """Read, validate and resolve a config file; raise ConfigError naming the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "no such config file") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read the config file ({exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, "", f"invalid YAML: {where}{problem}") from None
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else type(raw).__name__
        raise ConfigError(path, "", f"the top level must be a mapping of keys, got {got}")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    return _resolve_paths(config, path)


def _resolve_paths(config: Config, path: Path) -> Config:
    base = path.resolve().parent
    data_dir = (base / config.data_dir).resolve()
    evidence = (base / config.evidence_dir).resolve() if config.evidence_dir else None
    cameras = []
    for camera in config.cameras:
        url = camera.url
        if not camera.is_rtsp():
            local = Path(url.removeprefix("file://"))
            url = str(local if local.is_absolute() else (base / local).resolve())
        cameras.append(camera.model_copy(update={"url": url}))
    queue = config.queue
    if queue.url and queue.url.startswith("sqlite:///"):
        db = Path(queue.url.removeprefix("sqlite:///"))
        resolved = db if db.is_absolute() else (base / db).resolve()
        queue = queue.model_copy(update={"url": f"sqlite:///{resolved}"})
    return config.model_copy(
        update={
            "data_dir": data_dir,
            "evidence_dir": evidence,
            "cameras": cameras,
            "queue": queue,
            "feedback": _resolve_feedback(config.feedback, base),
            "source_file": path,
        }
    )


def _resolve_feedback(feedback: FeedbackConfig, base: Path) -> FeedbackConfig:
    if feedback.dataset_dir is None:
        return feedback
    return feedback.model_copy(update={"dataset_dir": (base / feedback.dataset_dir).resolve()})


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _first_error(path: Path, exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "missing":
        # a misspelt required key is both missing and unknown: the unknown one says more
        parent = first["loc"][:-1]
        extras = (e for e in errors if e["type"] == "extra_forbidden" and e["loc"][:-1] == parent)
        first = next(extras, first)
    loc = tuple(p for p in first["loc"] if not _is_type_tag(p))
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, KeyedValueError):
        loc += cause.loc
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        parent = _model_at(Config, loc[:-1])
        valid = sorted(parent.model_fields) if parent else []
        valid = [name for name in valid if name != "source_file"]
        what = "rule" if parent is ZoneRules or parent is RuleDefaults else "key"
        message = f"unknown {what} '{loc[-1]}' (valid: {', '.join(valid)})"
    elif first["type"] == "missing":
        message = "required key is missing"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ConfigError(path, _key_path(loc), message)


def _is_type_tag(part: Any) -> bool:
    """pydantic puts union member names like 'list[...]' or 'function-after[...]' in locations."""
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from ``model`` (None if not a model)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field else None
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] from a type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else annotation
            if len(members) != 1:
                return annotation
        else:
            return annotation
