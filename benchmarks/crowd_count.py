"""People counting in dense scenes: MAE, MAE %, bias and seconds per frame of every counter
variant (vision/counting.py) on a points-annotated crowd folder (models/eval_count.py).

Usage:
    bash ../shared/data/crowd-mall/to_folder.sh /tmp/crowd-mall
    python benchmarks/crowd_count.py /tmp/crowd-mall [--step 5] [--split 250] [--also DIR]
        [--cache DIR] [--quick] [--json OUT]

Frames ``[0, split)`` are the val split, ``[split, end)`` the test split, every ``step``-th of
each. Each counter's score threshold (and, for fusions, the pair of thresholds) is picked on
val by lowest MAE; the table reports val at that pick and test, never picking on test.
Every detector runs once per frame at a low confidence (0.05) and its boxes are memoised, so a
threshold sweep costs no inference; seconds per frame are those of that one run (wall, this
machine, detectors only; a fusion costs the sum of its two). ``--also DIR`` counts a second
points folder (another domain) with the thresholds picked on val. "test P/R" checks that the
counted people are people (see ``localise``): a count can be right on average because misses
and false boxes balance.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from models.eval_count import CountResult, evaluate_count, image_names, read_points  # noqa: E402
from models.loader import load_detector  # noqa: E402
from vision.counting import (  # noqa: E402
    BodyCounter,
    FusionCounter,
    HeadCounter,
    PeopleCounter,
    ScaledTiledDetector,
    head_region,
)
from vision.detectors.base import Detector  # noqa: E402
from vision.tiling import TiledDetector  # noqa: E402
from vision.types import Detections  # noqa: E402

LOW_CONF = 0.05
RULE_MIN_SCORE = 0.35
"""The crowding rule's default min_score: what a zone counts today."""
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


class Memo:
    """A Detector that runs ``detector`` once per distinct image and replays its boxes after;
    ``seconds`` holds the wall time of each first run, by image digest."""

    def __init__(self, detector: Detector, name: str) -> None:
        self.detector = detector
        self.name = name
        self.labels = detector.labels
        self.cache: dict[str, Detections] = {}
        self.seconds: dict[str, float] = {}

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        out = []
        for image in images:
            key = digest(image)
            if key not in self.cache:
                began = time.perf_counter()
                self.cache[key] = self.detector.detect([image])[0]
                self.seconds[key] = time.perf_counter() - began
            out.append(self.cache[key])
        return out

    def load(self, folder: Path) -> None:
        path = folder / f"{self.name}.pkl"
        if path.is_file():
            raw, self.seconds = pickle.loads(path.read_bytes())
            self.cache = {k: Detections(*v) for k, v in raw.items()}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        raw = {k: (d.xyxy, d.label, d.score) for k, d in self.cache.items()}
        (folder / f"{self.name}.pkl").write_bytes(pickle.dumps((raw, self.seconds)))

    def mean_seconds(self, keys: set[str]) -> float:
        """Mean seconds of a first run over the images whose digests are ``keys``."""
        found = [s for k, s in self.seconds.items() if k in keys]
        return float(np.mean(found)) if found else 0.0


def digest(image: np.ndarray) -> str:
    return hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest()


def digests(folder: Path, names: Sequence[str] | None = None) -> set[str]:
    """Memo keys of a folder's images (as evaluate_count reads them)."""
    names = image_names(folder) if names is None else names
    paths = [next((folder / "images").glob(f"{n}.*")) for n in names]
    return {digest(cv2.imread(str(p), cv2.IMREAD_COLOR)) for p in paths}


