"""The streetwatch configuration: pydantic models (unknown keys forbidden), one concern per
module, and a loader whose errors name the file, the key path and what is wrong, on one line.
Rule settings come from the rule registry (``vision.rules.registry``)."""

from service.config.base import ID_PATTERN, ConfigError, KeyedValueError, StrictModel
from service.config.cameras import CameraConfig, HourRange, ZoneConfig
from service.config.config import Config
from service.config.dispatch import DispatchConfig, WebhookConfig
from service.config.feedback import FeedbackConfig
from service.config.live import LiveConfig
from service.config.loader import load_config
from service.config.models import ModelsConfig
from service.config.queue import EventSettings, QueueConfig
from service.config.rules import RULE_NAMES, RULE_SETTINGS, RuleDefaults, ZoneRules
from service.config.server import AuthConfig, ServerConfig, TokenConfig

__all__ = [
    "ID_PATTERN",
    "RULE_NAMES",
    "RULE_SETTINGS",
    "AuthConfig",
    "CameraConfig",
    "Config",
    "ConfigError",
    "DispatchConfig",
    "EventSettings",
    "FeedbackConfig",
    "HourRange",
    "KeyedValueError",
    "LiveConfig",
    "ModelsConfig",
    "QueueConfig",
    "RuleDefaults",
    "ServerConfig",
    "StrictModel",
    "TokenConfig",
    "WebhookConfig",
    "ZoneConfig",
    "ZoneRules",
    "load_config",
]
