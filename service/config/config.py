"""A whole deployment: cameras, rules, models, queue, evidence, server, dispatch, feedback."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from service.config.base import KeyedValueError, StrictModel
from service.config.cameras import CameraConfig, ZoneConfig
from service.config.dispatch import DispatchConfig
from service.config.feedback import FeedbackConfig
from service.config.live import LiveConfig
from service.config.models import ModelsConfig
from service.config.queue import EventSettings, QueueConfig
from service.config.rules import RULE_SETTINGS, RuleDefaults
from service.config.server import AuthConfig, ServerConfig
from streams.secrets import redact_url
from vision.rules.base import RuleSettings


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

    def shown(self) -> dict:
        """The config as JSON for people: every URL's password replaced by ``***``."""
        data = self.model_dump(mode="json")
        for camera in data["cameras"]:
            camera["url"] = redact_url(camera["url"])
        for section, key in (("queue", "url"), ("dispatch", "cases_url")):
            if data[section][key]:
                data[section][key] = redact_url(data[section][key])
        return data

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(path)
        if path.is_absolute() or self.source_file is None:
            return path
        return (self.source_file.resolve().parent / path).resolve()

    def rule_settings(self, zone: ZoneConfig, rule: str) -> RuleSettings:
        """The settings ``rule`` runs with in ``zone``: the global ones with the zone's
        overrides on top."""
        overrides = getattr(zone.rules, rule)
        merged = getattr(self.rules, rule).model_dump()
        if overrides is not None:
            merged.update(overrides.model_dump(exclude_none=True))
        return RULE_SETTINGS[rule](**merged)
