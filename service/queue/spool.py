"""A local disk spool in front of any dispatch queue: when the backend is unreachable, events go
to a JSONL file (flushed and fsynced, so they survive a crash or restart) and a background drainer
posts them, in order, once the backend is back. Nothing is lost; nothing is duplicated, because
posting is idempotent by event id and a spooled event is removed only after its post succeeded
(a crash between the two re-posts it, which the queue ignores).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO

from service.queue.base import Delivery, EventPage, EventQueue, QueueError, QueueUnavailable
from vision.types import Event

logger = logging.getLogger(__name__)

UNAVAILABLE = (QueueUnavailable, ConnectionError, TimeoutError)
"""What means "the backend is down, try later" (anything else is a real error)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolingQueue:
    """``inner`` with a disk spool in ``spool_dir`` for its outages.

    ``post`` goes to ``inner``; when ``inner`` is unreachable, or earlier events are still
    spooled (so order is kept), the event is appended to the spool and ``post`` returns True.
    ``start()`` runs the drainer, which retries every ``retry_s`` seconds. Every other method
    goes straight to ``inner``. One process at a time may use a spool folder (a lock file).
    """

    def __init__(
        self, inner: EventQueue, spool_dir: str | Path, retry_s: float = 2.0, batch: int = 100
    ) -> None:
        self.inner = inner
        self.url = inner.url
        self.retry_s = retry_s
        self.batch = batch
        self.dir = Path(spool_dir)
        self.path = self.dir / "spool.jsonl"
        self.rejected_path = self.dir / "rejected.jsonl"
        self._lock = threading.Lock()  # the spool file and the count
        self._drain_lock = threading.Lock()  # one drain at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = False
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock_file: IO[str] | None = open(self.dir / "spool.lock", "a")  # noqa: SIM115
        except OSError as exc:
            raise QueueError(f"{self.dir}: cannot use the spool folder ({exc})") from None
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise QueueError(
                f"{self.dir}: the spool is in use by another process; give each worker its own "
                "spool folder"
            ) from None
        self._count = self._repair()
        if self._count:
            logger.warning("%s: %d events spooled from an earlier run", self.path, self._count)

    def __repr__(self) -> str:
        return f"SpoolingQueue({self.inner!r}, {str(self.dir)!r}, spooled={self._count})"

    @property
    def spooled(self) -> int:
        """Events waiting in the spool (for metrics)."""
        return self._count

    # the spool file --------------------------------------------------------------------------

    def _repair(self) -> int:
        """Drop a torn last line (a crash mid-write) into ``rejected.jsonl``; the line count."""
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            logger.warning("%s: dropping a torn last line (%d bytes)", self.path, len(data) - cut)
            self._reject([data[cut:].decode(errors="replace")])
            self._rewrite(data[:cut].decode().splitlines())
            data = data[:cut]
        return data.count(b"\n")

    def _append(self, event: Event) -> None:
        with open(self.path, "a", encoding="utf-8") as spool:
            spool.write(event.model_dump_json() + "\n")
            spool.flush()
            os.fsync(spool.fileno())
        self._count += 1

    def _rewrite(self, lines: list[str]) -> None:
        """Replace the spool with ``lines``, atomically (write, fsync, rename)."""
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as spool:
            spool.writelines(line + "\n" for line in lines)
            spool.flush()
            os.fsync(spool.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.dir)

    def _remove_head(self, n: int) -> None:
        """Remove the first ``n`` lines (posted); lines appended meanwhile stay."""
        if n <= 0:
            return
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            self._rewrite(lines[n:])
            self._count = len(lines) - n

    def _reject(self, lines: list[str]) -> None:
        with open(self.rejected_path, "a", encoding="utf-8") as out:
            out.writelines(line.rstrip("\n") + "\n" for line in lines)
            out.flush()
            os.fsync(out.fileno())

    # posting and draining ----------------------------------------------------------------------

    def post(self, event: Event) -> bool:
        """Post ``event``, or spool it when the backend is unreachable (then True)."""
        with self._lock:
            if self._count:  # older events wait in the spool: keep the order
                self._append(event)
                return True
        try:
            return self.inner.post(event)
        except UNAVAILABLE as exc:
            with self._lock:
                self._append(event)
            if not self._outage:
                self._outage = True
                logger.warning("%s; spooling events to %s", exc, self.path)
            return True

    def drain(self) -> int:
        """Post every spooled event in order, removing each only after its post succeeded;
        stops at the first failure. Returns how many were posted."""
        with self._drain_lock:
            with self._lock:
                if not self._count:
                    return 0
                lines = self.path.read_text(encoding="utf-8").splitlines()
            done = removed = 0
            try:
                for line in lines:
                    try:
                        event = Event.model_validate_json(line)
                    except ValueError as exc:
                        logger.error("%s: unreadable event moved aside (%s)", self.path, exc)
                        self._reject([line])
                    else:
                        self.inner.post(event)
                    done += 1
                    if done - removed >= self.batch:
                        self._remove_head(done - removed)
                        removed = done
            except UNAVAILABLE as exc:
                if not self._outage:
                    self._outage = True
                    logger.warning("%s; %d events stay spooled", exc, len(lines) - done)
            finally:
                self._remove_head(done - removed)
            if done == len(lines):
                if self._outage:
                    logger.info("%s is back: spooled events drained", self.url)
                self._outage = False
            return done

    def _run(self) -> None:
        while True:
            if self._count:
                try:
                    self.drain()
                except Exception:  # a bad backend answer must not kill the drainer
                    logger.exception("%s: draining the spool failed; retrying", self.path)
            if self._stop.wait(self.retry_s):
                return

    def start(self) -> None:
        """Start the background drainer (a daemon thread)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="spool-drainer", daemon=True)
        self._thread.start()

    def stop(self, final_drain: bool = True) -> None:
        """Stop the drainer; with ``final_drain``, try once more to empty the spool."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
            self._thread = None
        if final_drain and self._count:
            try:
                self.drain()
            except Exception:
                logger.exception("%s: final drain failed; events stay spooled", self.path)

    def close(self) -> None:
        """Stop the drainer (no final drain) and release the spool folder."""
        self.stop(final_drain=False)
        if self._lock_file:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def __enter__(self) -> SpoolingQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # everything else goes to the backend -------------------------------------------------------

    def get(self, event_id: str) -> Event | None:
        return self.inner.get(event_id)

    def list(
        self,
        *,
        type: str | None = None,
        camera_id: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EventPage:
        return self.inner.list(
            type=type, camera_id=camera_id, since=since, limit=limit, offset=offset
        )

    def count(self) -> int:
        return self.inner.count()

    def count_by_type(self) -> dict[str, int]:
        return self.inner.count_by_type()

    def read_new(self, consumer: str, limit: int = 100, block_s: float = 0.0) -> list[Delivery]:
        return self.inner.read_new(consumer, limit, block_s)

    def ack(self, consumer: str, deliveries: list[Delivery]) -> None:
        self.inner.ack(consumer, deliveries)


def open_spool(backend: EventQueue, root: Path) -> SpoolingQueue:
    """The first spool folder no other worker on this host holds: a restarted worker takes
    its old folder back and drains what it spooled before it died."""
    for slot in range(64):
        try:
            return SpoolingQueue(backend, root / str(slot))
        except QueueError as exc:
            if "in use" not in str(exc):
                raise
    raise QueueError(f"{root}: 64 workers on this host already hold a spool folder")
