"""Suppressions: what a rejection teaches. The store's matching (camera, zone, type, region,
time), the API to list, add and lift them, and rejections that add them (and hard negatives)."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.cases.suppressions import RejectReason, SuppressionStore, coverage, hull, parse_reason
from service.web.app import create_app
from tests.service.review_helpers import make_config, make_event, seed

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
"""Recent: the store caches the suppressions active now (wall clock), as the worker needs;
a fixed date here expired a day after the tests were written."""
STALL = [[100, 100, 200, 200], [150, 120, 260, 210]]  # region: [100, 100, 260, 210]


@pytest.fixture
def store(tmp_path):
    store = SuppressionStore(f"sqlite:///{tmp_path / 'cases.db'}", refresh_s=60)
    store.add(
        camera_id="cam-1", zone="z", type="street_vending", boxes=STALL,
        reason=RejectReason.PERMITTED, actor="ana", hours=24, now=T0,
    )  # fmt: skip
    return store


def test_the_region_is_the_union_of_the_boxes():
    assert hull(STALL) == [100, 100, 260, 210]
    assert hull([]) is None
    assert coverage([100, 100, 200, 200], [150, 100, 300, 200]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "candidate, expected",
    [
        (dict(), True),
        (dict(boxes=[[120, 110, 180, 190]]), True),
        (dict(boxes=[[90, 95, 250, 205]]), True),
        (dict(boxes=[[500, 400, 600, 470]]), False),
        (dict(boxes=[[0, 0, 640, 480]]), False),
        (dict(boxes=[]), True),
        (dict(camera="cam-2"), False),
        (dict(zone="other"), False),
        (dict(type="garbage"), False),
        (dict(at=T0 + timedelta(hours=23, minutes=59)), True),
        (dict(at=T0 + timedelta(hours=24)), False),
        (dict(at=T0 - timedelta(minutes=1)), False),
    ],
    ids=[
        "the same stall again",
        "a smaller box inside the region",
        "slightly larger than the region",
        "elsewhere in the zone",
        "a much larger scene around it",
        "no boxes: the zone is enough",
        "another camera",
        "another zone",
        "another type",
        "just before it expires",
        "once it expired",
        "before it was added",
    ],
)
def test_matches(store, candidate, expected):
    camera = candidate.get("camera", "cam-1")
    zone = candidate.get("zone", "z")
    type = candidate.get("type", "street_vending")
    boxes = candidate.get("boxes", STALL)
    now = candidate.get("at", T0 + timedelta(hours=1))
    assert store.matches(camera, zone, type, boxes, now) is expected


def test_a_lifted_suppression_stops_matching_at_once_in_this_process(store):
    [item], total = store.list(now=T0)
    assert total == 1 and item.active and item.region == [100, 100, 260, 210]
    assert store.matches("cam-1", "z", "street_vending", STALL, T0 + timedelta(hours=1))
    store.remove(item.id, "root")
    assert not store.matches("cam-1", "z", "street_vending", STALL, T0 + timedelta(hours=1))
    assert store.list(now=T0)[1] == 0
    lifted = store.list(active_only=False, now=T0)[0][0]
    assert (lifted.active, lifted.removed_by) == (False, "root")


def test_another_process_sees_changes_within_the_refresh_period(tmp_path):
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    worker = SuppressionStore(url, refresh_s=0.0)
    api = SuppressionStore(url)
    assert not worker.matches("cam-1", "z", "garbage", [[0, 0, 10, 10]])
    api.add(camera_id="cam-1", zone="z", type="garbage", boxes=[[0, 0, 10, 10]], actor="a")
    assert worker.matches("cam-1", "z", "garbage", [[0, 0, 10, 10]])


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("wrong_object", (RejectReason.WRONG_OBJECT, "")),
        ("permitted: stall has a permit", (RejectReason.PERMITTED, "stall has a permit")),
        ("the AI saw a shadow", (None, "the AI saw a shadow")),
    ],
    ids=["a code", "a code and words", "words only"],
)
def test_stored_reasons_parse_back(text, parsed):
    assert parse_reason(text) == parsed


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, {"feedback": {"suppression_hours": 2}})


@pytest.fixture
def client(config):
    events = [
        make_event(config, "e1", camera="cam-1"),
        make_event(config, "e2", camera="cam-1", boxes=[[300, 200, 340, 300]]),
        make_event(config, "e3", camera="cam-2"),
    ]
    service = seed(config, events)
    return TestClient(create_app(config, service.store, environ={}))


def case_of(client, camera):
    return client.get(f"/cases?camera={camera}").json()["items"][0]["id"]


def reject(client, case_id, code, reason=""):
    body = {"action": "reject", "reason_code": code, "reason": reason}
    reply = client.post(f"/cases/{case_id}/transitions", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_rejecting_adds_a_suppression_over_the_union_of_the_case_boxes(client, config):
    cid = case_of(client, "cam-1")
    detail = reject(client, cid, "wrong_object", "a poster of people")
    assert detail["status"] == "rejected"
    assert detail["history"][-1]["reason"] == "wrong_object: a poster of people"
    assert detail["history"][-1]["reason_code"] == "wrong_object"
    [item] = detail["suppressions"]
    assert (item["camera_id"], item["zone"], item["type"]) == ("cam-1", "z", "crowding")
    assert item["region"] == [100, 100, 340, 300] and item["case_id"] == cid
    hours = (datetime.fromisoformat(item["expires_at"]) - datetime.fromisoformat(
        item["created_at"]
    )).total_seconds() / 3600  # fmt: skip
    assert hours == pytest.approx(2)  # feedback.suppression_hours
    listed = client.get("/suppressions").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == item["id"]
    assert client.get("/suppressions?camera=cam-2").json()["total"] == 0


def test_rejecting_exports_hard_negatives_with_empty_labels(client, config):
    reject(client, case_of(client, "cam-1"), "wrong_object")
    root = config.dataset_path / "hard_negatives"
    images = sorted(p.name for p in (root / "images").iterdir())
    assert len(images) == 2 and all(name.endswith(".jpg") for name in images)
    for name in images:
        stem = name.removesuffix(".jpg")
        assert (root / "labels" / f"{stem}.txt").read_text() == ""
        rejected = (root / "rejected" / f"{stem}.txt").read_text().splitlines()
        assert rejected and all(line.startswith("0 ") for line in rejected)  # 0 = person
        meta = (root / "meta" / f"{stem}.json").read_text()
        assert '"image_source": "clean"' in meta and '"reason": "wrong_object"' in meta
    assert (root / "classes.txt").read_text().splitlines()[0] == "person"


@pytest.mark.parametrize(
    "code, suppressed, exported",
    [
        ("outside_zone", True, False),
        ("permitted", True, False),
        ("duplicate", False, False),
        ("other", True, True),
    ],
    ids=["outside the zone", "permitted", "a duplicate", "other"],
)
def test_what_each_reason_teaches(client, config, code, suppressed, exported):
    detail = reject(client, case_of(client, "cam-2"), code)
    assert bool(detail["suppressions"]) is suppressed
    images = config.dataset_path / "hard_negatives" / "images"
    assert (images.is_dir() and any(images.iterdir())) is exported


def test_reopening_a_rejected_case_takes_its_lessons_back(client, config):
    cid = case_of(client, "cam-1")
    reject(client, cid, "wrong_object")
    reply = client.post(f"/cases/{cid}/transitions", json={"action": "reopen", "reason": "oops"})
    assert reply.json()["status"] == "reopened" and reply.json()["suppressions"] == []
    assert client.get("/suppressions").json()["total"] == 0
    assert not any((config.dataset_path / "hard_negatives" / "images").iterdir())


def test_suppressions_can_be_added_by_hand_and_lifted(client):
    body = {"camera_id": "cam-2", "zone": "z", "type": "garbage", "hours": 1, "note": "works"}
    added = client.post("/suppressions", json=body)
    assert added.status_code == 201 and added.json()["region"] is None
    sid = added.json()["id"]
    assert client.get(f"/suppressions/{sid}").json()["created_by"] == "local"
    lifted = client.delete(f"/suppressions/{sid}")
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert client.delete(f"/suppressions/{sid}").status_code == 404
    assert client.get("/suppressions").json()["total"] == 0
    assert client.get("/suppressions?active=false").json()["total"] == 1
    assert client.get("/suppressions/999").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"zone": "z", "type": "garbage"}, "camera_id"),
        ({"camera_id": "c", "zone": "z", "type": "garbage", "hours": 0}, "hours"),
        ({"camera_id": "c", "zone": "z", "type": "g", "boxes": [[5, 5, 1, 1]]}, "boxes[0]"),
        ({"camera_id": "c", "zone": "z", "type": "g", "reason": "meh"}, "reason"),
    ],
    ids=["no camera", "zero hours", "an inverted box", "unknown reason"],
)
def test_bad_suppressions_are_422_naming_the_field(client, body, field):
    reply = client.post("/suppressions", json=body)
    assert reply.status_code == 422
    problem = reply.json()
    assert (problem.get("message") or problem["detail"]).startswith(field)


def test_suppressions_writes_need_a_reviewer(config):
    from tests.service.review_helpers import TOKENS_ENV, bearer

    client = TestClient(create_app(config, environ=TOKENS_ENV))
    body = {"camera_id": "cam-2", "zone": "z", "type": "garbage"}
    assert client.post("/suppressions", json=body, headers=bearer("vic")).status_code == 403
    assert client.post("/suppressions", json=body).status_code == 401
    reply = client.post("/suppressions", json=body, headers=bearer("ana"))
    assert reply.status_code == 201 and reply.json()["created_by"] == "ana"
    sid = reply.json()["id"]
    assert client.delete(f"/suppressions/{sid}", headers=bearer("vic")).status_code == 403
    assert client.get("/suppressions", headers=bearer("vic")).json()["total"] == 1
