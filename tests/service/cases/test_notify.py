"""Webhooks against a real HTTP server on 127.0.0.1."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.cases.notify import SIGNATURE_HEADER, Webhook, WebhookNotifier, verify

SECRET = "s3cret"


class Receiver:
    """A city dispatch system: answers with the given status codes in turn, records requests."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize(
    "statuses, attempts, delivered",
    [([200], 1, True), ([500, 503, 200], 3, True), ([400], 1, False), ([500] * 5, 3, False)],
    ids=["accepted at once", "retried through server errors", "a 4xx is not retried",
         "gives up after the last attempt"],
)  # fmt: skip
def test_webhook_delivery_is_signed_and_retried(statuses, attempts, delivered):
    receiver = Receiver(statuses)
    notifier = WebhookNotifier([Webhook(receiver.url, SECRET)], attempts=3, backoff_s=0.05)
    try:
        notifier.notify("case.created", {"case_id": "c1", "type": "garbage"})
        assert wait_for(lambda: notifier.delivered + notifier.failed == 1)
        assert len(receiver.requests) == attempts
        assert notifier.delivered == int(delivered)
        headers, body = receiver.requests[-1]
        assert verify(body, SECRET, headers[SIGNATURE_HEADER])
        assert not verify(body, "wrong", headers[SIGNATURE_HEADER])
        assert json.loads(body) == {"event": "case.created", "case_id": "c1", "type": "garbage"}
    finally:
        notifier.close()
        receiver.close()


def test_only_subscribed_kinds_are_sent():
    receiver = Receiver([])
    hook = Webhook(receiver.url, SECRET, frozenset({"case.escalated"}))
    notifier = WebhookNotifier([hook], backoff_s=0.05)
    try:
        notifier.notify("case.created", {"case_id": "c1"})
        notifier.notify("case.escalated", {"case_id": "c1"})
        assert wait_for(lambda: notifier.delivered == 1)
        assert [json.loads(b)["event"] for _, b in receiver.requests] == ["case.escalated"]
    finally:
        notifier.close()
        receiver.close()
