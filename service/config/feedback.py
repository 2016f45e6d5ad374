"""The ``feedback`` section: what a rejection teaches (suppressions, hard negatives)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from service.config.base import FiniteFloat, StrictModel


class FeedbackConfig(StrictModel):
    """What a rejection teaches: suppressions and hard-negative samples."""

    suppression_hours: FiniteFloat = Field(
        24.0,
        gt=0,
        le=24 * 365,
        description="A rejected case suppresses matching candidates (camera, zone, type, "
        "region) this long",
    )
    suppression_min_overlap: FiniteFloat = Field(
        0.5,
        gt=0,
        le=1,
        description="A candidate matches a suppression when at least this share of its boxes' "
        "extent lies inside the rejected region",
    )
    dataset_dir: Path | None = Field(
        None, description="Hard negatives and exports; default <data_dir>/datasets"
    )
