"""The detector interface: a batch of frames in, canonical detections out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from vision.types import Detections


class ModelFileError(Exception):
    """A weight file that is missing, corrupt, of the wrong kind or not the one registered."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a runtime's multi-line error), else its kind:
    what goes in parentheses after a one-line ModelFileError."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@runtime_checkable
class Detector(Protocol):
    """Batched detection in canonical labels (person, helmet, garbage, ...).

    ``detect`` takes BGR images (any sizes) and returns one Detections per image, boxes in the
    image's own pixels, labels already mapped through the model's class map.
    """

    name: str
    labels: frozenset[str]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


def map_classes(
    class_ids: np.ndarray, names: Sequence[str], class_map: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Model class ids -> (keep mask, canonical labels); classes absent from the map are dropped."""
    canonical = np.array([class_map.get(names[int(i)], "") for i in class_ids], dtype=object)
    keep = canonical != ""
    return keep, canonical[keep]


def check_class_map(source: object, class_map: Mapping[str, str], names: Sequence[str]) -> None:
    """A ModelFileError naming ``source`` if ``class_map`` names classes the model lacks."""
    unknown = sorted(set(class_map) - set(names))
    if unknown:
        raise ModelFileError(
            f"{source}: class map names {unknown} that the model does not have "
            f"(model classes: {list(names)})"
        )
