"""The demo's clip: ../shared/media/vtest.avi when present, else fetched once from Debian's
``opencv-doc`` package (``apt-get download``) into the cache."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from models.files import cache_dir, shared_dir

logger = logging.getLogger(__name__)

DEMO_CLIP = "vtest.avi"
DEB_PACKAGE = "opencv-doc"
DEB_MEMBER = "./usr/share/doc/opencv-doc/examples/data/vtest.avi"


class AssetError(Exception):
    """A demo asset could not be found or fetched."""


def demo_clip() -> Path:
    shared = shared_dir() / "media" / DEMO_CLIP
    if shared.is_file():
        return shared
    cached = cache_dir() / "media" / DEMO_CLIP
    if cached.is_file():
        return cached
    return fetch_from_deb(DEB_PACKAGE, DEB_MEMBER, cached)


def fetch_from_deb(package: str, member: str, target: Path) -> Path:
    """``apt-get download`` a Debian package and extract one file of it to ``target``."""
    for tool in ("apt-get", "dpkg-deb", "tar"):
        if shutil.which(tool) is None:
            raise AssetError(f"cannot fetch {package}: `{tool}` is not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("fetching %s from Debian's %s package", target.name, package)
    with tempfile.TemporaryDirectory(prefix="streetwatch-deb-") as tmp:
        done = subprocess.run(
            ["apt-get", "download", package], cwd=tmp, capture_output=True, text=True, timeout=900
        )
        debs = sorted(Path(tmp).glob(f"{package}_*.deb"))
        if done.returncode != 0 or not debs:
            reason = (done.stderr.strip().splitlines() or ["no package downloaded"])[-1]
            raise AssetError(f"apt-get download {package} failed: {reason} (run apt-get update?)")
        unpack = subprocess.run(
            f"dpkg-deb --fsys-tarfile '{debs[0]}' | tar -x -C '{tmp}' '{member}'",
            shell=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        extracted = Path(tmp) / member
        if unpack.returncode != 0 or not extracted.is_file():
            raise AssetError(f"{debs[0].name} has no {member}: {unpack.stderr.strip()}")
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(extracted, partial)
        partial.replace(target)
    return target
