"""Evidence files served over HTTP: only regular files of known kinds inside the evidence
folder. Anything else (``..``, absolute paths, symlinks leading out, NUL bytes, other file
kinds) is a 404 that says nothing about what exists outside."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import FileResponse

logger = logging.getLogger(__name__)

MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
}


class EvidenceFiles:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def inside(self, path: str | Path | None) -> Path | None:
        """The resolved file if ``path`` is a servable file inside the evidence folder."""
        if not path or "\x00" in str(path):
            return None
        try:
            resolved = (self.root / path).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            return None
        if resolved.suffix.lower() not in MEDIA_TYPES or not resolved.is_file():
            return None
        return resolved

    def url(self, path: str | None) -> str | None:
        """``/evidence/<relative path>`` for a file inside the folder (else None)."""
        resolved = self.inside(path)
        if resolved is None:
            return None
        return "/evidence/" + quote(resolved.relative_to(self.root).as_posix())

    def response(self, path: str | Path, what: str) -> FileResponse:
        resolved = self.inside(path)
        if resolved is None:
            raise HTTPException(404, f"{what} is missing")
        return FileResponse(resolved, media_type=MEDIA_TYPES[resolved.suffix.lower()])

    def response_for_relative(self, relative: str) -> FileResponse:
        """A file named relative to the folder; absolute paths and ``..`` never leave it."""
        if relative.startswith(("/", "\\")) or "\\" in relative:
            logger.warning("refused evidence path %r", relative[:200])
            raise HTTPException(404, "no such evidence file")
        resolved = self.inside(relative)
        if resolved is None:
            raise HTTPException(404, "no such evidence file")
        return FileResponse(resolved, media_type=MEDIA_TYPES[resolved.suffix.lower()])
