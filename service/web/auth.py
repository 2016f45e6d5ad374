"""API tokens with roles (viewer < reviewer < admin), and local mode when there are none.

Tokens come from the config (``auth.tokens``: name, role and the *name* of the environment
variable holding the value) and from ``STREETWATCH_TOKENS`` (``name:role:token,...``). Requests
carry them in ``Authorization: Bearer ...`` or in the cookie the login form sets, never in the
URL, so access logs never see them. Every write (POST/PUT/PATCH/DELETE) needs reviewer or admin;
reads need any role. With no token configured the service runs in local mode: everyone is the
admin ``local``, and ``serve``/``run`` refuse to bind anything but the loopback interface.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config import ID_PATTERN, Config

logger = logging.getLogger(__name__)

ENV_VAR = "STREETWATCH_TOKENS"
COOKIE = "streetwatch_token"
LOCAL_ACTOR = "local"
MIN_TOKEN_LENGTH = 16
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PATHS = frozenset({"/health", "/login", "/logout"})
BEARER = HTTPBearer(auto_error=False, description="An API token (viewer, reviewer or admin)")


class Role(IntEnum):
    VIEWER = 1
    REVIEWER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role '{name}' (use viewer, reviewer or admin)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class AuthConfigError(ValueError):
    """Tokens that cannot be loaded: the message names the variable or entry and the fix."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name (the actor of their transitions) and role."""

    name: str
    role: Role
    local: bool = False

    @property
    def can_write(self) -> bool:
        return self.role >= Role.REVIEWER


LOCAL = Principal(LOCAL_ACTOR, Role.ADMIN, local=True)


