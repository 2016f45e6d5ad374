"""The missing-helmet rule: a head in a construction zone seen bare in most of its last K
observations.

The helmet detector reports head boxes labelled ``helmet`` or ``no_helmet``. One frame's label
flickers (a hand, a cap, a turned head), so the rule follows each head across observations and
judges it on its recent history, not on one frame. Heads are followed without tracker ids:
people move between observations (1-2 fps), so a head is matched to the track whose last box
overlaps it most (IoU >= ``match_iou``), or failing that whose centre lies less than one head
size away. Each track is one person, and its id is the candidate's ``subject``: the dedup layer
keeps one event per person, however many frames it fires on.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from vision.geometry import box_iou
from vision.rules.base import EventKind, FiniteFloat, RuleSettings, RuleSpec
from vision.types import Candidate, Detections, Frame
from vision.zones import Zone

logger = logging.getLogger(__name__)

TYPE = "missing_helmet"
BARE = "no_helmet"
HEAD_LABELS = ("helmet", BARE)


class MissingHelmetSettings(RuleSettings):
    """In a construction zone, a person whose head is seen bare in most recent observations:
    one event per person."""

    min_score: FiniteFloat = Field(
        0.35, ge=0, le=1, description="Helmeted-head detections below this are ignored"
    )
    bare_min_score: FiniteFloat = Field(
        0.25,
        ge=0,
        le=1,
        description="Bare-head (no_helmet) detections below this are ignored: the helmet "
        "model's best-F1 no_helmet threshold on the helmet-sfchd val split (0.25-0.26, fp32 "
        "and int8); a single low score cannot fire, the K-window majority must agree",
    )
    window: int = Field(5, ge=1, description="The last K observations of a head that count")
    bare_fraction: FiniteFloat = Field(
        0.6, gt=0, le=1, description="Share of those K where the head was bare"
    )
    min_observations: int = Field(3, ge=1, description="Sightings of a head before it can fire")
    match_iou: FiniteFloat = Field(
        0.2, gt=0, le=1, description="Box overlap that makes two sightings one head"
    )
    forget_s: FiniteFloat = Field(
        10.0, gt=0, description="A head unseen this long is a new person next time"
    )


@dataclass(slots=True)
class _Track:
    id: int
    box: np.ndarray
    first_pts: float
    last_pts: float
    seen: deque[tuple[bool, float]]
    """(bare, score) of the last ``window`` observations."""
    observations: int = 0


class MissingHelmetRule:
    """Follows heads standing in one zone (the bottom-centre of the head box inside the
    polygon); on every frame, reports one candidate per head seen on that frame whose last
    ``window`` observations were bare at least ``bare_fraction`` of the time (and which has been
    seen at least ``min_observations`` times). A worker who puts a helmet on stops firing once
    the share drops. Time is measured in ``frame.pts`` seconds: the rule may be called on any
    subset of frames."""

    type = TYPE
    needs = frozenset({"helmet"})

    def __init__(self, camera_id: str, zone: Zone, thresholds: MissingHelmetSettings) -> None:
        if thresholds.window < 1 or thresholds.min_observations < 1:
            raise ValueError(
                f"{camera_id}: missing_helmet in zone {zone.name!r}: window and "
                f"min_observations must be at least 1, got {thresholds.window} and "
                f"{thresholds.min_observations}"
            )
        self.camera_id = camera_id
        self.zone = zone
        self.thresholds = thresholds
        self._tracks: dict[int, _Track] = {}
        self._next_id = 1

    def update(self, frame: Frame, dets: Detections) -> list[Candidate]:
        if not self.zone.is_active(frame.wall):
            self._tracks.clear()
            return []
        t = self.thresholds
        heads = dets.with_label(*HEAD_LABELS)
        floor = np.where(heads.label == BARE, t.bare_min_score, t.min_score)
        heads = heads[heads.score >= floor]
        heads = heads[self.zone.contains(heads)]
        self._forget(frame.pts)
        observed = self._observe(frame.pts, heads)
        candidates = []
        for track in observed:
            if track.observations < t.min_observations:
                continue
            bare_scores = [score for bare, score in track.seen if bare]
            if len(bare_scores) / len(track.seen) < t.bare_fraction:
                continue
            candidates.append(
                Candidate(
                    type=TYPE,
                    camera_id=self.camera_id,
                    zone=self.zone.name,
                    pts=frame.pts,
                    wall=frame.wall,
                    score=float(np.mean(bare_scores)),
                    boxes=[[round(float(v), 1) for v in track.box]],
                    count=None,
                    started_pts=track.first_pts,
                    subject=f"head-{track.id}",
                )
            )
        return candidates

    def _forget(self, pts: float) -> None:
        for track_id in [
            i for i, tr in self._tracks.items() if pts - tr.last_pts > self.thresholds.forget_s
        ]:
            logger.debug("%s: zone %s forgets head-%d", self.camera_id, self.zone.name, track_id)
            del self._tracks[track_id]

    def _observe(self, pts: float, heads: Detections) -> list[_Track]:
        """Match this frame's heads to tracks, start tracks for the rest; return the tracks
        seen on this frame."""
        tracks = list(self._tracks.values())
        assignment = self._match(tracks, heads.xyxy)
        observed = []
        for index in range(len(heads)):
            box = heads.xyxy[index].astype(np.float64)
            track = assignment.get(index)
            if track is None:
                track = _Track(self._next_id, box, pts, pts, deque(maxlen=self.thresholds.window))
                self._tracks[track.id] = track
                self._next_id += 1
            track.box = box
            track.last_pts = pts
            track.observations += 1
            track.seen.append((heads.label[index] == BARE, float(heads.score[index])))
            observed.append(track)
        return observed

    def _match(self, tracks: list[_Track], boxes: np.ndarray) -> dict[int, _Track]:
        """Greedy: best IoU pairs first (>= match_iou), then the nearest centres (closer than
        the track's head size) among what is left. Returns head index -> track."""
        if not tracks or not len(boxes):
            return {}
        previous = np.stack([track.box for track in tracks])
        iou = box_iou(boxes, previous)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        track_centres = (previous[:, :2] + previous[:, 2:]) / 2
        size = np.maximum(previous[:, 2] - previous[:, 0], previous[:, 3] - previous[:, 1])
        distance = np.linalg.norm(centres[:, None, :] - track_centres[None, :, :], axis=2)
        relative = distance / np.maximum(size, 1e-6)[None, :]
        assignment: dict[int, _Track] = {}
        taken: set[int] = set()
        # overlaps rank first (keys in [-1, 0)), then distances (keys in [1, 2))
        pairs = [(-iou[h, k], h, k) for h, k in np.argwhere(iou >= self.thresholds.match_iou)]
        pairs += [(1.0 + relative[h, k], h, k) for h, k in np.argwhere(relative < 1.0)]
        for _, h, k in sorted(pairs):
            if int(h) in assignment or int(k) in taken:
                continue
            assignment[int(h)] = tracks[k]
            taken.add(int(k))
        return assignment


def _build(
    camera_id: str, zone: Zone, settings: MissingHelmetSettings, needs: frozenset[str]
) -> MissingHelmetRule:
    return MissingHelmetRule(camera_id, zone, settings)


SPEC = RuleSpec(
    name=TYPE,
    settings=MissingHelmetSettings,
    events=(EventKind(TYPE, "未戴安全帽", "Missing helmet", "work_safety", 60, "high", "head"),),
    build=_build,
    roles=MissingHelmetRule.needs,
)
