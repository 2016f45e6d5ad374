"""``models.datasets``: reading data.yaml and mirroring a read-only dataset into links."""

from __future__ import annotations

import pytest
import yaml

from models.datasets import DatasetError, load_dataset, mirror_dataset


def test_the_shared_helmet_dataset_reads_with_its_classes_and_licence(helmet_data):
    dataset = load_dataset(helmet_data)
    assert dataset.names == ["helmet", "no_helmet", "no_wear", "wear"]
    assert set(dataset.splits) == {"train", "val"}
    assert dataset.labels_dir("val").resolve() == (helmet_data.parent / "labels" / "val").resolve()
    assert len(dataset.images("train")) > 800
    assert dataset.licence().startswith("none stated")


def test_a_mirror_links_the_first_images_and_the_labels(helmet_data, tmp_path):
    dataset = load_dataset(helmet_data)
    target = mirror_dataset(dataset, tmp_path / "mirror", splits=("val",), limit=5)
    layout = yaml.safe_load(target.read_text())
    assert layout["path"] == str(tmp_path / "mirror")
    assert layout["val"] == layout["train"] == "images/val"  # Ultralytics needs both keys
    assert layout["names"] == dict(enumerate(dataset.names))
    images = sorted((tmp_path / "mirror" / "images" / "val").iterdir())
    assert [p.name for p in images] == [p.name for p in dataset.images("val")[:5]]
    assert all(p.is_symlink() for p in images)
    labels = tmp_path / "mirror" / "labels" / "val"
    assert labels.is_symlink() and labels.resolve() == dataset.labels_dir("val")
    assert load_dataset(target).images("val") == images


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such dataset file"),
        ("train: [", "not a readable YAML file"),
        ("- a list", "expected a mapping"),
        ("train: images/train\nval: images/val\n", "names: a list or mapping"),
        ("val: images/nowhere\nnames: [a]\n", "val: image folder .*nowhere does not exist"),
        ("train: images/train\nnames: [a]\n", "val: an image folder for validation"),
    ],
    ids=[
        "a missing file",
        "broken YAML",
        "not a mapping",
        "no class names",
        "a val folder that is not there",
        "no val split",
    ],
)
def test_a_bad_data_yaml_names_the_file_and_the_problem(tmp_path, content, message):
    (tmp_path / "images" / "train").mkdir(parents=True)
    path = tmp_path / "data.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DatasetError, match=f"data.yaml: .*{message}"):
        load_dataset(path)
