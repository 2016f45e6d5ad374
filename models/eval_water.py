"""Evaluate (and train the head of) the water segmenter on folders of labelled street photos.

A data folder holds ``flooding/`` and ``normal/`` images (the folder is the label), like
../shared/data/flood-street/train and val. ``evaluate_water`` scores each image's road zone
(default: the lower half of the frame) with ``WaterSegmenter`` and reports precision, recall
and F1 of "flooded" at a threshold; ``false_alarms`` does the same for a folder of negatives
only (hard negatives: rain-wet roads); ``fit_water_head`` trains the logistic head over pooled
class probabilities and picks its threshold by repeated cross-validation on the training data
alone. Figures and the recipe: models/cards/water.md. Reproduce with ``python -m
models.eval_water --help``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.files import shared_dir
from vision.detectors.water_segmenter import (
    MIN_SCALE,
    MODEL_SHA256,
    NUM_CLASSES,
    Polygon,
    WaterHead,
    WaterSegmenter,
)

logger = logging.getLogger(__name__)

HEAD_FILE = Path(__file__).with_name("weights") / "water_head.json"
MODEL_NAME = "models/deeplabv3_mnv2_ade20k.tflite"
"""The segmentation model, under the shared folder."""
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
CLASSES = ("flooding", "normal")
Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each batch of images."""


class WaterEvalError(Exception):
    """The data cannot be evaluated: a missing or empty folder, an unreadable image, a zone
    outside the frame."""


@dataclass(frozen=True)
class ImageScore:
    path: str
    flooded: bool
    """The label (the image's folder)."""
    share: float
    """Mean water probability over the zone."""
    score: float
    """The flood score the threshold applies to (the head's probability, or ``share``)."""
    predicted: bool


@dataclass(frozen=True)
class WaterEvalResult:
    """Precision, recall and F1 of "flooded" on one folder, and each image's figures."""

    data_dir: str
    threshold: float
    scored_by: str
    """``head`` (the logistic head's probability) or ``share`` (the zone's water share)."""
    zone: list[list[float]] | None
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int
    images: list[ImageScore] = field(default_factory=list)
    seconds_per_image: float = 0.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of the negatives reported as flooded."""
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "data": self.data_dir,
            "threshold": round(self.threshold, 4),
            "scored_by": self.scored_by,
            "zone": self.zone,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "seconds_per_image": round(self.seconds_per_image, 4),
        }


@dataclass(frozen=True)
class Measured:
    """What one image's zone gives the head: its water share and its pooled class
    probabilities (zone, then whole frame)."""

    path: Path
    share: float
    zone_probs: np.ndarray
    frame_probs: np.ndarray


def images_in(folder: Path) -> list[Path]:
    """The image files of ``folder`` (sorted); a WaterEvalError if it is missing or empty."""
    if not folder.is_dir():
        raise WaterEvalError(f"{folder}: no such folder")
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise WaterEvalError(
            f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the folder"
        )
    return found


def labelled_images(data_dir: str | Path) -> list[tuple[Path, bool]]:
    """(image, flooded) for every image of ``data_dir``'s ``flooding/`` and ``normal/``."""
    root = Path(data_dir)
    if not root.is_dir():
        raise WaterEvalError(f"{root}: no such data folder (it should hold flooding/ and normal/)")
    missing = [name for name in CLASSES if not (root / name).is_dir()]
    if missing:
        raise WaterEvalError(
            f"{root}: no {' or '.join(m + '/' for m in missing)} folder (a water data folder "
            "holds flooding/ and normal/ images)"
        )
    return [(p, True) for p in images_in(root / "flooding")] + [
        (p, False) for p in images_in(root / "normal")
    ]


def default_segmenter(
    head: str | Path | WaterHead | None = HEAD_FILE, fit: str = "letterbox"
) -> WaterSegmenter:
    """The segmenter on the shared DeepLabV3 model, with the shipped head (None: none)."""
    return WaterSegmenter(shared_dir() / MODEL_NAME, head=head, sha256=MODEL_SHA256, fit=fit)


def measure(
    segmenter: WaterSegmenter,
    paths: Sequence[Path],
    zone: Polygon | None = None,
    *,
    batch: int = 4,
    progress: Progress | None = None,
) -> list[Measured]:
    """Each image's zone water share and pooled class probabilities (batches of ``batch``)."""
    out: list[Measured] = []
    for start in range(0, len(paths), max(1, batch)):
        chunk = paths[start : start + max(1, batch)]
        images = [_read(p) for p in chunk]
        for path, seg in zip(chunk, segmenter.segment(images), strict=True):
            try:
                share = segmenter.zone_share(seg, zone)
                zone_probs, frame_probs = segmenter.pooled(seg, zone)
            except ValueError as exc:
                raise WaterEvalError(f"{path}: {exc}") from None
            out.append(Measured(path, share, zone_probs, frame_probs))
        if progress is not None:
            progress(len(out), len(paths))
    return out


