"""The case service: consumes the dispatch queue into cases, runs the clock (verified closure,
escalation of overdue cases) and sends notifications."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

from service.cases.ground import ground_position
from service.cases.notify import Webhook, WebhookNotifier
from service.cases.routing import Router
from service.cases.store import CaseRow, CaseStore
from service.config import Config
from service.queue.base import EventQueue
from vision.types import Event

logger = logging.getLogger(__name__)
CONSUMER = "cases"


def case_summary(case: CaseRow) -> dict:
    return {
        "case_id": case.id,
        "type": case.type,
        "camera_id": case.camera_id,
        "zone": case.zone,
        "status": case.status,
        "department": case.department,
        "severity": case.severity,
        "deadline": case.deadline.isoformat(),
        "escalation_level": case.escalation_level,
        "first_seen": case.first_seen,
        "last_seen": case.last_seen,
    }


def build_notifier(config: Config) -> WebhookNotifier | None:
    hooks = []
    for hook in config.dispatch.webhooks:
        secret = os.environ.get(hook.secret_env)
        if not secret:
            raise ValueError(
                f"webhook {hook.url}: environment variable {hook.secret_env} (its secret) is unset"
            )
        hooks.append(Webhook(hook.url, secret, frozenset(hook.events)))
    return WebhookNotifier(hooks) if hooks else None


class CaseService:
    def __init__(
        self,
        config: Config,
        queue: EventQueue,
        store: CaseStore | None = None,
        notifier: WebhookNotifier | None = None,
    ) -> None:
        self.config = config
        self.queue = queue
        self.store = store or CaseStore(
            config.cases_url,
            Router(config.dispatch.routing),
            config.dispatch.merge_distance_m,
        )
        self.notifier = notifier
        self.homographies = {c.id: c.homography for c in config.cameras}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def apply(self, event: Event) -> None:
        ground = ground_position(event, self.homographies.get(event.camera_id))
        attached = self.store.attach(event, ground)
        if attached.created:
            self._notify("case.created", attached.case_id)
        if attached.reopened:
            self._notify("case.reopened", attached.case_id)

    def drain(self, block_s: float = 0.0) -> int:
        """Apply every queued change; returns how many."""
        handled = 0
        while True:
            deliveries = self.queue.read_new(CONSUMER, limit=200, block_s=block_s)
            if not deliveries:
                return handled
            for delivery in deliveries:
                self.apply(delivery.event)
            self.queue.ack(CONSUMER, deliveries)
            handled += len(deliveries)
            block_s = 0.0

    def tick(self, now: datetime | None = None) -> None:
        self.store.close_verified(self.config.dispatch.verify_window_s, now)
        for case in self.store.escalate_overdue(now):
            logger.warning("case %s (%s) is overdue: escalated", case.id, case.type)
            self._notify_case("case.escalated", case)

    def run(self, stop: threading.Event) -> None:
        last_tick = 0.0
        while not stop.is_set():
            try:
                self.drain(block_s=1.0)
                if time.monotonic() - last_tick >= self.config.dispatch.tick_s:
                    self.tick()
                    last_tick = time.monotonic()
            except Exception:  # keep serving: the next round retries (deliveries are unacked)
                logger.exception("case service round failed")
                stop.wait(2.0)

    def start(self) -> CaseService:
        self._thread = threading.Thread(target=self.run, args=(self._stop,), name="cases")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.notifier is not None:
            self.notifier.close()

    def _notify(self, kind: str, case_id: str) -> None:
        if self.notifier is not None:
            self._notify_case(kind, self.store.get(case_id))

    def _notify_case(self, kind: str, case: CaseRow) -> None:
        if self.notifier is not None:
            self.notifier.notify(kind, case_summary(case))
