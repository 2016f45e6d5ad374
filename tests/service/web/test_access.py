"""The API behind tokens: who may read and write, who the actor is, the login cookie, local
mode, 422s that name the fields, paging and filters, and evidence that never leaves its
folder."""

import pytest
from fastapi.testclient import TestClient

from service.web.app import create_app
from service.web.auth import COOKIE
from tests.service.review_helpers import TOKENS, TOKENS_ENV, bearer, make_config, make_event, seed


def _seed(config):
    events = [
        make_event(config, "e1", camera="cam-1", seen="2026-11-23T10:00:01.000Z"),
        make_event(config, "e2", camera="cam-2", seen="2026-11-23T10:00:02.000Z"),
        make_event(config, "e3", camera="cam-1", zone="far", seen="2026-11-23T10:00:03.000Z"),
        make_event(config, "e4", camera="cam-2", type="garbage", seen="2026-11-23T10:00:04.000Z"),
    ]
    return seed(config, events)


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path)


@pytest.fixture
def client(config):
    """Tokens on, data of the test's own (for tests that change things)."""
    return TestClient(create_app(config, _seed(config).store, environ=TOKENS_ENV))


@pytest.fixture
def local_client(config):
    """Local mode, data of the test's own."""
    return TestClient(create_app(config, _seed(config).store, environ={}))


@pytest.fixture(scope="module")
def shared_config(tmp_path_factory):
    config = make_config(tmp_path_factory.mktemp("api-access"))
    _seed(config)
    return config


@pytest.fixture(scope="module")
def reader(shared_config):
    """Tokens on, shared read-only data."""
    return TestClient(create_app(shared_config, environ=TOKENS_ENV))


@pytest.fixture(scope="module")
def local_reader(shared_config):
    """Local mode, shared data: for requests that change nothing."""
    return TestClient(create_app(shared_config, environ={}))


def a_case(client, **query) -> str:
    return client.get("/cases", params=query, headers=bearer("vic")).json()["items"][0]["id"]


READS = ["/events", "/events/e1", "/cases", "/analytics", "/cameras", "/suppressions", "/metrics"]


@pytest.mark.parametrize("path", READS, ids=lambda p: f"GET {p}")
@pytest.mark.parametrize(
    "who, status",
    [(None, 401), ("wrong", 401), ("vic", 200), ("ana", 200), ("root", 200)],
    ids=["no token", "wrong token", "viewer", "reviewer", "admin"],
)
def test_reads_need_any_role(reader, path, who, status):
    headers = {}
    if who == "wrong":
        headers = {"Authorization": "Bearer not-a-token-at-all-0000"}
    elif who:
        headers = bearer(who)
    reply = reader.get(path, headers=headers)
    assert reply.status_code == status, reply.text
    if status == 401:
        assert reply.headers["www-authenticate"] == "Bearer"
        assert TOKENS["ana"][1] not in reply.text


@pytest.mark.parametrize(
    "who, status",
    [(None, 401), ("vic", 403), ("ana", 200), ("root", 200)],
    ids=["no token", "viewer", "reviewer", "admin"],
)
def test_writes_need_reviewer_or_admin(client, who, status):
    cid = a_case(client)
    headers = bearer(who) if who else {}
    reply = client.post(f"/cases/{cid}/transitions", json={"action": "confirm"}, headers=headers)
    assert reply.status_code == status, reply.text
    if status == 403:
        assert "viewer" in reply.json()["detail"] and "reviewer or admin" in reply.json()["detail"]
    expected = "confirmed" if status == 200 else "new"
    assert client.get(f"/cases/{cid}", headers=bearer("vic")).json()["status"] == expected


def test_the_token_name_is_the_actor_whatever_the_body_says(client):
    cid = a_case(client)
    body = {"action": "confirm", "actor": "someone.else"}
    detail = client.post(f"/cases/{cid}/transitions", json=body, headers=bearer("ana")).json()
    assert detail["history"][-1]["actor"] == "ana"


def test_local_mode_needs_no_token_and_takes_the_actor_from_the_request(local_client):
    assert local_client.get("/health").json()["auth"] == "local"
    cid = a_case(local_client)
    body = {"action": "confirm", "actor": "li.wei"}
    detail = local_client.post(f"/cases/{cid}/transitions", json=body).json()
    assert detail["history"][-1]["actor"] == "li.wei"
    cid2 = local_client.get("/cases", params={"status": "new"}).json()["items"][0]["id"]
    detail = local_client.post(f"/cases/{cid2}/transitions", json={"action": "confirm"}).json()
    assert detail["history"][-1]["actor"] == "local"
    assert "本地模式" in local_client.get("/").text


def test_health_is_public_and_says_tokens(reader):
    body = reader.get("/health").json()
    assert body["auth"] == "tokens" and body["events"] == 4


