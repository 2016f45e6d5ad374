"""Outbound notifications: HTTP POST webhooks for new and escalated cases, signed with
HMAC-SHA256 and retried with backoff, so an existing city dispatch system can take them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Streetwatch-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret), signature)


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret: str
    events: frozenset[str] = frozenset({"case.created", "case.escalated"})


class WebhookNotifier:
    """Delivers notifications from a background thread; never blocks the caller."""

    def __init__(
        self,
        hooks: list[Webhook],
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.hooks = hooks
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[Webhook, bytes] | None] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def notify(self, kind: str, payload: dict) -> None:
        body = json.dumps({"event": kind, **payload}, sort_keys=True, default=str).encode()
        for hook in self.hooks:
            if kind in hook.events:
                try:
                    self._queue.put_nowait((hook, body))
                except queue.Full:
                    self.failed += 1
                    logger.error("webhook queue full: dropped %s for %s", kind, hook.url)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            hook, body = item
            if self._deliver(hook, body):
                self.delivered += 1
            else:
                self.failed += 1

    def _deliver(self, hook: Webhook, body: bytes) -> bool:
        request = urllib.request.Request(
            hook.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, hook.secret)},
        )
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    if 200 <= reply.status < 300:
                        return True
                    reason = f"HTTP {reply.status}"
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    logger.error("webhook %s refused the notification: %s", hook.url, reason)
                    return False
            except (urllib.error.URLError, OSError) as exc:
                reason = str(getattr(exc, "reason", exc))
            if attempt < self.attempts:
                delay = self.backoff_s * 2 ** (attempt - 1)
                logger.warning(
                    "webhook %s failed (%s); retry %d in %.1fs", hook.url, reason, attempt, delay
                )
                time.sleep(delay)
        logger.error("webhook %s failed after %d attempts", hook.url, self.attempts)
        return False
