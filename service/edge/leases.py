"""Camera ownership across workers: one Redis lease per camera.

A worker calls ``acquire(camera_ids)`` every ``ttl_s / 3`` or so: it renews the leases it holds
(compare-and-pexpire, so it never extends someone else's), takes free ones (SET NX PX) up to its
fair share, and gives back what exceeds its share so a worker that joins gets cameras too. The
fair share is ``ceil(cameras / live workers)``; live workers are those that called ``acquire``
within the TTL (a sorted set scored by expiry in the server's clock). A worker that stops renewing
(crashed, cut off) loses its leases after ``ttl_s`` and the others take its cameras on their next
``acquire``.

``owned`` only lists leases renewed less than ``ttl_s`` ago by this process's clock (measured from
before the request), so a worker cut off from Redis stops claiming cameras by the time they can
expire on the server.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.queue.base import redact

logger = logging.getLogger(__name__)

RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

HEARTBEAT_SCRIPT = """
-- KEYS: 1 workers sorted set; ARGV: 1 worker id, 2 ttl ms. Returns the live worker count.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""


class LeaseError(Exception):
    """The lease store is unusable (a bad URL or setting)."""


class CameraLeases:
    """The cameras this worker (``worker_id``, unique per process) owns, as Redis leases."""

    def __init__(
        self,
        redis_url: str,
        worker_id: str,
        ttl_s: float = 15.0,
        *,
        prefix: str = "streetwatch",
        connect_timeout_s: float = 2.0,
    ) -> None:
        if ttl_s <= 0:
            raise LeaseError(f"lease ttl must be > 0 seconds, got {ttl_s}")
        self.redis_url = redis_url
        self.worker_id = worker_id
        self.ttl_s = ttl_s
        self.prefix = prefix
        try:
            self.client = redis.Redis.from_url(
                redis_url,
                decode_responses=True,
                socket_timeout=max(0.5, ttl_s / 3),
                socket_connect_timeout=min(connect_timeout_s, max(0.5, ttl_s / 3)),
                retry=Retry(NoBackoff(), 1),
            )
        except ValueError as exc:
            raise LeaseError(f"unsupported lease url '{redact(redis_url)}': {exc}") from None
        self._renew = self.client.register_script(RENEW_SCRIPT)
        self._release = self.client.register_script(RELEASE_SCRIPT)
        self._heartbeat = self.client.register_script(HEARTBEAT_SCRIPT)
        self._valid_until: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"CameraLeases({redact(self.redis_url)!r}, {self.worker_id!r}, ttl_s={self.ttl_s})"

    def _key(self, camera_id: str) -> str:
        return f"{self.prefix}:lease:{camera_id}"

    @property
    def _workers_key(self) -> str:
        return f"{self.prefix}:lease-workers"

    @property
    def owned(self) -> frozenset[str]:
        """Cameras whose lease this worker holds right now."""
        now = time.monotonic()
        return frozenset(c for c, until in self._valid_until.items() if until > now)

    def acquire(self, camera_ids: list[str] | set[str] | frozenset[str]) -> set[str]:
        """Renew this worker's leases among ``camera_ids``, take free ones up to its fair share,
        give back the rest (and leases of cameras no longer listed); the cameras owned now.

        When Redis is unreachable, returns the leases still valid by the local clock."""
        wanted = sorted(set(camera_ids))
        ttl_ms = max(1, int(self.ttl_s * 1000))
        started = time.monotonic()
        try:
            workers = int(self._heartbeat(keys=[self._workers_key], args=[self.worker_id, ttl_ms]))
            share = math.ceil(len(wanted) / max(1, workers))
            mine = [c for c in wanted if c in self._valid_until]
            keep, excess = mine[:share], mine[share:]
            pipe = self.client.pipeline(transaction=False)
            for camera in keep:
                self._renew(keys=[self._key(camera)], args=[self.worker_id, ttl_ms], client=pipe)
            renewed = pipe.execute() if keep else []
            lost = [c for c, ok in zip(keep, renewed, strict=True) if not ok]
            for camera in lost:
                logger.warning("%s lost the lease on camera %s", self.worker_id, camera)
                del self._valid_until[camera]
            for camera in keep:
                if camera not in lost:
                    self._valid_until[camera] = started + self.ttl_s
            self._give_back([*excess, *(c for c in self._valid_until if c not in wanted)])
            room = share - len(self._valid_until)
            for camera in (c for c in wanted if c not in self._valid_until):
                if room <= 0:
                    break
                if self.client.set(self._key(camera), self.worker_id, nx=True, px=ttl_ms):
                    self._valid_until[camera] = started + self.ttl_s
                    room -= 1
                    logger.info("%s took the lease on camera %s", self.worker_id, camera)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            logger.warning(
                "%s: leases at %s unreachable (%s); keeping %d leases until they expire",
                self.worker_id,
                redact(self.redis_url),
                exc,
                len(self.owned),
            )
        return set(self.owned)

    def _give_back(self, cameras: list[str]) -> None:
        for camera in cameras:
            self._release(keys=[self._key(camera)], args=[self.worker_id])
            self._valid_until.pop(camera, None)
            logger.info("%s gave back the lease on camera %s", self.worker_id, camera)

    def release_all(self) -> None:
        """Give back every lease and leave the worker set (a clean shutdown)."""
        try:
            self._give_back(list(self._valid_until))
            self.client.zrem(self._workers_key, self.worker_id)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            logger.warning("%s: could not release leases (%s); they expire", self.worker_id, exc)
        self._valid_until.clear()

    def close(self) -> None:
        self.client.close()
