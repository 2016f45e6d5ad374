"""Evidence clips from a camera's ring of encoded segments.

The live decoder copies the camera's encoded stream (no decoding) into ``seg000.ts`` ...
``segNNN.ts``, wrapping around, so the last ``segment_s * segment_count`` seconds are always on
disk. ``export_clip`` joins the segments that cover a time window into one MP4, again without
re-encoding.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from streams.ffmpeg_tools import ffmpeg_binary

logger = logging.getLogger(__name__)


def segments_between(
    segment_dir: Path, start: datetime, end: datetime, segment_s: float
) -> list[Path]:
    """Finished segments overlapping [start, end], oldest first (a segment spans about
    ``segment_s`` seconds before its last write)."""
    chosen = []
    for path in segment_dir.glob("seg*.ts"):
        try:
            finished = path.stat().st_mtime
        except FileNotFoundError:
            continue
        began = finished - segment_s * 1.5
        if finished >= start.timestamp() and began <= end.timestamp():
            chosen.append((finished, path))
    return [path for _, path in sorted(chosen)]


def export_clip(
    segment_dir: Path, start: datetime, end: datetime, target: Path, segment_s: float
) -> Path | None:
    """Write the MP4 covering [start, end] to ``target``; None when no segment covers it."""
    segments = segments_between(segment_dir, start, end, segment_s)
    if not segments:
        logger.warning("no recorded segments in %s cover %s..%s", segment_dir, start, end)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="streetwatch-clip-") as tmp:
        listing = Path(tmp) / "segments.txt"
        copies = []
        for i, segment in enumerate(segments):  # copy first: the ring overwrites them in place
            copy = Path(tmp) / f"{i:03d}.ts"
            try:
                copy.write_bytes(segment.read_bytes())
            except FileNotFoundError:
                continue
            copies.append(copy)
        listing.write_text("".join(f"file '{c}'\n" for c in copies))
        partial = target.with_name(target.stem + ".part.mp4")
        done = subprocess.run(
            [
                ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                "-f", "concat", "-safe", "0", "-i", str(listing),
                "-c", "copy", "-movflags", "+faststart", str(partial),
            ],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0 or not partial.is_file():
            logger.error("clip %s failed: %s", target, done.stderr.strip()[-300:])
            partial.unlink(missing_ok=True)
            return None
        partial.replace(target)
    return target
