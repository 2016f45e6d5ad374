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


def test_a_chunked_body_is_refused_once_it_passes_the_limit_not_read_whole(tmp_path):
    """A real server and a raw socket: 8 MiB sent chunked with no Content-Length; the server
    answers 413 after reading about 1 MiB, and stops reading."""
    import socket
    import threading
    import time

    import uvicorn

    zone = {"name": "z", "polygon": [[0, 0], [9, 0], [9, 9]], "rules": {"crowding": {}}}
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {"data_dir": "data", "cameras": [{"id": "cam-1", "url": "x.mp4", "zones": [zone]}]}
        )
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(load_config(path)), host="127.0.0.1", port=port, log_level="error"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /cases/x/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
            sent = 0
            try:
                for _ in range(128):  # 8 MiB
                    conn.sendall(chunk)
                    sent += 65536
            except OSError:
                pass  # the server closed the connection after refusing: it stopped reading
            reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b"request body over" in reply
    finally:
        server.should_exit = True
        thread.join(10)


def test_every_response_forbids_sniffing_and_framing(client):
    for path in ("/health", "/", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    "since",
    [
        pytest.param("9999-12-31T23:59:59-23:59", id="a time past year 9999 in UTC"),
        pytest.param("0001-01-01T00:00:00+23:59", id="a time before year 1 in UTC"),
        pytest.param("yesterday", id="not a time"),
    ],
)
def test_a_since_out_of_range_is_a_422_not_a_500(client, since):
    reply = client.get("/events", params={"since": since})
    assert reply.status_code == 422
    assert "since" in reply.json()["detail"]
