"""CPU seconds of this process's threads, grouped by pipeline stage (Linux ``/proc``).

The worker's stages run at the same time on different threads (frames are converted while a
batch is detected and the last batch's rules run), so process CPU measured around one stage
counts the others too. Per-thread counters do not:

- ``readers``: the frame reader threads (pipe reads, I420 -> BGR; the ffmpeg decoders are
  separate processes, measured from their own ``/proc/<pid>/stat``);
- ``rules``: the rules thread (rules, dedup, evidence, queue);
- ``native``: threads Python did not start (OpenVINO's inference streams, OpenCV's pool) and
  the OpenVINO request lanes (``ov-*``): inference, plus the small share of OpenCV work that
  other stages hand to its pool;
- ``python``: every other Python thread (the worker loop, clips, spool, health).

Threads that ended between two readings take their CPU with them (a restarted decoder's reader).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
STAGES = ("readers", "rules", "native", "python")


def stage_of(name: str | None) -> str:
    if name is None or name.startswith("ov-"):
        return "native"
    if name.startswith("reader-"):
        return "readers"
    if name.startswith("rules"):
        return "rules"
    return "python"


def threads_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) of this process's live threads, by stage."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    totals: Counter[str] = Counter({stage: 0.0 for stage in STAGES})
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        totals[stage_of(names.get(int(task.name)))] += cpu
    return dict(totals)
