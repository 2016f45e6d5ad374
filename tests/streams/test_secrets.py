"""``streams/secrets.py``: passwords in camera and queue URLs never reach what people see."""

from __future__ import annotations

import pytest

from streams.secrets import Redactor, redact_url, url_password


@pytest.mark.parametrize(
    "url, shown",
    [
        pytest.param(
            "rtsp://admin:S3cretPass@10.0.0.5:554/Streaming/101",
            "rtsp://admin:***@10.0.0.5:554/Streaming/101",
            id="a camera password is masked, the user and host stay",
        ),
        pytest.param(
            "redis://:hunter2@redis:6379/0", "redis://:***@redis:6379/0", id="a redis password"
        ),
        pytest.param("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live", id="no password: unchanged"),
        pytest.param("/videos/clip.mp4", "/videos/clip.mp4", id="a file path: unchanged"),
        pytest.param(
            "rtsp://a:p%40ss@h/x", "rtsp://a:***@h/x", id="a percent-encoded password is masked"
        ),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_the_redactor_removes_the_password_from_any_text_that_repeats_it():
    url = "rtsp://admin:p%40ss@127.0.0.1:9/x"
    assert url_password(url) == "p%40ss"
    redact = Redactor(url)
    line = f"[rtsp @ 0x1] {url}: Connection refused (p@ss)"
    assert "p%40ss" not in redact(line) and "p@ss" not in redact(line)
    assert "rtsp://admin:***@127.0.0.1:9/x" in redact(line)
