"""Measure a people counter on a points-annotated crowd folder: MAE, MAE as a share of the
true count, and bias.

The folder holds ``images/NAME.jpg`` (or .png/.jpeg) and ``points/NAME.txt``, one ``x y`` per
person in pixels (a head point, as crowd datasets annotate them; blank lines and ``#`` comments
are ignored, an empty file is an empty scene). ``../shared/data/crowd-mall/to_folder.sh OUT``
writes that layout from the mall clip.

``evaluate_count(folder, counter)`` runs ``counter`` (anything with ``count(image) -> int``, or
a plain callable ``image -> int``) on every image, or on the ``names`` given, and returns a
``CountResult``. Counting compares numbers only: where the counter puts its points is not
checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class CountEvalError(Exception):
    """The folder is not a usable points-annotated crowd folder (what is wrong, and where)."""


@runtime_checkable
class Counts(Protocol):
    """A people counter: how many people ``image`` (BGR) shows."""

    def count(self, image: np.ndarray) -> int: ...


Progress = Callable[[int, int, str], None]
"""Called after each image with (images done, images in all, the image's name)."""


@dataclass(frozen=True, slots=True)
class ImageCount:
    name: str
    true: int
    predicted: int
    seconds: float = 0.0
    """Wall seconds the counter took on this image."""

    @property
    def error(self) -> int:
        """Signed error: predicted - true (negative: people missed)."""
        return self.predicted - self.true


@dataclass(frozen=True)
class CountResult:
    """Counts of one counter on the images of one folder."""

    images: tuple[ImageCount, ...]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def mae(self) -> float:
        """Mean absolute error, people per image."""
        return float(np.mean([abs(i.error) for i in self.images])) if self.images else 0.0

    @property
    def mae_percent(self) -> float:
        """MAE as a percentage of the mean true count: sum |error| / sum true * 100."""
        total = sum(i.true for i in self.images)
        return 100.0 * sum(abs(i.error) for i in self.images) / total if total else 0.0

    @property
    def bias(self) -> float:
        """Mean signed error, people per image (negative: the counter undercounts)."""
        return float(np.mean([i.error for i in self.images])) if self.images else 0.0

    @property
    def seconds_per_image(self) -> float:
        return float(np.mean([i.seconds for i in self.images])) if self.images else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "images": len(self),
            "mae": round(self.mae, 3),
            "mae_percent": round(self.mae_percent, 2),
            "bias": round(self.bias, 3),
            "seconds_per_image": round(self.seconds_per_image, 4),
        }


def image_names(data_dir: str | Path) -> list[str]:
    """The image names (file stems) of a crowd folder, sorted; a CountEvalError when it has
    no images."""
    images = _images(Path(data_dir))
    return sorted(images)


def read_points(path: str | Path) -> np.ndarray:
    """(N, 2) float points of one ``points/NAME.txt`` (``x y`` per line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CountEvalError(f"{path}: cannot read the points file ({exc})") from None
    points = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        try:
            if len(parts) != 2:
                raise ValueError
            x, y = float(parts[0]), float(parts[1])
            if not (np.isfinite(x) and np.isfinite(y)):
                raise ValueError
        except ValueError:
            raise CountEvalError(
                f"{path}:{number}: expected 'x y' (two numbers, pixels), got {raw.strip()!r}"
            ) from None
        points.append((x, y))
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def evaluate_count(
    data_dir: str | Path,
    counter: Counts | Callable[[np.ndarray], int],
    progress: Progress | None = None,
    *,
    names: Sequence[str] | Iterable[str] | None = None,
) -> CountResult:
    """Count the people of every image of ``data_dir`` (or of ``names``, image stems) with
    ``counter`` and compare with the points. Every points file is read and checked before the
    counter runs once, so a bad folder fails fast."""
    data_dir = Path(data_dir)
    images = _images(data_dir)
    chosen = sorted(images) if names is None else list(names)
    if not chosen:
        raise CountEvalError(f"{data_dir}: no images selected")
    unknown = [n for n in chosen if n not in images]
    if unknown:
        raise CountEvalError(f"{data_dir}/images: no image named {unknown[:5]}")
    truth = {}
    for name in chosen:
        points = data_dir / "points" / f"{name}.txt"
        if not points.is_file():
            raise CountEvalError(
                f"{points}: missing: every image needs a points file "
                f"(one 'x y' per person; an empty file for an empty scene)"
            )
        truth[name] = len(read_points(points))
    count = counter.count if isinstance(counter, Counts) else counter
    results = []
    for done, name in enumerate(chosen, start=1):
        image = cv2.imread(str(images[name]), cv2.IMREAD_COLOR)
        if image is None:
            raise CountEvalError(f"{images[name]}: not a readable image")
        began = time.perf_counter()
        predicted = int(count(image))
        seconds = time.perf_counter() - began
        results.append(ImageCount(name, truth[name], predicted, seconds))
        if progress is not None:
            progress(done, len(chosen), name)
    return CountResult(tuple(results))


def _images(data_dir: Path) -> dict[str, Path]:
    if not data_dir.is_dir():
        raise CountEvalError(f"{data_dir}: no such folder")
    folder = data_dir / "images"
    if not folder.is_dir():
        raise CountEvalError(
            f"{data_dir}: no images/ folder (expected images/NAME.jpg and points/NAME.txt)"
        )
    found = {p.stem: p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    if not found:
        raise CountEvalError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return found
