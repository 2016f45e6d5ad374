"""One worker, N live cameras from the local RTSP server, for a while: what it sustains.

Serves real clips from ../shared/media (1080p shopping street and 576p PETS campus, alternating)
as endless live cameras on 127.0.0.1, runs one LiveWorker with the real person detector and
the crowding rule at the analysis rate, and prints per camera: frames analysed vs. asked,
latest-frame age, decoder restarts, decoder CPU share; then the worker's CPU and memory. With
``--compare`` it runs a second, shorter phase decoding every frame (fps filter) instead of
keyframes only, to compare decoder CPU per camera.

    python benchmarks/live_cameras.py --cameras 8 --duration 300 --compare 90
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import mean

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

import yaml  # noqa: E402

from models.files import shared_dir  # noqa: E402
from models.loader import load_detector  # noqa: E402
from service.config import load_config  # noqa: E402
from service.edge.worker import LiveWorker  # noqa: E402
from streams.testing.rtsp import RtspTestServer, encode_clip  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(
    server: RtspTestServer,
    mounts: list[str],
    detector,
    seconds: float,
    fps: float,
    sampling: str,
    workdir: Path,
) -> dict:
    cameras = []
    for i, mount in enumerate(mounts):
        cameras.append(
            {
                "id": f"cam{i + 1:02d}-{mount}",
                "url": server.url(mount),
                "analysis_fps": fps,
                "sampling": sampling,
                "gop_s": 1.0,
                "zones": [
                    {
                        "name": "all",
                        "polygon": [[0, 0], [4000, 0], [4000, 3000], [0, 3000]],
                        "rules": {"crowding": {"min_people": 8, "min_duration_s": 10}},
                    }
                ],
            }
        )
    config_path = workdir / f"{sampling}.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(workdir / sampling),
                "cameras": cameras,
                "live": {"clips": True, "offline_event_after_s": 60},
            }
        )
    )
    config = load_config(config_path)
    worker = LiveWorker(config, detector)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    rss_start = rss_mb()
    cpu_start = own_cpu_s()
    started = time.monotonic()
    thread.start()
    decoder_cpu: dict[str, dict[int, float]] = {c["id"]: {} for c in cameras}
    ages: dict[str, list[float]] = {c["id"]: [] for c in cameras}
    rss_peak = rss_start
    while time.monotonic() - started < seconds:
        time.sleep(1.0)
        for camera_id, source in worker.sources.items():
            pid = source.decoder_pid
            if pid:
                cpu = proc_cpu_s(pid)
                if cpu is not None:
                    decoder_cpu[camera_id][pid] = cpu
            age = source.health().last_frame_age_s
            if age is not None:
                ages[camera_id].append(age)
        rss_peak = max(rss_peak, rss_mb())
        elapsed = time.monotonic() - started
        if int(elapsed) % 30 == 0:
            done = sum(worker.frames_analysed().values())
            print(f"  [{sampling}] {elapsed:5.0f}s  {done} frames analysed", file=sys.stderr)
    wall = time.monotonic() - started
    healths = {cid: s.health() for cid, s in worker.sources.items()}
    analysed = worker.frames_analysed()
    stop.set()
    thread.join(timeout=60)
    worker_cpu = own_cpu_s() - cpu_start
    rows = []
    for camera in cameras:
        cid = camera["id"]
        rows.append(
            {
                "camera": cid,
                "analysed": analysed[cid],
                "achieved_fps": analysed[cid] / wall,
                "asked_fps": fps,
                "frames_in": healths[cid].frames_in,
                "dropped": healths[cid].frames_dropped,
                "restarts": healths[cid].restarts,
                "age_mean_s": mean(ages[cid]) if ages[cid] else None,
                "age_max_s": max(ages[cid]) if ages[cid] else None,
                "decoder_cpu_share": sum(decoder_cpu[cid].values()) / wall,
            }
        )
    return {
        "sampling": sampling,
        "cameras": len(cameras),
        "seconds": round(wall, 1),
        "rows": rows,
        "worker_cpu_share": worker_cpu / wall,
        "detect_s": worker.detect_s,
        "batches": worker.batches,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_mb(),
        "rss_peak_mb": rss_peak,
    }


def print_phase(phase: dict) -> None:
    print(
        f"\n{phase['cameras']} cameras, {phase['sampling']} decoding, {phase['seconds']:.0f} s, "
        f"{os.cpu_count()} CPUs"
    )
    header = (
        f"{'camera':18} {'analysed':>8} {'fps got/asked':>14} {'decoded':>8} {'dropped':>8} "
        f"{'restarts':>8} {'age mean s':>10} {'age max s':>9} {'decoder CPU':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in phase["rows"]:
        print(
            f"{r['camera']:18} {r['analysed']:>8} "
            f"{r['achieved_fps']:>8.2f}/{r['asked_fps']:<5g} {r['frames_in']:>8} "
            f"{r['dropped']:>8} {r['restarts']:>8} {r['age_mean_s'] or 0:>10.2f} "
            f"{r['age_max_s'] or 0:>9.2f} {100 * r['decoder_cpu_share']:>10.1f}%"
        )
    total_decoder = sum(r["decoder_cpu_share"] for r in phase["rows"])
    frames = sum(r["analysed"] for r in phase["rows"])
    detect_ms = 1000 * phase["detect_s"] / max(frames, 1)
    print(
        f"decoders {100 * total_decoder:.0f}% CPU in all "
        f"({100 * total_decoder / phase['cameras']:.1f}% per camera); worker (detect + rules) "
        f"{100 * phase['worker_cpu_share']:.0f}% CPU; detect {detect_ms:.1f} ms/frame "
        f"in {phase['batches']} batches; "
        f"RSS {phase['rss_start_mb']:.0f} -> "
        f"{phase['rss_end_mb']:.0f} MB (peak {phase['rss_peak_mb']:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds, keyframe phase")
    parser.add_argument("--compare", type=float, default=0.0, help="seconds of decode-all phase")
    parser.add_argument("--fps", type=float, default=1.0, help="analysis fps per camera")
    parser.add_argument("--model", default="yolox-nano-coco")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    media = shared_dir() / "media"
    with tempfile.TemporaryDirectory(prefix="streetwatch-live-bench-") as tmp:
        workdir = Path(tmp)
        clips = {
            "street": (
                encode_clip(media / "pedestrians_street.mp4", workdir / "s.h264", gop=25),
                25.0,
            ),
            "vtest": (encode_clip(media / "vtest.avi", workdir / "v.h264", gop=10), 10.0),
        }
        mounts = [("street", "vtest")[i % 2] for i in range(args.cameras)]
        detector = load_detector(args.model, threads=None)
        phases = []
        with RtspTestServer(clips) as server:
            phases.append(
                run_phase(server, mounts, detector, args.duration, args.fps, "keyframes", workdir)
            )
            if args.compare:
                phases.append(
                    run_phase(server, mounts, detector, args.compare, args.fps, "fps", workdir)
                )
    for phase in phases:
        print_phase(phase)
    if args.json:
        print(json.dumps(phases))


if __name__ == "__main__":
    main()
