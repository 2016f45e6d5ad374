"""``vision/rules/registry.py``: every rule is declared once and everything that lists rules or
event types (config, build_rules, scheduling, routing, page labels, golden files, dataset
classes) derives from the registry, so a new rule cannot be half wired."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.cases.routing import DEFAULT_ROUTES
from service.config import Config, RuleDefaults, ZoneRules
from service.edge.pipeline import build_rules, camera_roles
from service.feedback.golden import GoldenEvent
from service.feedback.yolo_samples import BOX_CLASS
from service.web.i18n import LABELS
from vision.rules.base import ROLES, Rule
from vision.rules.registry import EVENT_KINDS, EVENT_TYPES, RULES

SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]


def config_with(rule: str, kind: str = "ground") -> Config:
    return Config.model_validate(
        {
            "cameras": [
                {
                    "id": "cam-1",
                    "url": "rtsp://127.0.0.1/x",
                    "kind": kind,
                    "zones": [{"name": "z", "polygon": SQUARE, "rules": {rule: {}}}],
                }
            ]
        }
    )


@pytest.mark.parametrize("name", list(RULES))
def test_every_rule_is_a_config_key_with_its_own_settings(name):
    spec = RULES[name]
    assert RuleDefaults.model_fields[name].annotation is spec.settings
    assert name in ZoneRules.model_fields
    assert config_with(name).rules.model_dump()[name] == spec.settings().model_dump()


@pytest.mark.parametrize("name", list(RULES))
def test_every_rule_settings_model_forbids_unknown_keys(name):
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        RULES[name].settings.model_validate({"no_such_threshold": 1})


@pytest.mark.parametrize("kind", ["ground", "eagle_eye"])
@pytest.mark.parametrize("name", list(RULES))
def test_build_rules_builds_every_rule_with_the_roles_it_declares(name, kind):
    config = config_with(name, kind)
    [rule] = build_rules(config, config.cameras[0])
    assert isinstance(rule, Rule)
    assert rule.type == RULES[name].events[0].name
    assert rule.needs == RULES[name].needs(kind)
    assert camera_roles(config.cameras) == RULES[name].needs(kind)
    assert rule.needs <= set(ROLES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_routed_labelled_and_accepted_in_golden_files(event_type):
    kind = EVENT_KINDS[event_type]
    assert DEFAULT_ROUTES[event_type].department == kind.department
    assert DEFAULT_ROUTES[event_type].deadline_min == kind.deadline_min
    zh, en = LABELS["type"][event_type]
    assert (zh, en) == (kind.zh, kind.en) and zh != en
    golden = GoldenEvent.model_validate(
        {"video": "v.mp4", "camera": "cam-1", "type": event_type, "t0": 0, "t1": 1}
    )
    assert golden.type == event_type
    assert BOX_CLASS.get(event_type) == kind.box_class


def test_a_zone_naming_an_unknown_rule_lists_the_registry():
    with pytest.raises(ValidationError, match="Extra inputs"):
        config_with("loitering")