def detectors(quick: bool) -> tuple[dict[str, Memo], dict[str, Memo]]:
    """Body and head detectors by variant name, all at LOW_CONF."""
    yolox = load_detector("yolox-nano-coco", conf=LOW_CONF)
    helmet = load_detector("helmet", conf=LOW_CONF)
    bodies = {
        "yolox whole": yolox,
        "yolox tiles 320": TiledDetector(yolox, tile_size=320, overlap=64),
        "yolox tiles 256": TiledDetector(yolox, tile_size=256, overlap=48),
        "yolox tiles 0.4w": ScaledTiledDetector(yolox, fraction=0.4),
        "yolox tiles 0.5w": ScaledTiledDetector(yolox, fraction=0.5),
        "yolox tiles 0.4w merged": ScaledTiledDetector(yolox, fraction=0.4, edge_iou=0.5),
    }
    heads = {
        "helmet whole": helmet,
        "helmet tiles 320": TiledDetector(helmet, tile_size=320, overlap=64),
        "helmet tiles 208": TiledDetector(helmet, tile_size=208, overlap=40),
    }
    if not quick:
        fall = load_detector("fall-person-yolov8", conf=LOW_CONF)
        bodies["yolov8-person whole"] = fall
        bodies["yolov8-person tiles 320"] = TiledDetector(fall, tile_size=320, overlap=64)
        bodies["yolov8-person tiles 0.5w"] = ScaledTiledDetector(fall, fraction=0.5)
    return (
        {name: Memo(d, name) for name, d in bodies.items()},
        {name: Memo(d, name) for name, d in heads.items()},
    )


def localise(counter: PeopleCounter, folder: Path, names: Sequence[str]) -> tuple[float, float]:
    """(precision, recall) of the counted people against the head points: a point is found by
    a body whose ``head_region`` (top 35%, margin 25%) holds it, or by a head box within its
    size of it; one-to-one, nearest first. A rough check that counts are people, not a
    balance of misses and false boxes."""
    found = counted = truth = 0
    for name in names:
        path = next((folder / "images").glob(f"{name}.*"))
        people = counter.locate(cv2.imread(str(path), cv2.IMREAD_COLOR))
        points = read_points(folder / "points" / f"{name}.txt")
        counted, truth = counted + len(people), truth + len(points)
        if not len(people) or not len(points):
            continue
        region = head_region(people.boxes, 0.35, 0.25)
        heads = people.kinds == "head"
        centre = (people.boxes[:, :2] + people.boxes[:, 2:]) / 2
        side = (people.boxes[:, 2:] - people.boxes[:, :2]).max(axis=1)[:, None]
        region[heads] = np.concatenate([centre - side, centre + side], axis=1)[heads]
        x, y = points[:, :1], points[:, 1:]
        inside = (
            (x >= region[:, 0]) & (x <= region[:, 2]) & (y >= region[:, 1]) & (y <= region[:, 3])
        )
        middle = (region[:, :2] + region[:, 2:]) / 2
        distance = np.where(inside, np.hypot(x - middle[:, 0], y - middle[:, 1]), np.inf)
        used_point, used_person = np.zeros(len(points), bool), np.zeros(len(people), bool)
        for flat in np.argsort(distance, axis=None, kind="stable"):
            i, j = divmod(int(flat), len(people))
            if not np.isfinite(distance[i, j]):
                break
            if not (used_point[i] or used_person[j]):
                used_point[i] = used_person[j] = True
                found += 1
    return (found / counted if counted else 0.0), (found / truth if truth else 0.0)


