"""Credentials inside URLs (``rtsp://user:password@host/...``, ``redis://:password@host``): the
real URL is what connects; everything shown to people (logs, errors, APIs, pages, databases)
goes through ``redact_url`` or ``Redactor`` first."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"


def url_password(url: str) -> str | None:
    """The password of ``url`` (None without one, or when ``url`` is not a URL)."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    password = url_password(url)
    if not password:
        return url
    parts = urlsplit(url)
    user, _, _ = parts.netloc.rpartition("@")[0].partition(":")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


class Redactor:
    """Removes the secrets of some URLs from any text (an ffmpeg error line that repeats the
    URL, a command line): the password as written and percent-decoded."""

    def __init__(self, *urls: str) -> None:
        secrets = set()
        for url in urls:
            password = url_password(url)
            if password:
                secrets |= {password, unquote(password)}
        self.secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text
