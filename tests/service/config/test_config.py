"""The config loader: valid configs load with defaults and resolved paths, and every bad config
fails with a one-line ``FILE: KEY.PATH: message`` ConfigError that points at the right key."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.config import (
    RULE_NAMES,
    Config,
    ConfigError,
    load_config,
)
from service.edge.pipeline import build_zones
from vision.rules.crowding import CrowdingSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_CONFIG = REPO_ROOT / "configs" / "demo.yaml"

SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
VALID_RULES = ", ".join(sorted(RULE_NAMES))


def valid_config() -> dict[str, Any]:
    """The smallest useful config: one camera, one zone, crowding with global thresholds."""
    return {
        "data_dir": "data",
        "cameras": [
            {
                "id": "cam-1",
                "url": "rtsp://10.0.0.5:554/stream1",
                "zones": [{"name": "plaza", "polygon": SQUARE, "rules": {"crowding": {}}}],
            }
        ],
    }


def write_config(folder: Path, data: Any, name: str = "streetwatch.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load_dict(tmp_path: Path, data: Any) -> Config:
    return load_config(write_config(tmp_path, data))


def assert_one_line_error(err: ConfigError, path: Path) -> None:
    text = str(err)
    assert "\n" not in text and "\r" not in text, text
    assert text.startswith(f"{path}: "), text
    assert err.file == str(path)


# ---------------------------------------------------------------------------------------------
# valid configs


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    path = write_config(tmp_path, valid_config())
    config = load_config(path)

    assert config.source_file == path
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.data_dir.is_absolute()
    assert config.evidence_dir is None
    assert config.evidence_path == config.data_dir / "evidence"
    assert config.queue.url is None
    assert config.queue_url == f"sqlite:///{config.data_dir / 'queue.db'}"

    camera = config.cameras[0]
    assert camera.id == "cam-1"
    assert camera.url == "rtsp://10.0.0.5:554/stream1"  # rtsp urls are not paths: untouched
    assert camera.is_rtsp()
    assert camera.kind == "ground"
    assert camera.analysis_fps == 2.0
    assert camera.homography is None
    zone = camera.zones[0]
    assert zone.active_hours == []
    assert zone.rule_names() == ["crowding"]

    assert config.rules.crowding == CrowdingSettings(
        min_people=5, min_duration_s=30.0, min_score=0.35, max_gap_s=2.0
    )
    assert config.rule_settings(zone, "crowding") == config.rules.crowding
    assert config.models.device == "cpu"
    assert config.models.person  # a preference list with at least one model
    assert 0 < config.models.conf < 1
    assert config.events.close_after_s == 10.0
    assert config.events.cooldown_s == 30.0
    assert config.events.id_bucket_s == 60.0
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 8000
    assert config.camera("cam-1") is camera


def test_data_dir_defaults_to_dot_streetwatch_next_to_the_config(tmp_path: Path) -> None:
    data = valid_config()
    del data["data_dir"]
    config = load_dict(tmp_path, data)
    assert config.data_dir == (tmp_path / ".streetwatch").resolve()
    assert config.queue_url == f"sqlite:///{tmp_path.resolve() / '.streetwatch' / 'queue.db'}"
    assert config.evidence_path == tmp_path.resolve() / ".streetwatch" / "evidence"


def test_relative_paths_resolve_against_the_config_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = valid_config()
    data["data_dir"] = "../data"
    data["evidence_dir"] = "evidence-here"
    data["queue"] = {"url": "sqlite:///queues/q.db"}
    zone = data["cameras"][0]["zones"][0]
    data["cameras"] = [
        {"id": "file-cam", "url": "clips/a.mp4", "zones": [zone]},
        {"id": "file-url-cam", "url": "file://clips/b.mp4", "zones": [zone]},
        {"id": "abs-cam", "url": "/videos/c.mp4", "zones": [zone]},
        {"id": "rtsp-cam", "url": "rtsp://user:pw@cam.local/live", "zones": [zone]},
    ]
    conf_dir = tmp_path / "conf"
    config = load_config(write_config(conf_dir, data))
    base = conf_dir.resolve()

    assert config.data_dir == tmp_path.resolve() / "data"
    assert config.evidence_dir == base / "evidence-here"
    assert config.evidence_path == base / "evidence-here"
    assert config.queue_url == f"sqlite:///{base / 'queues' / 'q.db'}"
    urls = {camera.id: camera.url for camera in config.cameras}
    assert urls == {
        "file-cam": str(base / "clips" / "a.mp4"),
        "file-url-cam": str(base / "clips" / "b.mp4"),
        "abs-cam": "/videos/c.mp4",
        "rtsp-cam": "rtsp://user:pw@cam.local/live",
    }


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    data = valid_config()
    data["data_dir"] = str(tmp_path / "abs-data")
    data["queue"] = {"url": f"sqlite:///{tmp_path / 'abs-queue.db'}"}
    config = load_config(write_config(tmp_path / "conf", data))
    assert config.data_dir == tmp_path / "abs-data"
    assert config.queue_url == f"sqlite:///{tmp_path / 'abs-queue.db'}"


def test_a_relative_config_path_resolves_against_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path / "conf", valid_config())
    monkeypatch.chdir(tmp_path)
    config = load_config("conf/streetwatch.yaml")
    assert config.data_dir == (tmp_path / "conf" / "data").resolve()


def test_zone_overrides_merge_over_global_thresholds(tmp_path: Path) -> None:
    data = valid_config()
    data["rules"] = {"crowding": {"min_people": 6, "min_duration_s": 5, "min_score": 0.4}}
    data["cameras"][0]["zones"] = [
        {"name": "global", "polygon": SQUARE, "rules": {"crowding": {}}},
        {"name": "busy", "polygon": SQUARE, "rules": {"crowding": {"min_people": 12}}},
        {
            "name": "strict",
            "polygon": SQUARE,
            "rules": {"crowding": {"min_duration_s": 0, "min_score": 0.9, "max_gap_s": 0}},
        },
    ]
    config = load_dict(tmp_path, data)
    zones = {zone.name: zone for zone in config.cameras[0].zones}

    assert config.rule_settings(zones["global"], "crowding") == CrowdingSettings(
        min_people=6, min_duration_s=5, min_score=0.4, max_gap_s=2.0
    )
    assert config.rule_settings(zones["busy"], "crowding") == CrowdingSettings(
        min_people=12, min_duration_s=5, min_score=0.4, max_gap_s=2.0
    )
    assert config.rule_settings(zones["strict"], "crowding") == CrowdingSettings(
        min_people=6, min_duration_s=0, min_score=0.9, max_gap_s=0
    )
    # merging never writes back into the global settings
    assert config.rules.crowding.min_people == 6
    assert config.rules.crowding.min_duration_s == 5


def test_a_bare_rule_name_enables_it_with_global_thresholds(tmp_path: Path) -> None:
    """``crowding:`` with no value is YAML null; it must enforce the rule like ``{}``."""
    path = tmp_path / "bare.yaml"
    path.write_text(
        "cameras:\n"
        "  - id: cam-1\n"
        "    url: rtsp://cam.local/live\n"
        "    zones:\n"
        "      - name: plaza\n"
        "        polygon: [[0, 0], [100, 0], [100, 100]]\n"
        "        rules:\n"
        "          crowding:\n"
        "rules:\n"
        "  crowding: {min_people: 7}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    zone = config.cameras[0].zones[0]
    assert zone.rules.crowding is not None
    assert zone.rule_names() == ["crowding"]
    assert config.rule_settings(zone, "crowding").min_people == 7


@pytest.mark.parametrize(
    ("hours", "inside", "outside"),
    [
        pytest.param(
            ["08:00-20:00"],
            ["08:00", "12:30", "19:59"],
            ["07:59", "20:00", "23:00", "00:00"],
            id="daytime",
        ),
        pytest.param(
            ["22:00-06:00"],
            ["22:00", "23:59", "00:00", "03:00", "05:59"],
            ["06:00", "12:00", "21:59"],
            id="overnight",
        ),
        pytest.param(
            ["00:00-24:00"],
            ["00:00", "06:00", "12:00", "23:59"],
            [],
            id="all-day",
        ),
        pytest.param(
            [" 7:30 - 9:00 ", "17:00-19:15"],
            ["07:30", "08:59", "17:00", "19:14"],
            ["07:29", "09:00", "12:00", "19:15"],
            id="two-ranges-loose-spacing",
        ),
        pytest.param(
            ["18:00-24:00"],
            ["18:00", "23:59"],
            ["00:00", "17:59"],
            id="until-midnight",
        ),
    ],
)
def test_active_hours_parse(
    tmp_path: Path, hours: list[str], inside: list[str], outside: list[str]
) -> None:
    data = valid_config()
    data["cameras"][0]["zones"][0]["active_hours"] = hours
    config = load_dict(tmp_path, data)
    assert len(config.cameras[0].zones[0].active_hours) == len(hours)
    zone = build_zones(config, config.cameras[0])[0]

    def active(moment: str) -> bool:
        clock = time.fromisoformat(moment)
        return zone.is_active(datetime(2026, 11, 23, clock.hour, clock.minute, tzinfo=UTC))

    for moment in inside:
        assert active(moment), f"{moment} should be inside {hours}"
    for moment in outside:
        assert not active(moment), f"{moment} should be outside {hours}"


def test_active_hours_written_unquoted_in_yaml(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(
        "cameras:\n"
        "  - id: cam-1\n"
        "    url: rtsp://cam.local/live\n"
        "    zones:\n"
        "      - name: plaza\n"
        "        polygon: [[0, 0], [100, 0], [100, 100]]\n"
        "        rules: {crowding: {}}\n"
        "        active_hours: [08:00-20:00, 22:00-06:00]\n",
        encoding="utf-8",
    )
    ranges = load_config(path).cameras[0].zones[0].active_hours
    assert [(r.start, r.end) for r in ranges] == [
        (time(8, 0), time(20, 0)),
        (time(22, 0), time(6, 0)),
    ]


def test_homography_eagle_eye_and_device_are_accepted(tmp_path: Path) -> None:
    data = valid_config()
    camera = data["cameras"][0]
    camera["kind"] = "eagle_eye"
    camera["analysis_fps"] = 0.5
    camera["homography"] = [[1.5, 0, 10], [0, 1.5, 20], [0, 0.001, 1]]
    data["models"] = {"person": "yolox-nano-coco", "device": "cuda:1", "conf": 0.3}
    config = load_dict(tmp_path, data)
    assert config.cameras[0].kind == "eagle_eye"
    assert config.cameras[0].homography == [[1.5, 0, 10], [0, 1.5, 20], [0, 0.001, 1]]
    assert config.models.person == ["yolox-nano-coco"]  # one name becomes a list
    assert config.models.device == "cuda:1"


def test_unknown_camera_lookup_names_the_known_ones(tmp_path: Path) -> None:
    config = load_dict(tmp_path, valid_config())
    with pytest.raises(KeyError, match="no camera 'nope'.*cam-1"):
        config.camera("nope")


def test_demo_config_loads() -> None:
    config = load_config(DEMO_CONFIG)
    assert config.source_file == DEMO_CONFIG
    assert [camera.id for camera in config.cameras] == ["demo-01"]
    camera = config.cameras[0]
    assert not camera.is_rtsp()
    assert Path(camera.url).is_absolute()
    assert camera.url.endswith("vtest.avi")
    assert config.data_dir == REPO_ROOT / ".streetwatch"
    zone = camera.zones[0]
    assert zone.name == "walkway"
    assert zone.rule_names() == ["crowding"]
    settings = config.rule_settings(zone, "crowding")
    assert settings.min_people == 6
    assert settings.min_duration_s == 5


# ---------------------------------------------------------------------------------------------
# bad configs: each names the key path and what is wrong

Mutation = Callable[[dict[str, Any]], None]


def _walk(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def set_(*path: Any, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        _walk(data, path[:-1])[path[-1]] = value

    return mutate


def drop(*path: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del _walk(data, path[:-1])[path[-1]]

    return mutate


def duplicate_first(*path: Any) -> Mutation:
    """Append a copy of the first item of the list at ``path``."""

    def mutate(data: dict[str, Any]) -> None:
        items = _walk(data, path)
        items.append(copy.deepcopy(items[0]))

    return mutate


CAM = ("cameras", 0)
ZONE = (*CAM, "zones", 0)
NAN = float("nan")

BAD_CONFIGS = [
    pytest.param(drop(*CAM, "url"), "cameras[0].url", "required key is missing", id="missing-url"),
    pytest.param(drop(*CAM, "id"), "cameras[0].id", "required key is missing", id="missing-id"),
    pytest.param(
        set_(*CAM, "id", value="front door!"), "cameras[0].id", "pattern", id="id-with-spaces"
    ),
    pytest.param(
        set_(*ZONE, "polygon", value=[[0, 0], [10, 10]]),
        "cameras[0].zones[0].polygon",
        "at least 3 points, got 2",
        id="polygon-2-points",
    ),
    pytest.param(
        set_(*ZONE, "polygon", value=[[0, 0], [10, 10], [20, 20], [30, 30]]),
        "cameras[0].zones[0].polygon",
        "zero area",
        id="polygon-collinear",
    ),
    pytest.param(
        set_(*ZONE, "polygon", value=[[-5, 0], [100, 0], [100, 100]]),
        "cameras[0].zones[0].polygon",
        "cannot be negative",
        id="polygon-negative",
    ),
    pytest.param(
        set_(*ZONE, "polygon", value=[[0, 0], [100, 0], [100, NAN]]),
        "cameras[0].zones[0].polygon[2][1]",
        "finite",
        id="polygon-nan",
    ),
    pytest.param(
        set_(*ZONE, "rules", value={"garbage_typo": {}}),
        "cameras[0].zones[0].rules.garbage_typo",
        f"unknown rule 'garbage_typo' (valid: {VALID_RULES})",
        id="zone-unknown-rule",
    ),
    pytest.param(
        set_("rules", value={"loitering": {}}),
        "rules.loitering",
        f"unknown rule 'loitering' (valid: {VALID_RULES})",
        id="global-unknown-rule",
    ),
    pytest.param(
        set_(*ZONE, "rules", value={"crowding": {"min_peple": 3}}),
        "cameras[0].zones[0].rules.crowding.min_peple",
        "unknown key 'min_peple'",
        id="zone-override-typo",
    ),
    pytest.param(
        set_("camras", value=[]),
        "camras",
        "unknown key 'camras' (valid: auth, cameras,",
        id="top-level-typo",
    ),
    pytest.param(
        set_(*CAM, "fps", value=5),
        "cameras[0].fps",
        "analysis_fps",
        id="camera-key-typo-lists-valid-keys",
    ),
    pytest.param(
        set_("rules", value={"crowding": {"min_duration_s": -1}}),
        "rules.crowding.min_duration_s",
        "greater than or equal to 0",
        id="negative-threshold",
    ),
    pytest.param(
        set_(*ZONE, "rules", value={"crowding": {"max_gap_s": -0.5}}),
        "cameras[0].zones[0].rules.crowding.max_gap_s",
        "greater than or equal to 0",
        id="negative-zone-override",
    ),
    pytest.param(
        set_("rules", value={"crowding": {"min_score": 1.5}}),
        "rules.crowding.min_score",
        "less than or equal to 1",
        id="min-score-above-1",
    ),
    pytest.param(
        set_("rules", value={"crowding": {"min_duration_s": NAN}}),
        "rules.crowding.min_duration_s",
        "finite",
        id="nan-threshold",
    ),
    pytest.param(
        set_(*ZONE, "rules", value={"crowding": {"min_score": NAN}}),
        "cameras[0].zones[0].rules.crowding.min_score",
        "finite",
        id="nan-zone-override",
    ),
    pytest.param(
        set_("rules", value={"crowding": {"min_people": 0}}),
        "rules.crowding.min_people",
        "greater than or equal to 1",
        id="min-people-0",
    ),
    pytest.param(
        set_("rules", value={"crowding": {"min_people": 2.5}}),
        "rules.crowding.min_people",
        "integer",
        id="min-people-fraction",
    ),
    pytest.param(
        set_(*CAM, "analysis_fps", value=0),
        "cameras[0].analysis_fps",
        "greater than 0",
        id="analysis-fps-0",
    ),
    pytest.param(
        set_(*CAM, "analysis_fps", value=float("inf")),
        "cameras[0].analysis_fps",
        "finite",
        id="analysis-fps-inf",
    ),
    pytest.param(
        duplicate_first("cameras"),
        "cameras[1].id",
        "camera id 'cam-1' is used twice",
        id="duplicate-camera-ids",
    ),
    pytest.param(
        duplicate_first(*CAM, "zones"),
        "cameras[0].zones[1].name",
        "zone name 'plaza' is used twice in camera 'cam-1'",
        id="duplicate-zone-names",
    ),
    pytest.param(
        set_(*CAM, "url", value="rtsp:///x"),
        "cameras[0].url",
        "has no host",
        id="rtsp-without-host",
    ),
    pytest.param(
        set_(*CAM, "url", value="rtsp://admin:secret@/live"),
        "cameras[0].url",
        "has no host",
        id="rtsp-credentials-without-host",
    ),
    pytest.param(
        set_(*CAM, "url", value="http://example.com/cam.mjpg"),
        "cameras[0].url",
        "unsupported url scheme 'http'",
        id="http-url",
    ),
    pytest.param(
        set_(*CAM, "url", value=""),
        "cameras[0].url",
        "at least 1 character",
        id="empty-url",
    ),
    pytest.param(
        set_(*CAM, "kind", value="drone"),
        "cameras[0].kind",
        "'eagle_eye' or 'ground'",
        id="unknown-camera-kind",
    ),
    pytest.param(
        set_(*ZONE, "active_hours", value=["25:00-26:00"]),
        "cameras[0].zones[0].active_hours[0]",
        "out of range",
        id="active-hours-25h",
    ),
    pytest.param(
        set_(*ZONE, "active_hours", value=["08:00-20:00", "8am-5pm"]),
        "cameras[0].zones[0].active_hours[1]",
        "'8am-5pm' is not an hour range",
        id="active-hours-am-pm",
    ),
    pytest.param(
        set_(*ZONE, "active_hours", value=["09:00-09:00"]),
        "cameras[0].zones[0].active_hours[0]",
        "empty",
        id="active-hours-empty-range",
    ),
    pytest.param(
        set_(*ZONE, "active_hours", value=["24:30-06:00"]),
        "cameras[0].zones[0].active_hours[0]",
        "out of range",
        id="active-hours-24-30",
    ),
    pytest.param(
        set_(*CAM, "homography", value=[[1, 0, 0], [0, 1, 0]]),
        "cameras[0].homography",
        "3x3",
        id="homography-2x3",
    ),
    pytest.param(
        set_(*CAM, "homography", value=[[1, 2, 3], [2, 4, 6], [0, 0, 1]]),
        "cameras[0].homography",
        "singular",
        id="homography-singular",
    ),
    pytest.param(
        set_("cameras", value=[]),
        "cameras",
        "at least 1 item",
        id="no-cameras",
    ),
    pytest.param(
        set_(*CAM, "zones", value=[]),
        "cameras[0].zones",
        "at least 1 item",
        id="no-zones",
    ),
    pytest.param(
        set_(*ZONE, "rules", value={}),
        "cameras[0].zones[0].rules",
        f"zone 'plaza' enforces no rule; name one of {list(RULE_NAMES)}",
        id="zone-without-rules",
    ),
    pytest.param(
        drop(*ZONE, "rules"),
        "cameras[0].zones[0].rules",
        "required key is missing",
        id="zone-rules-missing",
    ),
    pytest.param(
        set_("queue", value={"url": "postgresql://db/streetwatch"}),
        "queue.url",
        "use sqlite:///",
        id="queue-not-sqlite",
    ),
    pytest.param(
        set_("cameras", value="cam-1"),
        "cameras",
        "valid list",
        id="cameras-is-a-string",
    ),
    pytest.param(
        set_("models", value={"device": "gpu"}),
        "models.device",
        "unknown device 'gpu' (use cpu, cuda or cuda:N)",
        id="device-gpu",
    ),
    pytest.param(
        set_("models", value={"person": []}),
        "models.person",
        "at least 1 item",
        id="no-person-model",
    ),
    pytest.param(
        set_("models", value={"device": "cuda:0", "precision": "int8"}),
        "models",
        "precision int8 runs on the openvino runtime, not torch",
        id="int8-on-cuda",
    ),
    pytest.param(
        set_("models", value={"precision": "int4"}),
        "models.precision",
        "'auto', 'fp32' or 'int8'",
        id="unknown-precision",
    ),
    pytest.param(
        set_("server", value={"port": 70000}),
        "server.port",
        "less than or equal to 65535",
        id="port-out-of-range",
    ),
    pytest.param(
        set_("events", value={"id_bucket_s": 0}),
        "events.id_bucket_s",
        "greater than 0",
        id="id-bucket-0",
    ),
]


@pytest.mark.parametrize(("mutate", "key", "message"), BAD_CONFIGS)
def test_bad_config_names_key_and_problem(
    tmp_path: Path, mutate: Mutation, key: str, message: str
) -> None:
    data = valid_config()
    mutate(data)
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    err = caught.value
    assert err.key == key
    assert message in err.message
    assert_one_line_error(err, path)
    assert str(err) == f"{path}: {key}: {err.message}"


def test_nan_written_as_yaml_dot_nan(tmp_path: Path) -> None:
    path = tmp_path / "nan.yaml"
    text = yaml.safe_dump(valid_config(), sort_keys=False)
    path.write_text(text + "rules:\n  crowding:\n    min_duration_s: .nan\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "rules.crowding.min_duration_s"
    assert "finite" in caught.value.message


@pytest.mark.parametrize(
    ("mutate", "key", "valid"),
    [
        pytest.param(
            lambda data: data.__setitem__("camera", data.pop("cameras")),
            "camera",
            "cameras",
            id="top-level",
        ),
        pytest.param(
            lambda data: data["cameras"][0].__setitem__("uri", data["cameras"][0].pop("url")),
            "cameras[0].uri",
            "url",
            id="camera",
        ),
    ],
)
def test_misspelt_required_key_is_reported_as_unknown(
    tmp_path: Path, mutate: Mutation, key: str, valid: str
) -> None:
    """A typo makes a required key both missing and unknown; the unknown one is reported,
    since its message lists the valid spellings."""
    data = valid_config()
    mutate(data)
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert f"unknown key '{key.rsplit('.', 1)[-1]}'" in caught.value.message
    assert valid in caught.value.message
    assert caught.value.message.endswith("(and 1 more problem)")


def test_more_problems_are_counted_after_the_first(tmp_path: Path) -> None:
    data = valid_config()
    data["cameras"][0]["analysis_fps"] = -1
    data["server"] = {"port": 0}
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.endswith("(and 1 more problem)")
    assert_one_line_error(caught.value, path)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        pytest.param(set_("data\ndir", value="x"), "data\\ndir", id="newline-in-key"),
        pytest.param(set_(*CAM, "url", value="ht\ntp://cam/x"), "cameras[0].url", id="in-url"),
        pytest.param(set_(*CAM, "url", value="rtsp:///a\r\nb"), "cameras[0].url", id="crlf"),
    ],
)
def test_newlines_from_the_file_cannot_split_the_error(
    tmp_path: Path, mutate: Mutation, key: str
) -> None:
    data = valid_config()
    mutate(data)
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert_one_line_error(caught.value, path)


# ---------------------------------------------------------------------------------------------
# file-level problems: no key, the file named first, one line


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "does-not-exist.yaml"


def _directory(tmp_path: Path) -> Path:
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()
    return folder


def _file(content: bytes) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / "config.yaml"
        path.write_bytes(content)
        return path

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(_missing, "no such config file", id="missing-file"),
        pytest.param(_directory, "is a directory", id="directory"),
        pytest.param(_file(b"cameras: [\n  - id: a\n"), "invalid YAML: line", id="unclosed-list"),
        pytest.param(
            _file(b"cameras:\n\t- id: cam-1\n"), "invalid YAML: line 2, column 1", id="tab-indent"
        ),
        pytest.param(_file(b"a: b: c\n"), "invalid YAML: line 1", id="nested-colon"),
        pytest.param(_file(b""), "got an empty file", id="empty-file"),
        pytest.param(_file(b"# only a comment\n\n"), "got an empty file", id="comment-only"),
        pytest.param(_file(b"- id: cam-1\n- id: cam-2\n"), "got list", id="top-level-list"),
        pytest.param(_file(b"just text\n"), "got str", id="top-level-string"),
        pytest.param(_file(b"data_dir: \xff\xfe\n"), "cannot read", id="not-utf8"),
    ],
)
def test_file_level_errors(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    err = caught.value
    assert err.key == ""
    assert message in err.message
    assert_one_line_error(err, path)
    assert str(err) == f"{path}: {err.message}"


def test_config_error_format() -> None:
    assert str(ConfigError("a.yaml", "cameras[0].url", "bad")) == "a.yaml: cameras[0].url: bad"
    assert str(ConfigError(Path("a.yaml"), "", "bad")) == "a.yaml: bad"


@pytest.mark.parametrize(
    "rule, override, key, expected",
    [
        pytest.param("street_vending", {"dwell_s": 20}, "dwell_s", 20, id="vending-dwell"),
        pytest.param("garbage", {"clean_before_s": 5}, "clean_before_s", 5, id="garbage-clean"),
        pytest.param("missing_helmet", {"window": 9}, "window", 9, id="helmet-window"),
        pytest.param("waterlogging", {"min_coverage": 0.3}, "min_coverage", 0.3, id="water-cover"),
        pytest.param("garbage", {}, "dwell_s", 60.0, id="garbage-global-default"),
    ],
)
def test_every_rule_takes_zone_overrides_over_global_settings(rule, override, key, expected):
    data = valid_config()
    data["cameras"][0]["zones"][0]["rules"] = {rule: override}
    config = Config.model_validate(data)
    zone = config.cameras[0].zones[0]
    assert zone.rule_names() == [rule]
    assert getattr(config.rule_settings(zone, rule), key) == expected


@pytest.mark.parametrize(
    "rule, override, key",
    [
        pytest.param("garbage", {"dwell_s": -1}, "dwell_s", id="negative-dwell"),
        pytest.param("missing_helmet", {"bare_fraction": 1.5}, "bare_fraction", id="fraction>1"),
        pytest.param("street_vending", {"stall_labels": []}, "stall_labels", id="no-stall-labels"),
        pytest.param("waterlogging", {"reference_frames": 0}, "reference_frames", id="no-frames"),
        pytest.param("garbage", {"dwel_s": 3}, "dwel_s", id="typo-in-a-zone-override"),
    ],
)
def test_bad_rule_overrides_name_their_key(tmp_path, rule, override, key):
    data = valid_config()
    data["cameras"][0]["zones"][0]["rules"] = {rule: override}
    path = tmp_path / "streetwatch.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == f"cameras[0].zones[0].rules.{rule}.{key}"


@pytest.mark.parametrize(
    "path", sorted((REPO_ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name
)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert config.cameras


def test_credentials_come_from_the_environment_and_are_masked_when_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("RTSP_PASSWORD", "S3cretPass")
    monkeypatch.setenv("REDIS_PASSWORD", "hunter2")
    data = valid_config()
    data["cameras"][0]["url"] = "rtsp://admin:${RTSP_PASSWORD}@10.0.0.5:554/stream1"
    data["queue"] = {"url": "redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0"}
    config = load_dict(tmp_path, data)
    assert config.cameras[0].url == "rtsp://admin:S3cretPass@10.0.0.5:554/stream1"
    assert config.queue_url == "redis://:hunter2@127.0.0.1:6379/0"
    shown = json.dumps(config.shown())
    assert "S3cretPass" not in shown and "hunter2" not in shown
    assert "rtsp://admin:***@10.0.0.5:554/stream1" in shown


@pytest.mark.parametrize(
    "where, key",
    [
        pytest.param("camera", "cameras[0].url", id="a camera url naming an unset variable"),
        pytest.param("queue", "queue.url", id="a queue url naming an unset variable"),
    ],
)
def test_an_unset_variable_is_one_error_naming_key_and_variable(tmp_path, monkeypatch, where, key):
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    data = valid_config()
    if where == "camera":
        data["cameras"][0]["url"] = "rtsp://admin:${NO_SUCH_SECRET}@10.0.0.5/x"
    else:
        data["queue"] = {"url": "redis://:${NO_SUCH_SECRET}@127.0.0.1:6379/0"}
    path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert_one_line_error(caught.value, path)
    assert str(caught.value) == f"{path}: {key}: environment variable NO_SUCH_SECRET is not set"
