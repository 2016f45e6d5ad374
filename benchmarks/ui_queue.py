"""How long the review UI takes with a big store: 10,000 events and 10,000 cases.

Fills a temporary store (events in the SQLite queue, cases with their history in the case
database, statuses spread like a working dispatch centre), then times each page through the
real app in-process (routing, queries, Jinja rendering; no network). A second store holds the
10,000 events with no cases yet (the case service not running), where the queue page lists raw
events. Prints median and p95 milliseconds per page. Usage:
    python benchmarks/ui_queue.py [--events 10000] [--repeat 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from service.cases.routing import Router  # noqa: E402
from service.cases.store import CaseEventRow, CaseRow, CaseStore, TransitionRow  # noqa: E402
from service.config import Config, load_config  # noqa: E402
from service.queue.sqlite import SqliteEventQueue  # noqa: E402
from service.web.app import create_app  # noqa: E402
from vision.types import Event, utc_iso  # noqa: E402

CAMERAS = 20
TYPES = ("crowding", "garbage", "street_vending", "missing_helmet", "waterlogging")
# status -> (share, actions after create)
STATUSES = {
    "new": (0.30, []),
    "reopened": (0.05, ["confirm", "dispatch", "resolve", "reopen"]),
    "confirmed": (0.10, ["confirm"]),
    "rejected": (0.15, ["reject"]),
    "dispatched": (0.10, ["confirm", "dispatch"]),
    "handling": (0.05, ["confirm", "dispatch", "handle"]),
    "resolved": (0.05, ["confirm", "dispatch", "handle", "resolve"]),
    "closed": (0.20, ["confirm", "dispatch", "handle", "resolve", "close"]),
}


def make_config(folder: Path) -> Config:
    zone = {
        "name": "z",
        "polygon": [[0, 0], [768, 0], [768, 576], [0, 576]],
        "rules": {"crowding": {}},
    }
    raw = {
        "data_dir": "data",
        "timezone": "Asia/Shanghai",
        "cameras": [
            {"id": f"cam-{i:02d}", "url": "x.mp4", "zones": [zone]} for i in range(CAMERAS)
        ],
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


def snapshots(config: Config) -> list[str]:
    """One real JPEG per camera (the queue page renders 50 cards; files are shared)."""
    paths = []
    rng = np.random.default_rng(0)
    for i in range(CAMERAS):
        path = config.evidence_path / f"cam-{i:02d}" / "snapshot.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 255, (576, 768, 3), dtype=np.uint8)
        cv2.imwrite(str(path), cv2.GaussianBlur(image, (31, 31), 0))
        paths.append(str(path))
    return paths


def events(n: int, files: list[str], now: datetime) -> list[Event]:
    out = []
    for i in range(n):
        seen = now - timedelta(seconds=(n - i) * 30)
        out.append(
            Event(
                id=f"ev{i:06d}",
                type=TYPES[i % len(TYPES)],
                camera_id=f"cam-{i % CAMERAS:02d}",
                zone="z",
                video_t0=0,
                video_t1=30,
                first_seen=utc_iso(seen),
                last_seen=utc_iso(seen + timedelta(seconds=20)),
                score=0.5 + (i % 50) / 100,
                boxes=[[100, 100, 160, 260], [300, 120, 360, 280]],
                count=2,
                observations=10,
                snapshot=files[i % CAMERAS],
            )
        )
    return out


def fill_cases(config: Config, items: list[Event], now: datetime) -> None:
    """Cases in bulk (SQLAlchemy core): one per event, statuses spread as in STATUSES."""
    store = CaseStore(config.cases_url)
    router = Router()
    cases, links, history = [], [], []
    names = list(STATUSES)
    weights = np.array([STATUSES[s][0] for s in names])
    rng = np.random.default_rng(1)
    picks = rng.choice(len(names), size=len(items), p=weights / weights.sum())
    for event, pick in zip(items, picks, strict=True):
        status = names[pick]
        created = datetime.fromisoformat(event.first_seen.replace("Z", "+00:00"))
        case_id = uuid.uuid4().hex[:12]
        cases.append(
            dict(
                id=case_id,
                type=event.type,
                camera_id=event.camera_id,
                zone=event.zone,
                status=status,
                department=router.route(event.type).department,
                severity=router.route(event.type).severity,
                created_at=created,
                updated_at=created,
                deadline=created + router.deadline(event.type),
                first_seen=event.first_seen,
                last_seen=event.last_seen,
                escalation_level=0,
                closed_at=created + timedelta(hours=2) if status == "closed" else None,
            )
        )
        links.append(
            dict(
                event_id=event.id,
                case_id=case_id,
                camera_id=event.camera_id,
                added_at=created,
                payload=json.loads(event.model_dump_json()),
            )
        )
        before = "new"
        steps = [("create", None, "new"), *[(a, None, None) for a in STATUSES[status][1]]]
        targets = {
            "confirm": "confirmed",
            "reject": "rejected",
            "dispatch": "dispatched",
            "handle": "handling",
            "resolve": "resolved",
            "close": "closed",
            "reopen": "reopened",
        }
        for k, (action, _, _) in enumerate(steps):
            after = "new" if action == "create" else targets[action]
            history.append(
                dict(
                    case_id=case_id,
                    action=action,
                    from_status=None if k == 0 else before,
                    to_status=after,
                    actor="bench",
                    reason="",
                    at=created + timedelta(minutes=k),
                )
            )
            before = after
    with store.engine.begin() as db:
        db.execute(CaseRow.__table__.insert(), cases)
        db.execute(CaseEventRow.__table__.insert(), links)
        db.execute(TransitionRow.__table__.insert(), history)
    store.engine.dispose()


def time_page(client: TestClient, path: str, repeat: int) -> tuple[float, float, int]:
    for _ in range(2):  # warm up
        reply = client.get(path)
        assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        reply = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, len(reply.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    now = datetime.now(UTC)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for store_kind in ("cases", "events only"):
            folder = Path(tmp) / store_kind.replace(" ", "-")
            folder.mkdir()
            config = make_config(folder)
            items = events(args.events, snapshots(config), now)
            started = time.perf_counter()
            queue = SqliteEventQueue(config.queue_url)
            for event in items:
                queue.post(event)
            if store_kind == "cases":
                fill_cases(config, items, now)
            fill_s = time.perf_counter() - started
            client = TestClient(create_app(config, environ={}))
            review = client.get("/cases?status=new&limit=1").json()["total"]
            pages = [
                ("/", f"review queue, first 50 of {review} to review"),
                ("/?status=all&offset=5000", "all cases, page 101"),
                ("/?type=garbage&camera=cam-05&period=7d", "filtered by type, camera, time"),
                ("/ui/dashboard", "dashboard (funnel, precision, events per hour)"),
                ("/cases?limit=50", "GET /cases (JSON, 50)"),
            ]
            if store_kind == "events only":
                pages = [("/", "review queue, newest 50 events (no cases)")]
            for path, what in pages:
                median, p95, size = time_page(client, path, args.repeat)
                rows.append(
                    dict(
                        store=store_kind,
                        page=path,
                        what=what,
                        median_ms=round(median, 1),
                        p95_ms=round(p95, 1),
                        kib=round(size / 1024, 1),
                        fill_s=round(fill_s, 1),
                    )
                )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"review UI with {args.events} events ({CAMERAS} cameras), {args.repeat} requests each")
    print(f"{'store':12} {'page':42} {'median ms':>10} {'p95 ms':>8} {'KiB':>7}  what")
    for row in rows:
        print(
            f"{row['store']:12} {row['page']:42} {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f} "
            f"{row['kib']:>7.1f}  {row['what']}"
        )


if __name__ == "__main__":
    main()
