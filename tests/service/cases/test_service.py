"""Queue -> cases -> API: the dispatch loop over the embedded queue, a real webhook receiver
and the HTTP API."""

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from fastapi.testclient import TestClient

from service.cases.notify import Webhook, WebhookNotifier
from service.cases.service import CaseService
from service.config import load_config
from service.queue.sqlite import SqliteEventQueue
from service.web.app import create_app
from tests.service.cases.test_notify import Receiver, wait_for
from tests.service.cases.test_store import event


@pytest.fixture
def config(tmp_path):
    zone = {"name": "z1", "polygon": [[0, 0], [500, 0], [500, 500]], "rules": {"crowding": {}}}
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "data_dir": "data",
                "cameras": [{"id": "cam-1", "url": "x.mp4", "zones": [zone]}],
                "dispatch": {"verify_window_s": 60},
            }
        )
    )
    return load_config(path)


@pytest.fixture
def receiver():
    r = Receiver([])
    yield r
    r.close()


@pytest.fixture
def service(config, receiver):
    notifier = WebhookNotifier([Webhook(receiver.url, "k")], backoff_s=0.05)
    svc = CaseService(config, SqliteEventQueue(config.queue_url), notifier=notifier)
    yield svc
    svc.notifier.close()


def test_queued_events_become_cases_once_and_new_cases_are_notified(config, service, receiver):
    queue = SqliteEventQueue(config.queue_url)
    queue.post(event("e1"))
    queue.post(event("e2"))
    queue.post(event("e1", n=2))
    assert service.drain() == 3
    assert service.drain() == 0  # acknowledged
    rows, total = service.store.list()
    assert total == 1 and len(rows[0].events) == 2
    assert wait_for(lambda: len(receiver.requests) == 1)


def test_escalation_is_notified(config, service, receiver):
    SqliteEventQueue(config.queue_url).post(event("e1"))
    service.drain()
    service.tick(now=datetime.now(UTC) + timedelta(days=1))
    assert wait_for(lambda: len(receiver.requests) == 2)
    kinds = sorted(r[1].decode().split('"event": "')[1].split('"')[0] for r in receiver.requests)
    assert kinds == ["case.created", "case.escalated"]


@pytest.fixture
def client(config, service):
    SqliteEventQueue(config.queue_url).post(event("e1"))
    service.drain()
    return TestClient(create_app(config, service.store))


def case_id(client):
    return client.get("/cases").json()["items"][0]["id"]


def test_reviewers_move_a_case_through_its_lifecycle_over_http(client):
    cid = case_id(client)
    steps = [
        {"action": "confirm", "actor": "li.wei"},
        {"action": "dispatch", "actor": "li.wei", "department": "sanitation-east"},
        {"action": "handle", "actor": "crew-7"},
        {"action": "resolve", "actor": "crew-7", "reason": "cleared"},
    ]
    for step in steps:
        reply = client.post(f"/cases/{cid}/transitions", json=step)
        assert reply.status_code == 200, reply.text
    detail = client.get(f"/cases/{cid}").json()
    assert detail["status"] == "resolved" and detail["department"] == "sanitation-east"
    assert [h["action"] for h in detail["history"]] == [
        "create",
        "confirm",
        "dispatch",
        "handle",
        "resolve",
    ]
    assert detail["evidence"][0]["id"] == "e1"
    assert (
        client.post(f"/cases/{cid}/comments", json={"actor": "a", "text": "ok"}).status_code == 200
    )


@pytest.mark.parametrize(
    "body, status",
    [
        ({"action": "resolve", "actor": "x"}, 409),
        ({"action": "reject", "actor": "x"}, 422),
        ({"action": "fly", "actor": "x"}, 422),
        ({"action": "confirm", "actor": ""}, 422),
        ({"action": "confirm", "actor": "x", "extra": 1}, 422),
    ],
    ids=[
        "illegal transition",
        "rejection without reason",
        "unknown action",
        "no actor",
        "unknown field",
    ],
)
def test_bad_transitions_are_refused_with_the_reason(client, body, status):
    reply = client.post(f"/cases/{case_id(client)}/transitions", json=body)
    assert reply.status_code == status
    assert client.get(f"/cases/{case_id(client)}").json()["status"] == "new"


def test_unknown_case_is_404(client):
    assert client.get("/cases/nope").status_code == 404
    assert (
        client.post("/cases/nope/transitions", json={"action": "confirm", "actor": "x"}).status_code
        == 404
    )


def test_analytics_counts_the_funnel(client):
    cid = case_id(client)
    client.post(f"/cases/{cid}/transitions", json={"action": "confirm", "actor": "x"})
    stats = client.get("/analytics").json()
    assert stats["total"]["detected"] == 1 and stats["total"]["confirmed"] == 1
    assert stats["total"]["precision"] == 1.0
    assert stats["by_type"]["garbage"]["reviewed"] == 1
    assert list(stats["by_department"]) == ["sanitation"]
