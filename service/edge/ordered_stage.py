"""A pipeline stage on its own thread: jobs run one at a time, in the order submitted.

The live worker hands each batch's rules, dedup and sinks to this stage and goes on detecting
the next batch, so the two overlap (inference releases the GIL). ``depth`` bounds how many jobs
may wait: ``submit`` blocks beyond it, so a slow stage slows the producer instead of piling up
frames. A job's exception is raised again in the producer, at its next ``submit`` or ``drain``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class OrderedStage:
    def __init__(self, name: str, depth: int = 1) -> None:
        if depth < 1:
            raise ValueError(f"an ordered stage needs depth >= 1, not {depth}")
        self.depth = depth
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: deque[Future[Any]] = deque()

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        """Queue ``job(*args)`` after every job submitted before it; wait while ``depth`` jobs
        are still pending."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        self._pending.append(self._executor.submit(job, *args))

    def drain(self) -> None:
        """Wait until every submitted job has run (raising the first failure)."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Run what is pending, then stop the thread; failures are raised after it stopped."""
        try:
            self.drain()
        finally:
            self._executor.shutdown(wait=True, cancel_futures=False)