def evaluate_water(
    data_dir: str | Path,
    zone: Polygon | None = None,
    threshold: float | None = None,
    *,
    segmenter: WaterSegmenter | None = None,
    batch: int = 4,
    progress: Progress | None = None,
) -> WaterEvalResult:
    """Score every image of ``data_dir`` (``flooding/`` and ``normal/``) and measure.

    ``zone``: polygon in image pixels (every image; None: the segmenter's default, the lower
    half). ``threshold``: on the flood score (None: the segmenter's, i.e. the head's).
    ``segmenter``: default ``default_segmenter()`` (shared model, shipped head)."""
    labelled = labelled_images(data_dir)
    return _evaluate(str(data_dir), labelled, zone, threshold, segmenter, batch, progress)


def false_alarms(
    image_dir: str | Path,
    zone: Polygon | None = None,
    threshold: float | None = None,
    *,
    half: str | None = None,
    segmenter: WaterSegmenter | None = None,
    batch: int = 4,
    progress: Progress | None = None,
) -> WaterEvalResult:
    """Score a folder of negatives only (e.g. hard_negatives/wet_road): ``false_alarm_rate``
    is what matters. ``half``: ``even`` or ``odd`` takes every second image (sorted by name),
    the split used to train the head on one half and measure on the other."""
    paths = _half(images_in(Path(image_dir)), half)
    labelled = [(p, False) for p in paths]
    return _evaluate(str(image_dir), labelled, zone, threshold, segmenter, batch, progress)


def _evaluate(
    label: str,
    labelled: list[tuple[Path, bool]],
    zone: Polygon | None,
    threshold: float | None,
    segmenter: WaterSegmenter | None,
    batch: int,
    progress: Progress | None,
) -> WaterEvalResult:
    seg = segmenter or default_segmenter()
    cut = seg.threshold if threshold is None else float(threshold)
    started = time.perf_counter()
    measured = measure(seg, [p for p, _ in labelled], zone, batch=batch, progress=progress)
    elapsed = time.perf_counter() - started
    if seg.head is not None:
        features = seg.head.features(
            np.stack([m.zone_probs for m in measured]), np.stack([m.frame_probs for m in measured])
        )
        scores = seg.head.predict(features)
    else:
        scores = np.array([m.share for m in measured])
    records = [
        ImageScore(str(m.path), flooded, round(m.share, 5), round(float(s), 5), bool(s >= cut))
        for m, (_, flooded), s in zip(measured, labelled, scores, strict=True)
    ]
    tp = sum(r.flooded and r.predicted for r in records)
    fp = sum(not r.flooded and r.predicted for r in records)
    fn = sum(r.flooded and not r.predicted for r in records)
    tn = len(records) - tp - fp - fn
    precision, recall, f1 = _prf(tp, fp, fn)
    return WaterEvalResult(
        data_dir=label,
        threshold=cut,
        scored_by="head" if seg.head is not None else "share",
        zone=None if zone is None else np.asarray(zone, float).reshape(-1, 2).tolist(),
        precision=precision,
        recall=recall,
        f1=f1,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        images=records,
        seconds_per_image=elapsed / max(1, len(records)),
    )


# -- training the head ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeadFit:
    """A trained head and how it was chosen (out-of-fold figures at its threshold)."""

    head: WaterHead
    c: float
    cv_f1: float
    """Mean out-of-fold F1 at the chosen threshold (flooding against every negative)."""
    cv_precision: float
    cv_recall: float
    cv_false_alarm_extra: float | None
    """Out-of-fold false-alarm rate on the extra negatives, when there were any."""
    samples: dict[str, int]
    candidates: dict[float, tuple[float, float, float | None]] = field(default_factory=dict)
    """Each tried ``c``: (cv F1, its best threshold, cv false alarms on the extra negatives)."""


C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
F1_TOLERANCE = 0.005
"""``c`` values whose cross-validated F1 is this close to the best count as equally good; the
one quietest on the extra (hard) negatives wins."""


