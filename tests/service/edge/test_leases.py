"""Camera leases on a real redis-server: two workers split the cameras without overlap, and a
worker that stops renewing loses its cameras to the other within the TTL."""

from __future__ import annotations

import time

import pytest
import redis

from service.edge.leases import CameraLeases, LeaseError

CAMERAS = ["cam-1", "cam-2", "cam-3", "cam-4"]
TTL_S = 1.5


@pytest.fixture
def workers(redis_url):
    made = [CameraLeases(redis_url, f"worker-{n}", ttl_s=TTL_S) for n in (1, 2)]
    yield made
    for leases in made:
        leases.close()


def holders(url: str) -> dict[str, str | None]:
    with redis.Redis.from_url(url, decode_responses=True) as client:
        return {c: client.get(f"streetwatch:lease:{c}") for c in CAMERAS}


def assert_disjoint(a: CameraLeases, b: CameraLeases) -> None:
    assert not (a.owned & b.owned), f"{sorted(a.owned & b.owned)} owned by both workers"


def test_two_workers_split_the_cameras_without_overlap(workers, redis_url):
    one, two = workers
    for _ in range(3):  # a few renewal rounds: the first worker gives back beyond its share
        one.acquire(CAMERAS)
        assert_disjoint(one, two)
        two.acquire(CAMERAS)
        assert_disjoint(one, two)
    assert len(one.owned) == len(two.owned) == 2
    assert one.owned | two.owned == set(CAMERAS)
    owners = holders(redis_url)
    assert {c for c, w in owners.items() if w == "worker-1"} == one.owned
    assert {c for c, w in owners.items() if w == "worker-2"} == two.owned


def test_a_worker_that_stops_renewing_loses_its_cameras_within_the_ttl(workers):
    one, two = workers
    for _ in range(3):
        one.acquire(CAMERAS)
        two.acquire(CAMERAS)
    assert len(one.owned) == 2
    one.acquire(CAMERAS)  # its last renewal; then it hangs
    last_renewal = time.monotonic()
    while two.acquire(CAMERAS) != set(CAMERAS):  # the other worker's renewal loop
        assert_disjoint(one, two)  # never both, even while the leases run out
        assert time.monotonic() - last_renewal < TTL_S + 1.0, "the cameras did not move"
        time.sleep(0.1)
    assert one.owned == frozenset()
    assert one.acquire(CAMERAS) == set()  # it wakes up: everything is taken, nothing is shared
    assert_disjoint(one, two)


def test_a_clean_shutdown_hands_the_cameras_over_at_once(workers):
    one, two = workers
    one.acquire(CAMERAS)
    two.acquire(CAMERAS)
    assert one.owned == set(CAMERAS) and two.owned == frozenset()
    one.release_all()
    assert one.owned == frozenset()
    assert two.acquire(CAMERAS) == set(CAMERAS)  # no TTL to wait for


def test_cameras_dropped_from_the_list_are_given_back(workers, redis_url):
    one, _ = workers
    one.acquire(CAMERAS)
    assert one.acquire(CAMERAS[:2]) == set(CAMERAS[:2])
    assert [holders(redis_url)[c] for c in CAMERAS[2:]] == [None, None]


def test_leases_outlive_a_redis_outage_only_until_they_expire(redis_control):
    leases = CameraLeases(redis_control.url, "worker-1", ttl_s=0.8)
    assert leases.acquire(CAMERAS) == set(CAMERAS)
    redis_control.stop()
    assert leases.acquire(CAMERAS) == set(CAMERAS)  # still valid: keep working
    time.sleep(0.9)
    assert leases.acquire(CAMERAS) == set()
    leases.close()


def test_a_non_positive_ttl_is_a_clear_error(redis_url):
    with pytest.raises(LeaseError, match="ttl must be > 0"):
        CameraLeases(redis_url, "w", ttl_s=0)
