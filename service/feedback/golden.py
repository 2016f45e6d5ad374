"""Event-level evaluation against a golden file: replay the videos it names through the whole
pipeline and score the events that come out against the events a person labelled.

A golden file (YAML, unknown keys forbidden)::

    videos:                        # every video to replay, and as which camera of the config
      - {video: ../shared/media/vtest.avi, camera: campus-01}
      - {video: tests/golden/videos/garbage_clean.mp4, camera: garbage-clean-01}
    events:                        # what should come out (a video with none is a negative)
      - {video: ../shared/media/vtest.avi, camera: campus-01, type: crowding,
         zone: walkway, t0: 4.0, t1: 34.0, note: "the first group on the walkway"}

Video paths: absolute, or relative to the current directory, or failing that relative to the
folder of the golden file or one of its ancestors (so ``tests/golden/videos/x.mp4`` and
``../shared/media/vtest.avi`` work from the repo root and from anywhere inside the repo).
``t0``/``t1`` are seconds into the video; ``zone`` is optional (any zone of the camera).

Matching, per video and camera: an event matches a golden event of the same type (and zone,
if the golden one names one) when their intervals ``[video_t0, video_t1]`` and ``[t0, t1]``
overlap (touching counts). Each golden event matches at most one event and each event at most
one golden event; pairs are taken greedily, largest overlap first. Per type: matched events
are true positives, unmatched events false positives, unmatched golden events false
negatives; precision = tp / (tp + fp), or 1.0 when nothing was reported; recall =
tp / (tp + fn), or 1.0 when nothing was expected; F1 = 2PR / (P + R), or 0.0 when P + R = 0.

Replays start at a fixed wall time (``START_TIME``) into a temporary data folder (queue,
evidence), so evaluating never touches the deployment's queue or evidence.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.config import ID_PATTERN, Config, QueueConfig
from service.config.base import FileProblem, validation_problem
from vision.rules.registry import EVENT_TYPES, RULES

logger = logging.getLogger(__name__)

START_TIME = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
"""Wall time of every replay's first frame (10:00 in Asia/Shanghai, a Monday)."""