def fit_water_head(
    data_dir: str | Path,
    negatives: Sequence[Path] = (),
    zone: Polygon | None = None,
    *,
    c: float | Sequence[float] = C_GRID,
    folds: int = 5,
    repeats: int = 5,
    segmenter: WaterSegmenter | None = None,
    batch: int = 4,
    progress: Progress | None = None,
) -> HeadFit:
    """Train the logistic head on ``data_dir`` (flooding/ against normal/ plus the extra
    ``negatives`` images), choosing everything on that data alone (never on a validation
    folder), by ``repeats`` x ``folds``-fold stratified cross-validation:

    - for each ``c`` (inverse L2 strength, as scikit-learn's C) the threshold with the best
      mean out-of-fold F1 (flooding against all negatives);
    - the ``c`` with the best F1, or among those within ``F1_TOLERANCE`` of it, the one with
      the fewest out-of-fold false alarms on the extra negatives.
    """
    seg = segmenter or default_segmenter(head=None)
    labelled = labelled_images(data_dir)
    paths = [p for p, _ in labelled] + list(negatives)
    measured = measure(seg, paths, zone, batch=batch, progress=progress)
    probe = WaterHead(
        np.zeros(2 * NUM_CLASSES), np.ones(2 * NUM_CLASSES), np.zeros(2 * NUM_CLASSES), 0.0, 0.5
    )
    x = probe.features(
        np.stack([m.zone_probs for m in measured]), np.stack([m.frame_probs for m in measured])
    )
    y = np.array([float(f) for _, f in labelled] + [0.0] * len(negatives))
    group = np.r_[np.where(y[: len(labelled)] == 1, 0, 1), np.full(len(negatives), 2)]
    if min((group == g).sum() for g in (0, 1)) < folds:
        raise WaterEvalError(f"{data_dir}: too few images for {folds}-fold cross-validation")
    grid = np.round(np.arange(0.02, 0.985, 0.02), 2)
    tried: dict[float, tuple] = {}
    for value in [c] if isinstance(c, int | float) else list(c):
        f1s, precisions, recalls, extra = [], [], [], []
        for rep in range(repeats):
            oof = _out_of_fold(x, y, group, float(value), folds, seed=rep)
            tp = (oof[y == 1][None] >= grid[:, None]).sum(1)
            fp = (oof[y == 0][None] >= grid[:, None]).sum(1)
            p = tp / np.maximum(tp + fp, 1)
            r = tp / max(1, int((y == 1).sum()))
            f1s.append(2 * p * r / np.maximum(p + r, 1e-9))
            precisions.append(p)
            recalls.append(r)
            if len(negatives):
                extra.append((oof[group == 2][None] >= grid[:, None]).mean(1))
        best = int(np.argmax(np.mean(f1s, 0)))
        tried[float(value)] = (
            float(np.mean(f1s, 0)[best]),
            float(grid[best]),
            float(np.mean(precisions, 0)[best]),
            float(np.mean(recalls, 0)[best]),
            float(np.mean(extra, 0)[best]) if extra else None,
        )
    top = max(v[0] for v in tried.values())
    near = [k for k, v in tried.items() if v[0] >= top - F1_TOLERANCE]
    chosen = min(near, key=lambda k: (tried[k][4] or 0.0, -tried[k][0]))
    f1, threshold, precision, recall, false_alarms_extra = tried[chosen]
    mean, scale = x.mean(0), np.maximum(x.std(0), MIN_SCALE)
    probe = WaterHead(mean, scale, np.zeros_like(mean), 0.0, 0.5)
    coef, intercept = _fit_logistic(probe.standardise(x), y, chosen)
    return HeadFit(
        head=WaterHead(mean, scale, coef, intercept, threshold),
        c=chosen,
        cv_f1=f1,
        cv_precision=precision,
        cv_recall=recall,
        cv_false_alarm_extra=false_alarms_extra,
        samples={
            "flooding": int((group == 0).sum()),
            "normal": int((group == 1).sum()),
            "extra_negatives": len(negatives),
        },
        candidates={k: (v[0], v[1], v[4]) for k, v in tried.items()},
    )


