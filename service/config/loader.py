"""``load_config``: read, validate and resolve a config file; one error line naming the problem.

Relative paths in a config file resolve against the directory of that file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from service.config.base import ConfigError, validation_problem
from service.config.config import Config
from service.config.feedback import FeedbackConfig


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
    _expand_environment(raw, path)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path, *validation_problem(exc, Config)) from None
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


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_KEYS = (("cameras", "*", "url"), ("queue", "url"), ("dispatch", "cases_url"))
"""Where ``${VAR}`` is expanded from the environment at load: the URLs that carry credentials
(camera passwords, the Redis or database password stay out of the file)."""


def _expand_environment(raw: dict, path: Path, environ: Mapping[str, str] | None = None) -> None:
    """Expand ``${VAR}`` in the URL keys of ``SECRET_KEYS`` in place; an unset variable is a
    ConfigError naming the key and the variable."""
    environ = os.environ if environ is None else environ

    def expand(text: str, key: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(path, key, f"environment variable {name} is not set")
            return environ[name]

        return _VARIABLE.sub(value, text)

    for section, *rest in SECRET_KEYS:
        if rest[0] == "*":
            items = raw.get(section)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get(rest[1]), str):
                    item[rest[1]] = expand(item[rest[1]], f"{section}[{index}].{rest[1]}")
        else:
            body = raw.get(section)
            if isinstance(body, dict) and isinstance(body.get(rest[0]), str):
                body[rest[0]] = expand(body[rest[0]], f"{section}.{rest[0]}")