EventTypeName = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class GoldenError(FileProblem):
    """A golden file problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldenVideo(_Strict):
    video: str = Field(min_length=1, description="Video file (see the module doc for paths)")
    camera: str = Field(pattern=ID_PATTERN, description="Camera id of the config to replay as")


class GoldenEvent(_Strict):
    video: str = Field(min_length=1, description="The video, as written under videos:")
    camera: str = Field(pattern=ID_PATTERN)
    type: EventTypeName
    zone: str | None = Field(None, description="Zone name; unset: any zone of the camera")
    t0: float = Field(ge=0, allow_inf_nan=False, description="Start, seconds into the video")
    t1: float = Field(ge=0, allow_inf_nan=False, description="End, seconds into the video")
    note: str | None = Field(None, description="What a person sees (free text)")

    @model_validator(mode="after")
    def _ordered(self) -> GoldenEvent:
        if self.t1 < self.t0:
            raise ValueError(f"t1 ({self.t1:g}) is before t0 ({self.t0:g})")
        return self


class GoldenFile(_Strict):
    videos: list[GoldenVideo] = Field(min_length=1)
    events: list[GoldenEvent] = Field(default_factory=list)


@dataclass(frozen=True)
class Golden:
    """A validated golden file: videos with their resolved paths, and the expected events."""

    path: Path
    videos: list[GoldenVideo]
    paths: dict[str, Path]
    """Video as written in the file -> the file found on disk."""
    events: list[GoldenEvent]


def load_golden(path: str | Path, cwd: Path | None = None) -> Golden:
    """Read and validate a golden file and find its videos; raise GoldenError on the first
    problem (naming the file, the key and what to fix)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoldenError(path, "", "no such golden file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GoldenError(path, "", f"invalid YAML: {where}{problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldenError(path, "", f"cannot read the golden file ({exc})") from None
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else type(raw).__name__
        raise GoldenError(path, "", f"the top level must be a mapping with videos:, got {got}")
    try:
        parsed = GoldenFile.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    listed: dict[str, str] = {}
    for index, item in enumerate(parsed.videos):
        if item.video in listed:
            raise GoldenError(path, f"videos[{index}].video", f"'{item.video}' is listed twice")
        listed[item.video] = item.camera
    for index, event in enumerate(parsed.events):
        if event.video not in listed:
            raise GoldenError(
                path, f"events[{index}].video", f"'{event.video}' is not listed under videos:"
            )
        if event.camera != listed[event.video]:
            raise GoldenError(
                path,
                f"events[{index}].camera",
                f"'{event.camera}' is not the camera '{listed[event.video]}' that "
                f"'{event.video}' replays as under videos:",
            )
    paths = {}
    for index, item in enumerate(parsed.videos):
        found = find_video(item.video, path, cwd)
        if found is None:
            raise GoldenError(
                path,
                f"videos[{index}].video",
                f"no such video file '{item.video}' (looked in the current directory and "
                "in the golden file's folder and its parents)",
            )
        paths[item.video] = found
    return Golden(path=path, videos=parsed.videos, paths=paths, events=parsed.events)


def find_video(video: str, golden: Path, cwd: Path | None = None) -> Path | None:
    """``video`` if absolute, else the first existing of cwd/video, then folder/video for the
    golden file's folder and each of its ancestors."""
    candidate = Path(video)
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    folder = golden.resolve().parent
    for base in [cwd or Path.cwd(), folder, *folder.parents]:
        if (base / candidate).is_file():
            return (base / candidate).resolve()
    return None


def _first_error(path: Path, exc: ValidationError) -> GoldenError:
    key, message = validation_problem(exc, GoldenFile)
    first = exc.errors(include_url=False)[0]
    if first["type"] == "literal_error":
        message = f"unknown event type {first['input']!r} (valid: {', '.join(EVENT_TYPES)})"
    return GoldenError(path, key, message)


def check_cameras(golden: Golden, config: Config) -> None:
    """Every camera the golden file names exists in the config, with the zones it names."""
    cameras = {camera.id: camera for camera in config.cameras}
    for index, item in enumerate(golden.videos):
        if item.camera not in cameras:
            raise GoldenError(
                golden.path,
                f"videos[{index}].camera",
                f"no camera '{item.camera}' in {config.source_file or 'the config'} "
                f"(cameras: {', '.join(cameras)})",
            )
    for index, event in enumerate(golden.events):
        zones = [zone.name for zone in cameras[event.camera].zones]
        if event.zone is not None and event.zone not in zones:
            raise GoldenError(
                golden.path,
                f"events[{index}].zone",
                f"camera '{event.camera}' has no zone '{event.zone}' (zones: {', '.join(zones)})",
            )


# ---------------------------------------------------------------------------------------------
# matching and scores


@dataclass(frozen=True)
class Detected:
    """A final event of a replay, reduced to what matching needs."""

    video: str
    camera: str
    type: str
    zone: str
    t0: float
    t1: float
    id: str = ""
    snapshot: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Match:
    event: Detected
    golden: GoldenEvent
    overlap: float


@dataclass
class Matching:
    matches: list[Match] = field(default_factory=list)
    false_positives: list[Detected] = field(default_factory=list)
    false_negatives: list[GoldenEvent] = field(default_factory=list)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the intersection of [a0, a1] and [b0, b1]; negative when they are apart."""
    return min(a1, b1) - max(a0, b0)


def _compatible(event: Detected, gold: GoldenEvent) -> bool:
    return (
        event.video == gold.video
        and event.camera == gold.camera
        and event.type == gold.type
        and (gold.zone is None or gold.zone == event.zone)
    )


def match_events(events: list[Detected], golden: list[GoldenEvent]) -> Matching:
    """Pair events with golden events (see the module doc): greedy, largest overlap first,
    each side used at most once; ties go to the earlier event and golden entry."""
    pairs = []
    for i, event in enumerate(events):
        for j, gold in enumerate(golden):
            if _compatible(event, gold):
                shared = overlap(event.t0, event.t1, gold.t0, gold.t1)
                if shared >= 0:
                    pairs.append((-shared, i, j))
    pairs.sort()
    used_events: set[int] = set()
    used_golden: set[int] = set()
    result = Matching()
    for negative, i, j in pairs:
        if i in used_events or j in used_golden:
            continue
        used_events.add(i)
        used_golden.add(j)
        result.matches.append(Match(events[i], golden[j], -negative))
    result.false_positives = [e for i, e in enumerate(events) if i not in used_events]
    result.false_negatives = [g for j, g in enumerate(golden) if j not in used_golden]
    return result


@dataclass(frozen=True)
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def score(matching: Matching, types: Iterable[str] = ()) -> dict[str, TypeScore]:
    """Per event type: tp, fp, fn. ``types`` are listed even with nothing in them (a rule that
    ran on negatives only and stayed quiet scores precision 1, recall 1)."""
    counts: dict[str, list[int]] = {t: [0, 0, 0] for t in types}
    for match in matching.matches:
        counts.setdefault(match.golden.type, [0, 0, 0])[0] += 1
    for event in matching.false_positives:
        counts.setdefault(event.type, [0, 0, 0])[1] += 1
    for gold in matching.false_negatives:
        counts.setdefault(gold.type, [0, 0, 0])[2] += 1
    return {t: TypeScore(*counts[t]) for t in sorted(counts)}


def overall(scores: dict[str, TypeScore]) -> TypeScore:
    return TypeScore(
        sum(s.tp for s in scores.values()),
        sum(s.fp for s in scores.values()),
        sum(s.fn for s in scores.values()),
    )


# ---------------------------------------------------------------------------------------------
# replay


def read_final_events(path: Path, video: str) -> list[Detected]:
    """The events of a replay's JSONL file (the last record of each event id)."""
    records: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                records[record["id"]] = record
    return [
        Detected(
            video=video,
            camera=r["camera_id"],
            type=r["type"],
            zone=r["zone"],
            t0=float(r["video_t0"]),
            t1=float(r["video_t1"]),
            id=r["id"],
            snapshot=r.get("snapshot"),
            score=float(r.get("score") or 0.0),
        )
        for r in records.values()
    ]


def rule_types(config: Config, camera_ids: Iterable[str]) -> set[str]:
    """Event types the zones of these cameras can report."""
    types: set[str] = set()
    for camera_id in camera_ids:
        for zone in config.camera(camera_id).zones:
            for rule in zone.rule_names():
                types.update(kind.name for kind in RULES[rule].events)
    return types


@dataclass
class Evaluation:
    golden: Golden
    events: list[Detected]
    matching: Matching
    scores: dict[str, TypeScore]
    work_dir: Path | None
    """Where the replays' events and evidence were kept (None: a removed temporary folder)."""

    def to_json(self) -> dict[str, Any]:
        def detected(e: Detected) -> dict[str, Any]:
            return {
                "video": e.video,
                "camera": e.camera,
                "type": e.type,
                "zone": e.zone,
                "t0": round(e.t0, 2),
                "t1": round(e.t1, 2),
                "id": e.id,
                "snapshot": e.snapshot if self.work_dir else None,
            }

        def gold(g: GoldenEvent) -> dict[str, Any]:
            return g.model_dump(exclude_none=True)

        return {
            "per_type": {t: s.to_json() for t, s in self.scores.items()},
            "overall": overall(self.scores).to_json(),
            "videos": len(self.golden.videos),
            "matches": [
                {
                    "event": detected(m.event),
                    "golden": gold(m.golden),
                    "overlap": round(m.overlap, 2),
                }
                for m in self.matching.matches
            ],
            "false_positives": [detected(e) for e in self.matching.false_positives],
            "false_negatives": [gold(g) for g in self.matching.false_negatives],
        }


def evaluate(
    config: Config,
    golden: Golden,
    *,
    work_dir: Path | None = None,
    on_video: Callable[[int, GoldenVideo], None] | None = None,
    replay_fn: Callable[..., Any] | None = None,
) -> Evaluation:
    """Replay every golden video as its camera into ``work_dir`` (default: a temporary folder,
    removed afterwards), collect the final events and score them. ``on_video(index, video)``
    is called before each replay (progress)."""
    check_cameras(golden, config)
    if replay_fn is None:
        from service.edge.replay import replay as replay_fn
    with tempfile.TemporaryDirectory(prefix="streetwatch-eval-") as tmp:
        root = Path(work_dir or tmp).resolve()
        root.mkdir(parents=True, exist_ok=True)
        isolated = config.model_copy(
            update={
                "data_dir": root,
                "evidence_dir": None,
                "queue": QueueConfig(spool=config.queue.spool),
            }
        )
        events: list[Detected] = []
        for index, item in enumerate(golden.videos):
            if on_video is not None:
                on_video(index, item)
            out = root / "events" / f"{index:03d}-{item.camera}.jsonl"
            replay_fn(
                isolated,
                golden.paths[item.video],
                camera_id=item.camera,
                events_out=out,
                start_time=START_TIME,
                show_progress=False,
            )
            events.extend(read_final_events(out, item.video))
    matching = match_events(events, golden.events)
    types = rule_types(config, {v.camera for v in golden.videos})
    types.update(g.type for g in golden.events)
    return Evaluation(golden, events, matching, score(matching, types), work_dir)
