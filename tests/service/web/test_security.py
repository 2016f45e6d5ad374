"""Hostile requests: oversized bodies, cross-origin calls, evidence paths outside the
evidence folder."""

import pytest
import yaml
from fastapi.testclient import TestClient

from service.config import load_config
from service.web.app import MAX_BODY_BYTES, create_app


@pytest.fixture
def client(tmp_path):
    zone = {"name": "z", "polygon": [[0, 0], [9, 0], [9, 9]], "rules": {"crowding": {}}}
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {"data_dir": "data", "cameras": [{"id": "cam-1", "url": "x.mp4", "zones": [zone]}]}
        )
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.txt").write_text("do not serve")
    return TestClient(create_app(load_config(path)))


def test_an_oversized_body_is_refused_before_it_is_read(client):
    body = b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}"
    reply = client.post(
        "/cases/x/comments", content=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413


def test_cors_is_closed_by_default(client):
    reply = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in reply.headers
    preflight = client.options(
        "/cases/x/transitions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/../secret.txt",
        "/evidence/..%2Fsecret.txt",
        "/evidence/%2e%2e/secret.txt",
        "/evidence//etc/passwd",
        "/evidence/cam-1/..%2F..%2Fsecret.txt",
    ],
    ids=["dot-dot", "encoded slash", "encoded dots", "absolute path", "deep traversal"],
)
def test_evidence_serving_never_leaves_the_evidence_folder(client, path):
    reply = client.get(path)
    assert reply.status_code in (400, 404)
    assert b"do not serve" not in reply.content
    assert b"root:" not in reply.content
