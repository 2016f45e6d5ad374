import pytest
import yaml
from fastapi.testclient import TestClient

from service.config import load_config
from service.queue.sqlite import SqliteEventQueue
from service.web.app import create_app
from vision.types import Event


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "data_dir": "data",
                "cameras": [
                    {
                        "id": "cam-1",
                        "url": "clip.mp4",
                        "zones": [
                            {
                                "name": "z",
                                "polygon": [[0, 0], [9, 0], [9, 9]],
                                "rules": {"crowding": {}},
                            }
                        ],
                    }
                ],
            }
        )
    )
    return load_config(path)


@pytest.fixture
def client(config):
    queue = SqliteEventQueue(config.queue_url)
    snapshot = config.evidence_path / "cam-1" / "e1.jpg"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    outside = config.data_dir / "secret.jpg"
    outside.write_bytes(b"secret")
    for i, (camera, last) in enumerate(
        [("cam-1", "10:00:05"), ("cam-2", "10:00:07"), ("cam-1", "10:00:09")]
    ):
        queue.post(
            Event(
                id=f"e{i + 1}", type="crowding", camera_id=camera, zone="z", video_t0=0, video_t1=1,
                first_seen="2026-11-23T10:00:00.000Z", last_seen=f"2026-11-23T{last}.000Z",
                score=0.7, boxes=[[0, 0, 1, 1]], count=6,
                snapshot=str(snapshot if i == 0 else outside),
            )
        )  # fmt: skip
    return TestClient(create_app(config))


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["events"] == 3 and body["cameras"] == ["cam-1"]


@pytest.mark.parametrize(
    "query, ids, total",
    [
        ("", ["e3", "e2", "e1"], 3),
        ("?camera=cam-1", ["e3", "e1"], 2),
        ("?type=garbage", [], 0),
        ("?since=2026-11-23T10:00:06Z", ["e3", "e2"], 2),
        ("?since=2026-11-23T18:00:06%2B08:00", ["e3", "e2"], 2),
        ("?limit=1&offset=1", ["e2"], 3),
    ],
    ids=["all", "by camera", "by type", "since UTC", "since with an offset", "paged"],
)
def test_list_events(client, query, ids, total):
    body = client.get(f"/events{query}").json()
    assert [e["id"] for e in body["items"]] == ids
    assert body["total"] == total


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=100000", "?offset=-1", "?since=yesterday"],
    ids=["zero limit", "huge limit", "negative offset", "since not a time"],
)
def test_bad_queries_are_422(client, query):
    assert client.get(f"/events{query}").status_code == 422


def test_get_one_event_and_a_missing_one(client):
    assert client.get("/events/e1").json()["count"] == 6
    assert client.get("/events/nope").status_code == 404


def test_the_snapshot_is_served_and_nothing_outside_the_evidence_dir(client):
    response = client.get("/events/e1/snapshot")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert client.get("/events/e2/snapshot").status_code == 404  # points outside evidence_dir


def test_the_review_page_lists_the_events(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.text.count('class="card"') == 3
    assert "/events/e1/snapshot" in page.text
    filtered = client.get("/?camera=cam-2")
    assert filtered.text.count('class="card"') == 1


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/events", "/events/{event_id}"} <= set(paths)
