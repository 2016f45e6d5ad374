"""The networked dispatch queue: Redis (hashes + sorted sets for the events, a stream with
consumer groups for the deliveries), for many workers on many nodes.

Same semantics as ``SqliteEventQueue``:

- ``post`` is idempotent by event id, atomically in one Lua script: a newer ``observations``
  (or an equal one with a different payload) updates the event, a stale or identical post does
  nothing; every effective change is appended (XADD) to the stream ``<prefix>:events``.
- ``list`` is newest first by ``last_seen`` (ties by id), filtered by type / camera / since,
  paged, with the total count.
- ``read_new(consumer)`` reads through the consumer *group* named ``consumer`` (created from the
  start of the stream when missing), as the group member ``consumer_name`` (hostname-pid by
  default): first this member's own unacknowledged entries, then entries another member left
  pending longer than ``claim_idle_s`` (XAUTOCLAIM: a dead worker's work is taken over), then
  new entries. At-least-once: what is not acknowledged is delivered again.

Keys (``prefix`` defaults to ``streetwatch``): ``<prefix>:event:<id>`` (hash: payload,
observations, type, camera_id), ``<prefix>:idx:all`` / ``idx:type:<t>`` / ``idx:camera:<c>`` /
``idx:tc:<t>:<c>`` (sorted sets, score = -last_seen in ms, so ascending order is newest first and
ties sort by id), ``<prefix>:types`` (set of types seen), ``<prefix>:events`` (the stream).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.queue.base import Delivery, EventPage, QueueError, QueueUnavailable, redact
from vision.types import Event, parse_iso

logger = logging.getLogger(__name__)

POST_SCRIPT = """
-- KEYS: 1 event hash, 2..5 indexes (all, type, camera, type+camera), 6 types set, 7 stream
-- ARGV: 1 id, 2 payload, 3 observations, 4 index score, 5 type, 6 camera, 7 stream maxlen (0: none)
local stored = redis.call('HGET', KEYS[1], 'observations')
if stored then
  local old, new = tonumber(stored), tonumber(ARGV[3])
  if new < old then return 0 end
  if new == old and redis.call('HGET', KEYS[1], 'payload') == ARGV[2] then return 0 end
else
  redis.call('HSET', KEYS[1], 'type', ARGV[5], 'camera_id', ARGV[6])
  redis.call('SADD', KEYS[6], ARGV[5])
end
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'observations', ARGV[3])
for i = 2, 5 do redis.call('ZADD', KEYS[i], ARGV[4], ARGV[1]) end
local maxlen = tonumber(ARGV[7])
if maxlen > 0 then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', maxlen, '*', 'id', ARGV[1], 'event', ARGV[2])
else
  redis.call('XADD', KEYS[7], '*', 'id', ARGV[1], 'event', ARGV[2])
end
return 1
"""

BLOCK_CHUNK_S = 1.0
"""A blocking read waits in chunks this long (well under the socket timeout)."""


def default_consumer_name() -> str:
    """This process's member name inside a consumer group: ``hostname-pid``."""
    return f"{socket.gethostname()}-{os.getpid()}"


