"""``streetwatch bench queue`` on both backends: several producer processes, re-posts, one
consumer; nothing lost, nothing duplicated."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_bench_queue_loses_and_duplicates_nothing(backend, redis_url):
    url = redis_url if backend == "redis" else None
    command = [sys.executable, "-m", "service.cli", "bench", "queue", "--backend", backend,
               "--producers", "3", "--events", "300", "--json"]  # fmt: skip
    if url:
        command += ["--url", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    assert (result["lost"], result["duplicated"]) == (0, 0)
    assert result["distinct_events"] == result["stored"] == 900
    assert result["deliveries"] == 900 + 3 * 12  # every 25th event was updated once
    assert result["events_per_s"] > 0