def _check_token(value: str, where: str) -> str:
    value = value.strip()
    if len(value) < MIN_TOKEN_LENGTH:
        raise AuthConfigError(
            f"{where}: the token is {len(value)} characters; use at least {MIN_TOKEN_LENGTH} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    if any(c.isspace() or c in ",;" for c in value):
        raise AuthConfigError(f"{where}: the token must not hold spaces, commas or semicolons")
    return value


def parse_env_tokens(text: str) -> list[tuple[str, Role, str]]:
    """``name:role:token,...`` -> [(name, role, token)]; errors say which entry is wrong (by
    position and name, never echoing a token)."""
    entries = []
    for index, raw in enumerate(text.split(","), start=1):
        raw = raw.strip()
        if not raw:
            continue
        parts = raw.split(":", 2)
        if len(parts) != 3:
            raise AuthConfigError(
                f"{ENV_VAR}: entry {index} is not name:role:token (separate entries with commas)"
            )
        name, role, token = (p.strip() for p in parts)
        where = f"{ENV_VAR}: entry {index} ('{name}')"
        if not re.match(ID_PATTERN, name):
            raise AuthConfigError(f"{where}: the name must be letters, digits, '_', '.' or '-'")
        try:
            parsed_role = Role.parse(role)
        except ValueError as exc:
            raise AuthConfigError(f"{where}: {exc}") from None
        entries.append((name, parsed_role, _check_token(token, where)))
    return entries


class TokenRegistry:
    """Token value -> Principal; empty means local mode."""

    def __init__(self, entries: list[tuple[str, Role, str]]) -> None:
        self._entries: list[tuple[bytes, Principal]] = []
        names: set[str] = set()
        values: set[str] = set()
        for name, role, token in entries:
            if name in names:
                raise AuthConfigError(f"token name '{name}' is defined twice")
            if token in values:
                raise AuthConfigError(f"token of '{name}' is the same as another one's")
            names.add(name)
            values.add(token)
            self._entries.append((token.encode(), Principal(name, role)))

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> TokenRegistry:
        environ = os.environ if environ is None else environ
        entries = []
        for index, token in enumerate(config.auth.tokens):
            value = environ.get(token.token_env, "")
            where = f"auth.tokens[{index}] ('{token.name}')"
            if not value.strip():
                raise AuthConfigError(
                    f"{where}: environment variable {token.token_env} (its token) is unset; "
                    "export it or remove the entry"
                )
            entries.append((token.name, Role.parse(token.role), _check_token(value, where)))
        entries.extend(parse_env_tokens(environ.get(ENV_VAR, "")))
        return cls(entries)

    @property
    def local(self) -> bool:
        return not self._entries

    @property
    def names(self) -> list[str]:
        return [principal.name for _, principal in self._entries]

    def secrets(self) -> list[str]:
        return [value.decode() for value, _ in self._entries]

    def lookup(self, token: str | None) -> Principal | None:
        """The holder of ``token`` (compared in constant time against every token)."""
        if not token:
            return None
        given = token.encode()
        found = None
        for value, principal in self._entries:
            if hmac.compare_digest(value, given):
                found = principal
        return found


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def assert_bind_allowed(
    config: Config, host: str, environ: Mapping[str, str] | None = None
) -> None:
    """Raise ValueError unless serving on ``host`` is safe: with tokens anything goes; in local
    mode (no token) only the loopback interface. Also raises when configured tokens cannot be
    loaded (an unset variable, a short token)."""
    registry = TokenRegistry.from_config(config, environ)
    if registry.local and not is_loopback(host):
        raise ValueError(
            f"refusing to serve on {host}: no API token is configured (local mode, no login), "
            "so only 127.0.0.1 is allowed. Configure auth.tokens (name, role, token_env) or "
            f"set {ENV_VAR}=name:role:token, or bind --host 127.0.0.1"
        )


_SECRET_PARAMS = re.compile(
    r"(?i)([?&](?:token|access_token|api_key|apikey|auth|password|secret)=)[^&\s\"]*"
)


class RedactTokens(logging.Filter):
    """Scrubs secrets from access-log lines: the values of token-like query parameters (tokens
    are never accepted there, but a caller may still put one in a URL) and any known token."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__("redact-tokens")
        self.secrets = [s for s in secrets or [] if s]

    def scrub(self, value: str) -> str:
        value = _SECRET_PARAMS.sub(r"\1***", value)
        for secret in self.secrets:
            value = value.replace(secret, "***")
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self.scrub(record.msg)
        return True


def install_log_redaction(registry: TokenRegistry) -> None:
    """Put a RedactTokens filter on uvicorn's access logger (replacing an earlier one)."""
    access = logging.getLogger("uvicorn.access")
    for old in [f for f in access.filters if isinstance(f, RedactTokens)]:
        access.removeFilter(old)
    access.addFilter(RedactTokens(registry.secrets()))


def bearer_token(request: Request) -> str | None:
    """The token a request carries: the Authorization header, else the login cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


class LoginRequired(HTTPException):
    """401 for the API; the UI's handler turns it into a redirect to the login page."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


class Authenticator:
    """The app-wide dependency: who is calling, and may they do this?"""

    def __init__(self, registry: TokenRegistry) -> None:
        self.registry = registry

    @property
    def local(self) -> bool:
        return self.registry.local

    def identify(self, request: Request) -> Principal | None:
        if self.registry.local:
            return LOCAL
        return self.registry.lookup(bearer_token(request))

    def __call__(
        self,
        request: Request,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    ) -> Principal | None:
        """``_documented`` only puts the bearer scheme in OpenAPI; the token is read (header,
        then cookie) by :func:`bearer_token`."""
        path = request.url.path
        if path in PUBLIC_PATHS:
            request.state.principal = self.identify(request)
            return request.state.principal
        principal = self.identify(request)
        if principal is None:
            if bearer_token(request):
                logger.warning("rejected a request to %s: unknown token", path)
                raise LoginRequired("the token is not valid (log in again or check it)")
            raise LoginRequired(
                "authentication required: send 'Authorization: Bearer <token>' or log in"
            )
        if request.method in WRITE_METHODS and not principal.can_write:
            logger.warning(
                "%s (%s) may not %s %s", principal.name, principal.role.label, request.method, path
            )
            raise HTTPException(
                403,
                f"'{principal.name}' is a {principal.role.label}; changes need the reviewer or "
                "admin role",
            )
        request.state.principal = principal
        return principal


def principal_of(request: Request) -> Principal:
    """The caller the Authenticator identified (401 when nobody was, on a public route)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise LoginRequired("authentication required: send 'Authorization: Bearer <token>'")
    return principal


def actor_for(principal: Principal, requested: str | None) -> str:
    """The actor recorded on a transition: the token's name; in local mode the name the request
    gave, else ``local``."""
    if principal.local:
        return (requested or "").strip() or LOCAL_ACTOR
    return principal.name
