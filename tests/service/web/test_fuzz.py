"""Property-based fuzzing of every endpoint from the OpenAPI schema (schemathesis): no input
makes the API answer 5xx. Bounded examples so CI stays fast."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    ignored_auth,
)

from service.cases.service import CaseService  # noqa: E402
from service.config import load_config  # noqa: E402
from service.queue import open_queue  # noqa: E402
from service.web.app import create_app  # noqa: E402
from tests.service.cases.test_store import event  # noqa: E402


def build_app():
    folder = Path(tempfile.mkdtemp(prefix="streetwatch-fuzz-"))
    zone = {"name": "z1", "polygon": [[0, 0], [500, 0], [500, 500]], "rules": {"crowding": {}}}
    path = folder / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {"data_dir": "data", "cameras": [{"id": "cam-1", "url": "x.mp4", "zones": [zone]}]}
        )
    )
    config = load_config(path)
    queue = open_queue(config.queue_url)
    for i in range(3):
        queue.post(event(f"e{i}", zone=f"z{i}"))
    service = CaseService(config, queue)
    service.drain()
    return create_app(config, service.store)


schema = schemathesis.openapi.from_asgi("/openapi.json", build_app())


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_no_input_makes_the_api_fail(case):
    case.call_and_validate(checks=[not_a_server_error], excluded_checks=[ignored_auth])
