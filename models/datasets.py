"""YOLO-format datasets (``data.yaml`` + ``images/<split>`` + ``labels/<split>``) for training and
evaluation, read from folders that may be read-only (``../shared`` is).

Ultralytics writes a ``<split>.cache`` file beside each labels folder and, when it cannot, only
warns and re-scans the labels every run. ``mirror_dataset`` avoids both: it builds a writable
copy made of links (a real ``images/<split>`` folder of per-file symlinks, so Ultralytics'
path resolution keeps the mirror's paths; ``labels/<split>`` a symlink to the real labels folder)
and a ``data.yaml`` with an absolute ``path``. It can also take the first N images of a split,
for quick tests.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
_LICENCE_LINE = re.compile(r"\blicen[cs]e\s*:\s*(.+)", re.IGNORECASE)


class DatasetError(Exception):
    """A data.yaml that is missing, unreadable or points at folders that are not there."""


@dataclass(frozen=True)
class Dataset:
    """A parsed ``data.yaml``: class names by index and the image folder of each split."""

    yaml_path: Path
    names: list[str]
    splits: dict[str, Path] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.yaml_path.parent

    def images(self, split: str) -> list[Path]:
        """The split's image files, sorted by name."""
        folder = self.split_dir(split)
        return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)

    def split_dir(self, split: str) -> Path:
        if split not in self.splits:
            raise DatasetError(
                f"{self.yaml_path}: no '{split}' split (it has: {', '.join(self.splits)})"
            )
        return self.splits[split]

    def labels_dir(self, split: str) -> Path:
        """Where Ultralytics looks for the split's labels: the last ``images`` folder of the
        image path replaced by ``labels``."""
        folder = str(self.split_dir(split)) + os.sep
        sep_images, sep_labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
        if sep_images not in folder:
            raise DatasetError(
                f"{self.yaml_path}: {split} images {folder} are not in an 'images' folder, "
                "so Ultralytics cannot find their labels"
            )
        return Path(sep_labels.join(folder.rsplit(sep_images, 1)))

    def licence(self) -> str:
        """The data licence from a ``SOURCE.md``/``README*``/``LICENSE*`` beside data.yaml."""
        for pattern in ("SOURCE.md", "README*", "LICEN[CS]E*"):
            for path in sorted(self.root.glob(pattern)):
                match = _LICENCE_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
                if match:
                    return match.group(1).strip().rstrip(".")
        return f"unknown (no licence line found beside {self.yaml_path})"


def load_dataset(path: str | Path) -> Dataset:
    """Parse and check a YOLO ``data.yaml``: names, and train/val image folders that exist."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file (expected a YOLO data.yaml)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: not a readable YAML file ({exc})") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected a mapping with train, val and names")
    names = raw.get("names")
    if isinstance(names, dict):
        try:
            names = [str(names[i]) for i in range(len(names))]
        except KeyError:
            raise DatasetError(f"{path}: names: class ids must be 0..N-1") from None
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{path}: names: a list or mapping of class names is required")
    base = path.parent / raw["path"] if raw.get("path") else path.parent  # as Ultralytics
    splits: dict[str, Path] = {}
    for split in ("train", "val", "test"):
        value = raw.get(split)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DatasetError(f"{path}: {split}: only a single image folder is supported")
        folder = (base / value).resolve()
        if not folder.is_dir():
            raise DatasetError(f"{path}: {split}: image folder {folder} does not exist")
        splits[split] = folder
    if "val" not in splits:
        raise DatasetError(f"{path}: val: an image folder for validation is required")
    return Dataset(path.resolve(), [str(n) for n in names], splits)


def mirror_dataset(
    dataset: Dataset,
    workdir: Path,
    *,
    splits: tuple[str, ...] = ("train", "val"),
    limit: int | None = None,
) -> Path:
    """A writable link-copy of ``dataset`` in ``workdir``; returns its ``data.yaml``.

    ``limit`` keeps only the first N images (by name) of each split.
    """
    workdir = Path(workdir).resolve()
    layout: dict[str, object] = {"path": str(workdir), "names": dict(enumerate(dataset.names))}
    for split in splits:
        if split not in dataset.splits:
            continue
        labels = dataset.labels_dir(split)
        if not labels.is_dir():
            raise DatasetError(f"{dataset.yaml_path}: {split}: no labels folder {labels}")
        images = dataset.images(split)[:limit]
        if not images:
            folder = dataset.splits[split]
            raise DatasetError(f"{dataset.yaml_path}: {split}: no images in {folder}")
        image_dir = workdir / "images" / split
        image_dir.mkdir(parents=True, exist_ok=True)
        source_dir = dataset.split_dir(split)
        for image in images:
            link = image_dir / image.relative_to(source_dir)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(image)
        label_link = workdir / "labels" / split
        label_link.parent.mkdir(parents=True, exist_ok=True)
        if not label_link.exists():
            label_link.symlink_to(labels, target_is_directory=True)
        layout[split] = f"images/{split}"
        logger.debug("mirrored %s %s: %d images", dataset.yaml_path, split, len(images))
    mirrored = [s for s in splits if s in layout]
    if not mirrored:
        raise DatasetError(f"{dataset.yaml_path}: none of the splits {', '.join(splits)}")
    for required in ("train", "val"):  # Ultralytics insists on both keys, even to validate
        layout.setdefault(required, layout[mirrored[0]])
    target = workdir / "data.yaml"
    target.write_text(yaml.safe_dump(layout, sort_keys=False, allow_unicode=True), "utf-8")
    return target
