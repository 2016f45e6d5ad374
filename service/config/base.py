"""What every config model shares: strict models (unknown keys forbidden), ids, finite floats,
and the one formatter that turns a pydantic error into ``FILE: KEY.PATH: what is wrong``."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from vision.rules.base import FiniteFloat

__all__ = ["FiniteFloat", "ID_PATTERN", "ConfigError", "KeyedValueError", "StrictModel"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class KeyedValueError(ValueError):
    """A validation error about a key below the object being validated; ``loc`` (relative to
    that object) is appended to the key path the loader reports."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


class FileProblem(Exception):
    """A problem in a user's file, printed as one line: ``FILE: KEY.PATH: what is wrong``."""

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        # user text (keys, urls) can hold newlines; the error must stay on one line
        file, key, message = (one_line(str(part)) for part in (file, key, message))
        self.file, self.key, self.message = file, key, message
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + message)


class ConfigError(FileProblem):
    """A config file problem."""


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_problem(exc: ValidationError, root: type[BaseModel]) -> tuple[str, str]:
    """The key path and a one-line message of the first problem in ``exc`` (raised validating
    ``root``): an unknown key lists the valid ones (``key_kind`` on a model names its keys, e.g.
    "rule"), a misspelt required key reports the unknown spelling, KeyedValueError adds its key."""
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
        parent = _model_at(root, loc[:-1])
        fields = parent.model_fields if parent else {}
        valid = sorted(name for name, info in fields.items() if not info.exclude)
        what = getattr(parent, "key_kind", "key")
        message = f"unknown {what} '{loc[-1]}' (valid: {', '.join(valid)})"
    elif first["type"] == "missing":
        message = "required key is missing"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return _key_path(loc), message


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