def pick(
    make: Callable[..., object], grid: Sequence[tuple], data: Path, names: list[str]
) -> tuple[tuple, CountResult]:
    """The grid point with the lowest MAE on ``names`` (ties: the first), and its result."""
    best: tuple[tuple, CountResult] | None = None
    for point in grid:
        result = evaluate_count(data, make(*point), names=names)
        if best is None or result.mae < best[1].mae - 1e-9:
            best = (point, result)
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="points folder (images/, points/)")
    parser.add_argument("--step", type=int, default=5, help="every N-th frame (default 5)")
    parser.add_argument("--split", type=int, default=250, help="first test frame index")
    parser.add_argument(
        "--dense",
        type=int,
        default=35,
        help="test frames with at least this many people are also scored alone (default 35)",
    )
    parser.add_argument(
        "--also",
        type=Path,
        help="a second points folder (another domain), "
        "counted whole with the thresholds picked on val",
    )
    parser.add_argument("--quick", action="store_true", help="no fall-person-yolov8 variants")
    parser.add_argument("--cache", type=Path, help="keep detections here between runs")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args(argv)

    names = image_names(args.data)
    val = names[: args.split][:: args.step]
    test = names[args.split :][:: args.step]
    print(
        f"{args.data}: val {val[0]}..{val[-1]} ({len(val)} frames), "
        f"test {test[0]}..{test[-1]} ({len(test)} frames), every {args.step}th",
        flush=True,
    )
    bodies, heads = detectors(args.quick)
    if args.cache:
        for memo in (*bodies.values(), *heads.values()):
            memo.load(args.cache)
    rows = []
    header = (
        "| counter | thr | val MAE | val MAE% | val bias | test MAE | test MAE% | test bias "
        f"| test MAE% (>= {args.dense}) | test P/R | s/frame |"
    )
    keys = digests(args.data, val + test)
    if args.also:
        header += f" {args.also.name} MAE | MAE% | bias | s/frame |"
        also_keys = digests(args.also)
    print(header + "\n" + "|---" * (header.count("|") - 1) + "|", flush=True)

    def report(name: str, setting: str, counter: object, v: CountResult, memos: list[Memo]) -> None:
        t = evaluate_count(args.data, counter, names=test)
        seconds = sum(m.mean_seconds(keys) for m in memos)
        precision, recall = localise(counter, args.data, test)
        dense = CountResult(tuple(i for i in t.images if i.true >= args.dense))
        row = {
            "counter": name,
            "threshold": setting,
            "val": v.summary(),
            "test": t.summary(),
            "test_dense": dense.summary(),
            "test_precision": round(precision, 3),
            "test_recall": round(recall, 3),
            "seconds_per_frame": round(seconds, 3),
        }
        line = (
            f"| {name} | {setting} | {v.mae:.2f} | {v.mae_percent:.1f} | {v.bias:+.2f} | "
            f"{t.mae:.2f} | {t.mae_percent:.1f} | {t.bias:+.2f} | {dense.mae_percent:.1f} "
            f"({len(dense)}) | {precision:.2f}/{recall:.2f} | {seconds:.3f} |"
        )
        if args.also:
            o = evaluate_count(args.also, counter)
            row["also"] = o.summary() | {
                "per_image": [(i.name, i.true, i.predicted) for i in o.images]
            }
            also_seconds = sum(m.mean_seconds(also_keys) for m in memos)
            row["also_seconds_per_frame"] = round(also_seconds, 3)
            line += f" {o.mae:.2f} | {o.mae_percent:.1f} | {o.bias:+.2f} | {also_seconds:.3f} |"
        rows.append(row)
        print(line, flush=True)

    singles: dict[str, float] = {}
    for kind, pool, make in (("body", bodies, BodyCounter), ("head", heads, HeadCounter)):
        for name, memo in pool.items():
            if kind == "body":  # what the crowding rule counts today: its min_score 0.35
                counter = make(memo, RULE_MIN_SCORE)
                v = evaluate_count(args.data, counter, names=val)
                report(f"{kind}: {name}", f"{RULE_MIN_SCORE:g} (rule)", counter, v, [memo])
            (thr,), v = pick(
                lambda t, memo=memo, make=make: make(memo, t), [(t,) for t in THRESHOLDS],
                args.data, val,
            )  # fmt: skip
            singles[name] = v.mae
            report(f"{kind}: {name}", f"{thr:g}", make(memo, thr), v, [memo])
            if args.cache:
                memo.save(args.cache)

    best_bodies = sorted(bodies, key=singles.get)[:2]
    best_heads = sorted(heads, key=singles.get)[:2]
    for mode, body, head in itertools.product(("max", "union"), best_bodies, best_heads):
        b, h = bodies[body], heads[head]
        (tb, th), v = pick(
            lambda x, y, b=b, h=h, mode=mode: FusionCounter(
                BodyCounter(b, x), HeadCounter(h, y), mode
            ),
            list(itertools.product(THRESHOLDS, THRESHOLDS)),
            args.data,
            val,
        )
        counter = FusionCounter(BodyCounter(b, tb), HeadCounter(h, th), mode)
        report(f"{mode}({body}, {head})", f"{tb:g}/{th:g}", counter, v, [b, h])
    if args.cache:
        for memo in (*bodies.values(), *heads.values()):
            memo.save(args.cache)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
