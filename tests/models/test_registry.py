from pathlib import Path

import pytest
import yaml

from models import files
from models import registry as reg
from tests.conftest import YOLOX, need
from vision.detectors.base import ModelFileError


def test_every_registry_entry_is_valid_and_maps_to_canonical_labels():
    entries = reg.registry()
    assert {"yolox-nano-coco", "fall-person-yolov8"} <= set(entries)
    for entry in entries.values():
        assert set(entry.class_map.values()) <= reg.CANONICAL_LABELS
        assert entry.licence


def test_the_shared_yolox_weights_match_their_sha256():
    need(YOLOX)
    path = files.weights_file(reg.entry("yolox-nano-coco"), allow_fetch=False)
    assert path.samefile(YOLOX)


def test_an_unknown_model_name_lists_the_known_ones():
    with pytest.raises(reg.RegistryError, match="unknown model 'nope'.*yolox-nano-coco"):
        reg.entry("nope")


def test_a_replaced_weight_file_fails_the_checksum(tmp_path):
    fake = tmp_path / "yolox_nano.onnx"
    fake.write_bytes(b"\0" * 128)
    entry = reg.entry("yolox-nano-coco").model_copy(update={"file": str(fake)})
    with pytest.raises(ModelFileError, match="sha256"):
        files.weights_file(entry, allow_fetch=False)


def test_missing_weights_without_a_source_are_a_clear_error(tmp_path):
    entry = reg.entry("yolox-nano-coco").model_copy(update={"file": str(tmp_path / "gone.onnx")})
    with pytest.raises(ModelFileError, match="weights not found"):
        files.weights_file(entry, allow_fetch=False)


GOOD = {"backend": "ultralytics", "file": "x", "class_map": {}, "licence": "x"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"backend": "tensorflow"}, "backend"),
        ({"class_map": {"a": "sofa"}}, "unknown canonical labels"),
        ({"file": None}, "needs `file` or `source`"),
        ({"sha256": "abc"}, "sha256"),
    ],
    ids=["unknown backend", "unknown canonical label", "no file nor source", "malformed sha256"],
)
def test_a_bad_registry_names_the_model_and_the_problem(tmp_path, changes, message):
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"models": {"m": {**GOOD, **changes}}}))
    with pytest.raises(reg.RegistryError, match=message):
        reg.registry(Path(path))


def test_first_available_prefers_weights_on_disk():
    need(YOLOX)
    assert files.first_available(["yolox-nano-coco", "fall-person-yolov8"]) == "yolox-nano-coco"
