"""``TrainRecipe``: everything that decides what a training run produces (``models.training``
runs it; ``models.cards`` writes it into the model card)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainRecipe:
    """Everything that decides what a training run produces (it goes into the model card)."""

    data: Path
    base: str
    epochs: int
    imgsz: int
    name: str
    device: str = "cpu"
    batch: int = 16
    workers: int = 0
    patience: int = 50
    seed: int = 0
    threads: int | None = None
    limit: int | None = None
    """Train and validate on the first N images of each split only (quick checks)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Further Ultralytics training arguments (lr0, mosaic, freeze, ...)."""
