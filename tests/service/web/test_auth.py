"""Tokens and roles from the config and the environment; local mode binds loopback only."""

import logging
import re

import pytest

from service.web.auth import (
    AuthConfigError,
    RedactTokens,
    Role,
    TokenRegistry,
    assert_bind_allowed,
    parse_env_tokens,
)
from tests.service.review_helpers import make_config

GOOD = "a-token-of-twenty-chars"


@pytest.fixture
def config(tmp_path):
    return make_config(
        tmp_path,
        {"auth": {"tokens": [{"name": "li.wei", "role": "reviewer", "token_env": "SW_LI"}]}},
    )


def test_config_tokens_come_from_the_named_variables(config):
    registry = TokenRegistry.from_config(config, {"SW_LI": GOOD})
    principal = registry.lookup(GOOD)
    assert (principal.name, principal.role, principal.can_write) == ("li.wei", Role.REVIEWER, True)
    assert registry.lookup("a-token-of-twenty-charX") is None
    assert registry.lookup(None) is None and not registry.local


def test_env_tokens_add_to_the_config_ones(config):
    env = {"SW_LI": GOOD, "STREETWATCH_TOKENS": f"wall:viewer:{'v' * 16}, boss:admin:{'b' * 20}"}
    registry = TokenRegistry.from_config(config, env)
    assert registry.names == ["li.wei", "wall", "boss"]
    assert registry.lookup("v" * 16).role is Role.VIEWER
    assert not registry.lookup("v" * 16).can_write


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "environment variable SW_LI (its token) is unset"),
        ({"SW_LI": "short"}, "the token is 5 characters; use at least 16"),
        ({"SW_LI": GOOD, "STREETWATCH_TOKENS": "x:viewer"}, "entry 1 is not name:role:token"),
        ({"SW_LI": GOOD, "STREETWATCH_TOKENS": f"x:boss:{GOOD}1"}, "unknown role 'boss'"),
        ({"SW_LI": GOOD, "STREETWATCH_TOKENS": f"li.wei:viewer:{GOOD}1"}, "defined twice"),
        ({"SW_LI": GOOD, "STREETWATCH_TOKENS": f"x:viewer:{GOOD}"}, "same as another one's"),
    ],
    ids=[
        "unset variable",
        "short token",
        "entry without a token",
        "unknown role",
        "a name twice",
        "a token twice",
    ],
)
def test_bad_tokens_are_config_errors_that_never_echo_the_token(config, env, message):
    with pytest.raises(AuthConfigError, match=re.escape(message)) as caught:
        TokenRegistry.from_config(config, env)
    assert GOOD not in str(caught.value)


def test_parse_env_tokens_skips_empty_entries():
    assert parse_env_tokens(f" ,a:admin:{GOOD},") == [("a", Role.ADMIN, GOOD)]


@pytest.mark.parametrize(
    "host, tokens, allowed",
    [
        ("127.0.0.1", False, True),
        ("localhost", False, True),
        ("::1", False, True),
        ("0.0.0.0", False, False),
        ("192.168.1.20", False, False),
        ("0.0.0.0", True, True),
    ],
    ids=[
        "local mode on 127.0.0.1",
        "local mode on localhost",
        "local mode on ::1",
        "local mode on all interfaces",
        "local mode on a LAN address",
        "tokens on all interfaces",
    ],
)
def test_local_mode_binds_loopback_only(tmp_path, host, tokens, allowed):
    config = make_config(tmp_path)
    env = {"STREETWATCH_TOKENS": f"a:admin:{GOOD}"} if tokens else {}
    if allowed:
        assert_bind_allowed(config, host, env)  # no error
    else:
        with pytest.raises(ValueError, match="no API token is configured"):
            assert_bind_allowed(config, host, env)


def test_bind_check_also_reports_unloadable_tokens(config):
    with pytest.raises(ValueError, match="SW_LI"):
        assert_bind_allowed(config, "127.0.0.1", {})


def test_access_log_lines_lose_their_secrets():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/events?token={GOOD}&x=1&p={GOOD}", "1.1", 401), None,
    )  # fmt: skip
    RedactTokens([GOOD]).filter(record)
    assert GOOD not in record.getMessage() and "token=***" in record.getMessage()


def test_the_config_sections_are_checked_like_the_rest(tmp_path):
    from service.config import ConfigError

    config = make_config(tmp_path, {"feedback": {"dataset_dir": "ds", "suppression_hours": 6}})
    assert config.dataset_path == (tmp_path / "ds").resolve()
    assert config.feedback.suppression_hours == 6
    bad_role = {"auth": {"tokens": [{"name": "a", "role": "boss", "token_env": "SW_A"}]}}
    with pytest.raises(ConfigError, match=re.escape("auth.tokens[0].role")):
        make_config(tmp_path, bad_role)
    inline = {"auth": {"tokens": [{"name": "a", "role": "admin", "token": GOOD}]}}
    with pytest.raises(ConfigError, match="unknown key 'token' .valid: name, role, token_env"):
        make_config(tmp_path, inline)
