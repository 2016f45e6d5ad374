"""The ``server`` and ``auth`` sections: where the API listens and who may use it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from service.config.base import ID_PATTERN, KeyedValueError, StrictModel


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
