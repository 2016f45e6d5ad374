"""The ``rules`` section and a zone's ``rules``: built from the rule registry, so every rule's
settings model lives next to the rule (``vision/rules/<rule>.py``) and nowhere else."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, create_model, model_validator

from service.config.base import StrictModel
from vision.rules.base import RuleSettings
from vision.rules.registry import RULES

RULE_NAMES: tuple[str, ...] = tuple(RULES)
"""Rules this build implements; a zone naming any other rule is a config error."""
RULE_SETTINGS: dict[str, type[RuleSettings]] = {name: spec.settings for name, spec in RULES.items()}


def overrides_of(settings: type[RuleSettings]) -> type[StrictModel]:
    """The per-zone overrides of a rule's settings: the same keys, every one optional."""
    fields: dict[str, Any] = {}
    for field_name, info in settings.model_fields.items():
        checked = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field_name] = (checked | None, Field(None, description=info.description))
    name = settings.__name__.replace("Settings", "Overrides")
    return create_model(name, __base__=StrictModel, **fields)


class _RuleKeys(StrictModel):
    key_kind: ClassVar[str] = "rule"


class _ZoneRuleKeys(_RuleKeys):
    @model_validator(mode="before")
    @classmethod
    def _null_means_defaults(cls, value: Any) -> Any:
        # `crowding:` with nothing after it is YAML null; it names the rule just like `{}`
        if isinstance(value, dict):
            return {k: {} if k in RULE_NAMES and v is None else v for k, v in value.items()}
        return value


RuleDefaults = create_model(
    "RuleDefaults",
    __base__=_RuleKeys,
    __doc__="Global rule thresholds; zones override them key by key.",
    **{
        name: (settings, Field(default_factory=settings, description=settings.__doc__))
        for name, settings in RULE_SETTINGS.items()
    },
)
ZoneRules = create_model(
    "ZoneRules",
    __base__=_ZoneRuleKeys,
    __doc__="The rules that apply in a zone; ``{}`` as a value keeps the global thresholds.",
    **{
        name: (overrides_of(settings) | None, Field(None, description=settings.__doc__))
        for name, settings in RULE_SETTINGS.items()
    },
)