def test_the_login_form_sets_an_http_only_cookie_that_authenticates(client):
    page = client.get("/ui/dashboard", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    bad = client.post("/login", data={"token": "nope-nope-nope-nope", "next": "/"})
    assert bad.status_code == 401 and "令牌无效" in bad.text
    reply = client.post(
        "/login",
        data={"token": TOKENS["ana"][1], "next": "/ui/dashboard"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/ui/dashboard"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    client.cookies.set(COOKIE, TOKENS["ana"][1])
    assert client.get("/ui/dashboard").status_code == 200
    cid = a_case(client)
    assert client.post(f"/cases/{cid}/transitions", json={"action": "confirm"}).status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "\\\\evil"], ids=str
)
def test_login_never_redirects_off_site(client, target):
    reply = client.post(
        "/login", data={"token": TOKENS["ana"][1], "next": target}, follow_redirects=False
    )
    assert reply.headers["location"] == "/"


def test_tokens_in_the_url_are_not_accepted(reader):
    assert not reader.cookies
    assert reader.get(f"/cases?token={TOKENS['root'][1]}").status_code == 401


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"action": "fly"}, ["action"]),
        ({"action": "confirm", "actor": ""}, ["actor"]),
        ({"action": "confirm", "surprise": 1}, ["surprise"]),
        ({"action": "reject", "reason_code": "boring"}, ["reason_code"]),
        ({"action": "reject"}, ["reason_code"]),
        ({"action": "dispatch", "department": ""}, ["department"]),
    ],
    ids=[
        "unknown action",
        "empty actor",
        "unknown field",
        "unknown reason code",
        "rejection without a reason",
        "empty department",
    ],
)
def test_422s_name_the_fields(local_reader, body, fields):
    cid = a_case(local_reader)
    reply = local_reader.post(f"/cases/{cid}/transitions", json=body)
    assert reply.status_code == 422
    problem = reply.json()
    message = problem.get("message") or problem["detail"]
    for field in fields:
        assert message.startswith(field) or f"; {field}:" in message, message


@pytest.mark.parametrize(
    "query, field",
    [("limit=0", "limit"), ("offset=-1", "offset"), ("status=lost", "status")],
    ids=["zero limit", "negative offset", "unknown status"],
)
def test_query_422s_name_the_parameter(local_reader, query, field):
    reply = local_reader.get(f"/cases?{query}")
    assert reply.status_code == 422 and reply.json()["message"].startswith(f"{field}:")


@pytest.mark.parametrize(
    "query, count, total",
    [
        ("", 4, 4),
        ("camera=cam-1", 2, 2),
        ("type=garbage", 1, 1),
        ("status=new", 4, 4),
        ("status=confirmed", 0, 0),
        ("limit=3", 3, 4),
        ("limit=3&offset=3", 1, 4),
        ("department=sanitation", 1, 1),
    ],
    ids=[
        "all",
        "by camera",
        "by type",
        "by status",
        "no confirmed yet",
        "first page",
        "second page",
        "by department",
    ],
)
def test_cases_page_and_filter(local_reader, query, count, total):
    body = local_reader.get(f"/cases?{query}").json()
    assert (len(body["items"]), body["total"]) == (count, total)


def test_case_pages_do_not_overlap(local_reader):
    first = local_reader.get("/cases?limit=2").json()["items"]
    second = local_reader.get("/cases?limit=2&offset=2").json()["items"]
    assert len({c["id"] for c in first + second}) == 4


@pytest.mark.parametrize(
    "query, ids",
    [
        ("camera=cam-2", ["e4", "e2"]),
        ("type=garbage", ["e4"]),
        ("since=2026-11-23T18:00:03%2B08:00", ["e4", "e3"]),
        ("limit=2&offset=1", ["e3", "e2"]),
    ],
    ids=["by camera", "by type", "since, with an offset", "paged"],
)
def test_events_page_and_filter(local_reader, query, ids):
    assert [e["id"] for e in local_reader.get(f"/events?{query}").json()["items"]] == ids


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/..%2Fconfig.yaml",
        "/evidence/cam-1/..%2F..%2Fconfig.yaml",
        "/evidence/%2Fetc%2Fpasswd",
        "/evidence//etc/passwd",
        "/evidence/cam-1/%2e%2e/%2e%2e/data/queue.db",
        "/evidence/cam-1/e1.jpg%00.png",
        "/evidence/cam-1/..%5C..%5Cconfig.yaml",
        "/evidence/link/secret.jpg",
        "/evidence/cam-1/nothing.jpg",
        "/evidence/",
    ],
    ids=[
        "dot-dot",
        "dot-dot twice from a camera",
        "absolute, encoded",
        "absolute",
        "encoded dots",
        "NUL byte",
        "backslashes",
        "symlink leading out",
        "missing file",
        "the folder itself",
    ],
)
def test_evidence_never_leaves_its_folder(shared_config, local_reader, path):
    outside = shared_config.data_dir.parent / "secret"
    outside.mkdir(exist_ok=True)
    (outside / "secret.jpg").write_bytes(b"\xff\xd8secret")
    link = shared_config.evidence_path / "link"
    if not link.exists():
        link.symlink_to(outside, target_is_directory=True)
    reply = local_reader.get(path)
    assert reply.status_code == 404
    assert b"secret" not in reply.content


def test_evidence_inside_is_served_with_its_type(local_reader):
    reply = local_reader.get("/evidence/cam-1/e1.jpg")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg"
    assert local_reader.get("/evidence/cam-1/e1.clean.jpg").status_code == 200
    assert local_reader.get("/events/e1/clip").status_code == 404  # replayed: no clip


def test_camera_thumbnails_are_the_newest_snapshot_or_a_placeholder(local_reader):
    assert local_reader.get("/cameras/cam-1/thumbnail").headers["content-type"] == "image/jpeg"
    unknown = local_reader.get("/cameras/nope/thumbnail")
    assert unknown.status_code == 404


def test_metrics_count_cases_by_status(local_reader):
    text = local_reader.get("/metrics").text
    assert 'streetwatch_cases{status="new"} 4' in text
    assert 'streetwatch_events{type="crowding"} 3' in text