def epoch_ms(iso: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 time (naive means UTC)."""
    try:
        moment = parse_iso(iso)
    except ValueError:
        raise QueueError(f"'{iso}' is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _stream_entries(response: Any) -> list[tuple[str, dict[str, str] | None]]:
    """The (id, fields) pairs of an XREADGROUP answer for one stream (RESP2 or RESP3)."""
    if not response:
        return []
    if isinstance(response, dict):  # RESP3: {stream: [[id, fields], ...]}
        batches = list(response.values())
    else:  # RESP2: [[stream, [(id, fields), ...]]]
        batches = [batch for _, batch in response]
    return [(entry_id, fields) for batch in batches for entry_id, fields in batch]


class RedisEventQueue:
    """The ``EventQueue`` on a Redis server (``redis://[:password@]host:port/db``)."""

    def __init__(
        self,
        url: str,
        *,
        claim_idle_s: float = 60.0,
        consumer_name: str | None = None,
        prefix: str = "streetwatch",
        stream_maxlen: int | None = 1_000_000,
        socket_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        """``claim_idle_s``: entries pending this long at another member of the group are taken
        over. ``stream_maxlen``: the stream is trimmed (approximately) to this many entries
        (None: never; a consumer further behind than that would miss changes)."""
        self.url = url
        self.claim_idle_s = claim_idle_s
        self.consumer_name = consumer_name or default_consumer_name()
        self.prefix = prefix
        self.stream = f"{prefix}:events"
        self.stream_maxlen = stream_maxlen
        try:
            self.client = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=socket_timeout_s,
                socket_connect_timeout=connect_timeout_s,
                retry=Retry(NoBackoff(), 1),  # one quick retry: a stale pooled connection
            )
        except ValueError as exc:
            raise QueueError(f"unsupported queue url '{redact(url)}': {exc}") from None
        self._post = self.client.register_script(POST_SCRIPT)
        self._groups: set[str] = set()
        self._claim_cursor: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"RedisEventQueue({redact(self.url)!r}, consumer_name={self.consumer_name!r})"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(
                f"redis queue at {redact(self.url)} is unreachable ({exc})"
            ) from None
        except redis.RedisError as exc:
            raise QueueError(f"redis queue at {redact(self.url)}: {exc}") from None

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _index(self, type: str | None, camera_id: str | None) -> str:
        if type and camera_id:
            return self._key("idx", "tc", type, camera_id)
        if type:
            return self._key("idx", "type", type)
        if camera_id:
            return self._key("idx", "camera", camera_id)
        return self._key("idx", "all")

    def ping(self) -> None:
        """Raise ``QueueUnavailable`` unless the server answers."""
        with self._errors():
            self.client.ping()

    def close(self) -> None:
        self.client.close()

    def post(self, event: Event) -> bool:
        """Insert or update ``event``; True when the queue changed."""
        keys = [
            self._key("event", event.id),
            self._index(None, None),
            self._index(event.type, None),
            self._index(None, event.camera_id),
            self._index(event.type, event.camera_id),
            self._key("types"),
            self.stream,
        ]
        args = [
            event.id,
            event.model_dump_json(),
            event.observations,
            -epoch_ms(event.last_seen),
            event.type,
            event.camera_id,
            self.stream_maxlen or 0,
        ]
        with self._errors():
            return bool(self._post(keys=keys, args=args))

    def get(self, event_id: str) -> Event | None:
        with self._errors():
            payload = self.client.hget(self._key("event", event_id), "payload")
        return Event.model_validate_json(payload) if payload else None

    def list(
        self,
        *,
        type: str | None = None,
        camera_id: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EventPage:
        """Events newest first (by last seen); ``since`` is an ISO 8601 UTC time."""
        index = self._index(type, camera_id)
        newest = "-inf"
        oldest = str(-epoch_ms(since)) if since else "+inf"
        with self._errors():
            pipe = self.client.pipeline(transaction=True)
            pipe.zcount(index, newest, oldest)
            pipe.zrange(index, newest, oldest, byscore=True, offset=offset, num=limit)
            total, ids = pipe.execute()
            payloads = self._payloads(ids)
        items = [Event.model_validate_json(p) for p in payloads if p]
        return EventPage(items, int(total), limit, offset)

    def _payloads(self, ids: list[str]) -> list[str | None]:
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for event_id in ids:
            pipe.hget(self._key("event", event_id), "payload")
        return pipe.execute()

    def count(self) -> int:
        with self._errors():
            return int(self.client.zcard(self._index(None, None)))

    def count_by_type(self) -> dict[str, int]:
        with self._errors():
            types = sorted(self.client.smembers(self._key("types")))
            pipe = self.client.pipeline(transaction=False)
            for name in types:
                pipe.zcard(self._index(name, None))
            counts = pipe.execute()
        return {name: int(n) for name, n in zip(types, counts, strict=True) if n}

    # deliveries -----------------------------------------------------------------------------

    def _ensure_group(self, group: str) -> None:
        if group in self._groups:
            return
        try:
            self.client.xgroup_create(self.stream, group, id="0", mkstream=True)
            logger.info("created consumer group %s on %s", group, self.stream)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    def _deliveries(
        self, group: str, entries: list[tuple[str, dict[str, str] | None]]
    ) -> list[Delivery]:
        """Deliveries of stream entries; entries trimmed from the stream meanwhile (no fields)
        are acknowledged and skipped, with a warning."""
        out, gone = [], []
        for entry_id, fields in entries:
            if fields and "event" in fields:
                out.append(Delivery(entry_id, Event.model_validate_json(fields["event"])))
            else:
                gone.append(entry_id)
        if gone:
            logger.warning(
                "%s: %d pending entries were trimmed from %s", group, len(gone), self.stream
            )
            self.client.xack(self.stream, group, *gone)
        return out

    def _read(self, group: str, start: str, count: int, block_ms: int | None = None) -> list[Any]:
        response = self.client.xreadgroup(
            group, self.consumer_name, {self.stream: start}, count=count, block=block_ms
        )
        return _stream_entries(response)

    def _claim(self, group: str, count: int) -> list[tuple[str, dict[str, str] | None]]:
        """Entries pending longer than ``claim_idle_s`` at other members, now ours."""
        cursor = self._claim_cursor.get(group, "0-0")
        answer = self.client.xautoclaim(
            self.stream,
            group,
            self.consumer_name,
            min_idle_time=int(self.claim_idle_s * 1000),
            start_id=cursor,
            count=count,
        )
        self._claim_cursor[group] = answer[0]
        claimed = answer[1]
        if claimed:
            logger.warning(
                "%s: %s took over %d entries pending > %.1fs at another consumer",
                group,
                self.consumer_name,
                len(claimed),
                self.claim_idle_s,
            )
        return [(entry_id, fields) for entry_id, fields in claimed]

    def _read_once(self, group: str, limit: int, block_s: float) -> list[Delivery]:
        self._ensure_group(group)
        backlog = self._read(group, "0", limit)  # our own, delivered but not acknowledged
        if len(backlog) < limit:
            backlog += self._claim(group, limit - len(backlog))
        backlog.sort(key=lambda entry: tuple(int(part) for part in entry[0].split("-")))
        found = self._deliveries(group, backlog)
        if len(found) >= limit:
            return found
        deadline = time.monotonic() + (0.0 if found else block_s)
        while True:
            left = deadline - time.monotonic()
            block_ms = max(1, int(min(left, BLOCK_CHUNK_S) * 1000)) if left > 0 else None
            fresh = self._read(group, ">", limit - len(found), block_ms)
            found += self._deliveries(group, fresh)
            if fresh or deadline - time.monotonic() <= 0:
                return found

    def read_new(self, consumer: str, limit: int = 100, block_s: float = 0.0) -> list[Delivery]:
        """Changes not yet acknowledged by the group ``consumer``, oldest first (waits up to
        ``block_s`` for one when there is none)."""
        if limit <= 0:
            return []
        with self._errors():
            try:
                return self._read_once(consumer, limit, block_s)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # the server lost the group (restarted without persistence): make it again
                logger.warning(
                    "consumer group %s vanished from %s; recreating", consumer, self.stream
                )
                self._groups.discard(consumer)
                self._claim_cursor.pop(consumer, None)
                return self._read_once(consumer, limit, block_s)

    def ack(self, consumer: str, deliveries: list[Delivery]) -> None:
        """Mark ``deliveries`` handled by the group ``consumer``."""
        if not deliveries:
            return
        with self._errors():
            self.client.xack(self.stream, consumer, *(d.id for d in deliveries))