def _out_of_fold(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, c: float, folds: int, seed: int
) -> np.ndarray:
    """Out-of-fold probabilities, folds stratified by ``group``."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), int)
    for g in np.unique(group):
        ids = np.flatnonzero(group == g)
        rng.shuffle(ids)
        fold[ids] = np.arange(len(ids)) % folds
    oof = np.empty(len(y))
    for k in range(folds):
        train, test = fold != k, fold == k
        mean, scale = x[train].mean(0), np.maximum(x[train].std(0), MIN_SCALE)
        probe = WaterHead(mean, scale, np.zeros_like(mean), 0.0, 0.5)
        coef, intercept = _fit_logistic(probe.standardise(x[train]), y[train], c)
        fitted = WaterHead(mean, scale, coef, intercept, 0.5)
        oof[test] = fitted.predict(x[test])
    return oof


def _fit_logistic(x: np.ndarray, y: np.ndarray, c: float, iters: int = 100) -> tuple:
    """L2-regularised logistic regression by Newton's method: minimises the summed log loss
    plus ``|w|^2 / (2 c)`` (the intercept is not penalised). (coef, intercept)."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, 1.0 / c)
    penalty[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _half(paths: list[Path], half: str | None) -> list[Path]:
    if half is None:
        return paths
    if half not in {"even", "odd"}:
        raise WaterEvalError(f"half must be even or odd, not {half!r}")
    return paths[0 if half == "even" else 1 :: 2]


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise WaterEvalError(f"{path}: cannot be read as an image")
    return image


# -- reproduce the card's figures ----------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.eval_water", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="precision/recall on a folder with flooding/ and normal/")
    ev.add_argument("data")
    neg = sub.add_parser("negatives", help="false-alarm rate on a folder of negatives")
    neg.add_argument("data")
    neg.add_argument("--half", choices=["even", "odd"])
    for p in (ev, neg):
        p.add_argument("--threshold", type=float)
        p.add_argument("--no-head", action="store_true", help="score by the water share")
        p.add_argument("--head", default=str(HEAD_FILE))
        p.add_argument("--per-image", action="store_true")
        p.add_argument("--fit", choices=["letterbox", "stretch"], default="letterbox")
    fit = sub.add_parser("fit", help="train the head on a train folder")
    fit.add_argument("data")
    fit.add_argument("--negatives", help="a folder of extra negatives (hard negatives)")
    fit.add_argument("--half", choices=["even", "odd"], default="even")
    fit.add_argument(
        "--c",
        default=",".join(str(v) for v in C_GRID),
        help="inverse L2 strengths to try, comma-separated (chosen by cross-validation)",
    )
    fit.add_argument("--out", default=str(HEAD_FILE))
    fit.add_argument("--fit", choices=["letterbox", "stretch"], default="letterbox")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "fit":
        extra = _half(images_in(Path(args.negatives)), args.half) if args.negatives else []
        grid = [float(v) for v in args.c.split(",")]
        segmenter = default_segmenter(head=None, fit=args.fit)
        result = fit_water_head(args.data, extra, c=grid, segmenter=segmenter)
        result.head.save(
            args.out,
            trained_on=str(args.data),
            extra_negatives=f"{args.negatives} ({args.half} half)" if args.negatives else None,
            features="log(mean class probability + eps): 151 in the zone, then 151 over the frame",
            zone="lower half of the frame",
            fit=segmenter.fit,
            c=result.c,
            chosen_by="5 x 5-fold stratified cross-validation on the training data: per c the "
            "threshold of best mean F1 (flooding against all negatives); the c of best F1, or "
            f"within {F1_TOLERANCE} of it the one with the fewest extra-negative false alarms",
            candidates={
                str(k): {
                    "cv_f1": round(v[0], 4),
                    "threshold": v[1],
                    "cv_false_alarm_extra": None if v[2] is None else round(v[2], 4),
                }
                for k, v in result.candidates.items()
            },
            cv_f1=round(result.cv_f1, 4),
            cv_precision=round(result.cv_precision, 4),
            cv_recall=round(result.cv_recall, 4),
            cv_false_alarm_extra=None
            if result.cv_false_alarm_extra is None
            else round(result.cv_false_alarm_extra, 4),
            samples=result.samples,
            model_sha256=MODEL_SHA256,
            written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
        print(
            json.dumps(
                {
                    "out": args.out,
                    "threshold": result.head.threshold,
                    "c": result.c,
                    "cv_f1": round(result.cv_f1, 4),
                    "cv_precision": round(result.cv_precision, 4),
                    "cv_recall": round(result.cv_recall, 4),
                    "cv_false_alarm_extra": None
                    if result.cv_false_alarm_extra is None
                    else round(result.cv_false_alarm_extra, 4),
                    "samples": result.samples,
                }
            )
        )
        return 0
    segmenter = default_segmenter(head=None if args.no_head else args.head, fit=args.fit)
    if args.command == "eval":
        result = evaluate_water(args.data, threshold=args.threshold, segmenter=segmenter)
    else:
        result = false_alarms(
            args.data, threshold=args.threshold, half=args.half, segmenter=segmenter
        )
    body = result.to_json()
    if args.per_image:
        body["images"] = [vars(r) for r in result.images]
    print(json.dumps(body, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
