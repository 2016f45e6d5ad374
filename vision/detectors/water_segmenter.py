"""Standing water by semantic segmentation: DeepLabV3 + MobileNetV2 trained on ADE20K.

Unlike the reference-frame ``WaterDetector`` (vision/detectors/water.py), this needs no dry
reference: a camera that starts during a flood sees the flood on its first frame.

- **Model**: ``deeplabv3_mnv2_ade20k.tflite`` (../shared/models), read by OpenVINO as it is.
  Input 1x513x513x3 RGB in [-1, 1]; 151 channels (0 = background, channel N = ADE20K class
  N). The frame is letterboxed into the square (aspect kept, grey padding; on flood-street
  train the water share's AUC was 0.953 letterboxed against 0.888 stretched). The graph is cut
  before its last upsampling (129x129 -> 513x513: 16 times the output for nothing) and a
  softmax is appended, so each image yields class probabilities on a grid of up to 129x129
  cells over the frame (the padding's cells dropped): the *working resolution*.
- **Water** is the summed probability of the water-like classes (22 water, 27 sea, 61 river,
  110 swimming pool, 114 waterfall, 129 lake): soft probabilities, not argmax, so a zone's water
  share is the mean water probability over it (train AUC in the lower half: soft 0.953, argmax
  share 0.945, soft share of the non-sky part 0.952).
- **Zone**: a polygon in frame pixels, rasterised at 4x the working grid and area-averaged, so
  small zones get fractional cell weights. Default: the lower half of the frame, the road of a
  street view (on train: AUC 0.953 against 0.949 for the whole frame and 0.947 for the lower
  third), which keeps the sky and a sea or river in the background out of the zone.
- **Head** (optional, ``WaterHead``, models/weights/water_head.json): a logistic regression
  over the log of the mean probability of each of the 151 classes inside the zone and over
  the whole frame (302 features), trained on flood-street train (flooding against normal and
  half of the wet-road hard negatives). It reads the scene, not only the water channels (a
  dry grey road the model half calls water, brown flood water it calls road or earth). Its
  ``score`` is the probability that the zone is flooded. Without a head, ``score`` is the
  water share itself. Measured figures: models/cards/water.md.

``analyse(image, zone)`` returns a ``WaterReading`` (``coverage``, ``detections``, ``mask``,
like ``WaterAnalysis``; plus ``score``, ``flooded``); ``detect(images)`` is the Detector
interface (boxes of water regions, label ``water``).

Limits, honestly: trained and measured on web photos (flood-street), not traffic-camera
frames; a few rain-wet roads that mirror the sky still read as flooded (2 of 50 held out);
odd out-of-domain pictures (a printed map) can score high; muddy water seen from above and the
sea are known weak spots of the base model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.detectors.base import ModelFileError, first_line
from vision.detectors.water import WaterAnalysis
from vision.types import Detections

logger = logging.getLogger(__name__)

MODEL_SHA256 = "9476784566f88bf0bdc3169f0012fb7d08857b325811d8c1aaf5ada1c0d4e4f9"
"""sha256 of deeplabv3_mnv2_ade20k.tflite."""
INPUT_SIZE = 513
NUM_CLASSES = 151
WATER_CLASSES = (22, 27, 61, 110, 114, 129)
"""ADE20K water, sea, river, swimming pool, waterfall, lake."""
SKY_CLASS = 3
DEFAULT_LOWER = 0.5
"""Default zone: this share of the frame, from the bottom."""
SHARE_THRESHOLD = 0.059
"""Without a head: the zone is flooded from this water share on (chosen on flood-street train,
F1-best; see models/cards/water.md)."""
HEAD_FORMAT = "streetwatch-water-head/1"
CLIP = 5.0
"""Standardised head features are clipped to +-CLIP."""
MIN_SCALE = 0.25
"""Smallest spread (log units) a head feature is standardised by: classes that are absent
from every training image (spread ~0) must not turn noise into large features."""
_SUPERSAMPLE = 4
_STRIDE = 4
"""Input pixels per output cell of the cut graph (513 -> 129)."""
Polygon = Sequence[Sequence[float]] | np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """One image's class probabilities at the working resolution (``probs``: H x W x 151,
    rows and columns spread evenly over the frame) and the frame's ``(width, height)``."""

    probs: np.ndarray
    frame_size: tuple[int, int]

    @property
    def grid(self) -> tuple[int, int]:
        """(height, width) of the working grid."""
        return int(self.probs.shape[0]), int(self.probs.shape[1])

    @property
    def water(self) -> np.ndarray:
        """Water probability per cell (float32, summed over the water-like classes)."""
        return self.probs[..., list(WATER_CLASSES)].sum(-1)

    @property
    def labels(self) -> np.ndarray:
        """The most likely class per cell (uint8)."""
        return self.probs.argmax(-1).astype(np.uint8)


@dataclass(frozen=True)
class WaterReading(WaterAnalysis):
    """One frame and one zone: a ``WaterAnalysis`` (``work_mask``, ``frame_size``, ``coverage``,
    ``detections``, ``mask``) plus the flood ``score`` and the decision.

    ``coverage``: mean water probability over the zone (0..1). ``score``: the head's
    probability that the zone is flooded (without a head: ``coverage``). ``flooded``:
    ``score >= threshold``. ``work_mask``: water cells (probability >= 0.5) inside the zone on
    the working grid. ``detections``: those cells' regions, boxes in frame pixels."""

    score: float
    threshold: float
    water: np.ndarray
    """Water probability on the working grid (whole frame)."""

    @property
    def flooded(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True)
class WaterHead:
    """Logistic regression over pooled class probabilities: ``features`` (zone, frame) ->
    probability that the zone is flooded; ``threshold`` decides."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    eps: float = 1e-4
    meta: dict | None = None

    def __post_init__(self) -> None:
        n = 2 * NUM_CLASSES
        for name in ("mean", "scale", "coef"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(
                    f"{name} must hold {n} values, got {np.shape(getattr(self, name))}"
                )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie in (0, 1), got {self.threshold}")

    def features(self, zone_probs: np.ndarray, frame_probs: np.ndarray) -> np.ndarray:
        """(N, 302) log mean class probabilities in the zone, then over the frame."""
        pooled = np.concatenate(
            [np.atleast_2d(zone_probs), np.atleast_2d(frame_probs)], axis=1
        ).astype(np.float64)
        return np.log(pooled + self.eps)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Probability of flooding per row of ``features``."""
        z = self.standardise(features) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def standardise(self, features: np.ndarray) -> np.ndarray:
        """Features in units of the training spread, clipped to +-``CLIP`` (a class the
        training images never showed cannot swing the decision on its own)."""
        z = (np.atleast_2d(features) - self.mean) / self.scale
        return np.clip(z, -CLIP, CLIP)

    @classmethod
    def load(cls, path: str | Path) -> WaterHead:
        """Read a head file; a ModelFileError naming it when it is missing or malformed."""
        file = Path(path)
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelFileError(f"{file}: no such water head file") from None
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{file}: not a readable water head ({first_line(exc)})") from None
        if not isinstance(raw, dict) or raw.get("format") != HEAD_FORMAT:
            raise ModelFileError(f"{file}: not a water head file (format is not {HEAD_FORMAT})")
        try:
            return cls(
                mean=np.asarray(raw["mean"], np.float64),
                scale=np.asarray(raw["scale"], np.float64),
                coef=np.asarray(raw["coef"], np.float64),
                intercept=float(raw["intercept"]),
                threshold=float(raw["threshold"]),
                eps=float(raw.get("eps", 1e-4)),
                meta={k: v for k, v in raw.items() if k not in {"mean", "scale", "coef"}},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{file}: malformed water head ({first_line(exc)})") from None

    def save(self, path: str | Path, **meta: object) -> Path:
        """Write the head as JSON (``meta``: provenance and measured figures)."""
        body = {**(self.meta or {}), **meta, "format": HEAD_FORMAT}
        body.update(
            eps=self.eps,
            threshold=round(float(self.threshold), 4),
            intercept=float(self.intercept),
            mean=[round(float(v), 6) for v in self.mean],
            scale=[round(float(v), 6) for v in self.scale],
            coef=[round(float(v), 6) for v in self.coef],
        )
        file = Path(path)
        lines = ",\n".join(
            f" {json.dumps(key)}: {json.dumps(value)}" for key, value in body.items()
        )
        file.write_text("{\n" + lines + "\n}\n", encoding="utf-8")
        return file


def lower_zone(frame_size: tuple[int, int], lower: float = DEFAULT_LOWER) -> np.ndarray:
    """The bottom ``lower`` share of a ``(width, height)`` frame as a polygon."""
    width, height = frame_size
    top = height * (1.0 - lower)
    return np.array([[0, top], [width, top], [width, height], [0, height]], np.float64)


def verify_model_file(path: Path, sha256: str | None) -> None:
    """A ModelFileError naming ``path`` when it is missing, empty or not the expected file."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file (the DeepLabV3 ADE20K water model)")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{path}: the model file is empty")
    if sha256 is None:
        return
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    actual = digest.hexdigest()
    if actual != sha256:
        raise ModelFileError(
            f"{path}: sha256 {actual[:12]}… is not the expected {sha256[:12]}… "
            "(corrupt or replaced model file)"
        )


class WaterSegmenter:
    """Water by segmentation on OpenVINO's CPU plugin, one frame at a time on every core.

    Not ``OpenVinoPool``'s THROUGHPUT streams: with two or more CPU streams OpenVINO 2026.4
    returns wrong probabilities for this model on the 2-core AMD EPYC test machine (the
    flooded street image_102 of flood-street: water 0.00-0.01 of the lower half instead of
    0.77, different from one compilation to the next), and one stream on both cores measured
    faster anyway (0.055 s a frame against 0.10 for two single-thread lanes). A batch runs
    frame after frame on that stream: the graph reshaped to a batch of 4 measured no faster
    (0.065-0.10 against 0.053-0.078 s a frame) and gave the same probabilities.

    ``model``: the .tflite file (checked against ``sha256``; None skips the check).
    ``head``: a ``WaterHead`` or its JSON file (None: decide on the water share alone).
    ``threshold``: the decision threshold on ``score`` (default: the head's, else
    ``SHARE_THRESHOLD``). ``lower``: the default zone, this share of the frame from the bottom.
    ``min_region``: smallest water region reported by ``detect`` (share of the frame).
    ``threads``: OpenVINO CPU threads (default: every core).
    ``fit``: how a frame becomes the 513x513 input: ``letterbox`` (aspect kept; measured better
    on flood-street train) or ``stretch``. A head works with the fit it was trained with.

    Thread-safe: calls from several threads take turns on the model.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        head: WaterHead | str | Path | None = None,
        threshold: float | None = None,
        lower: float = DEFAULT_LOWER,
        min_region: float = 0.005,
        sha256: str | None = MODEL_SHA256,
        threads: int | None = None,
        fit: str = "letterbox",
        name: str = "water-deeplab",
    ) -> None:
        if fit not in {"letterbox", "stretch"}:
            raise ValueError(f"fit must be letterbox or stretch, not {fit!r}")
        if not 0.0 < lower <= 1.0:
            raise ValueError(f"lower must lie in (0, 1], got {lower}")
        path = Path(model)
        verify_model_file(path, sha256)
        self.path = path
        self.name = name
        self.labels = frozenset({"water"})
        self.head = head if isinstance(head, WaterHead) or head is None else WaterHead.load(head)
        trained_fit = (self.head.meta or {}).get("fit") if self.head is not None else None
        if trained_fit not in (None, fit):
            raise ValueError(f"the water head was trained on {trained_fit} frames, not {fit}")
        default = self.head.threshold if self.head is not None else SHARE_THRESHOLD
        self.threshold = float(default if threshold is None else threshold)
        self.lower = lower
        self.fit = fit
        self.min_region = min_region
        self._request = _compile(path, threads)
        self._lock = threading.Lock()
        self._zones: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._zones_lock = threading.Lock()

    # -- segmentation ----------------------------------------------------------------------

    def segment(self, images: Sequence[np.ndarray]) -> list[Segmentation]:
        """Class probabilities of each BGR image (any sizes) at the working resolution."""
        for image in images:
            if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
                raise ValueError(f"{self.name}: expected BGR images, got shape {image.shape}")

        out = []
        for image in images:
            blob, (rows, cols) = _blob(image, self.fit)
            with self._lock:
                self._request.infer({0: blob})
                output = self._request.get_output_tensor(0).data[0]
                stride = (INPUT_SIZE - 1) // (output.shape[0] - 1)
                if stride != _STRIDE:  # the uncut model's 513x513 output
                    rows, cols = (
                        (rows - 1) * _STRIDE // stride + 1,
                        (cols - 1) * _STRIDE // stride + 1,
                    )
                probs = output[:rows, :cols].copy()
            out.append(Segmentation(probs, (int(image.shape[1]), int(image.shape[0]))))
        return out

    # -- zones -----------------------------------------------------------------------------

    def zone_weights(self, seg: Segmentation, zone: Polygon | None = None) -> np.ndarray:
        """Per-cell share (0..1) of the working grid inside ``zone`` (frame pixels; None: the
        default lower zone). A ValueError when the zone does not overlap the frame."""
        polygon = lower_zone(seg.frame_size, self.lower) if zone is None else zone
        polygon = np.asarray(polygon, np.float64).reshape(-1, 2)
        if len(polygon) < 3:
            raise ValueError(f"a zone needs at least 3 points, got {len(polygon)}")
        key = (seg.frame_size, seg.grid, polygon.tobytes())
        with self._zones_lock:
            cached = self._zones.get(key)
            if cached is not None:
                self._zones.move_to_end(key)
                return cached
        rows, cols = seg.grid
        width, height = seg.frame_size
        fine = np.zeros((rows * _SUPERSAMPLE, cols * _SUPERSAMPLE), np.uint8)
        scale = np.array([cols * _SUPERSAMPLE / width, rows * _SUPERSAMPLE / height])
        points = np.round(polygon * scale * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillPoly(fine, [points], 255, lineType=cv2.LINE_8, shift=4)
        weights = cv2.resize(fine, (cols, rows), interpolation=cv2.INTER_AREA) / 255.0
        if weights.sum() <= 0:
            x0, y0 = polygon.min(0)
            x1, y1 = polygon.max(0)
            raise ValueError(
                f"zone [{x0:g}, {y0:g}]-[{x1:g}, {y1:g}] lies outside the "
                f"{width}x{height} frame (zones are polygons in frame pixels)"
            )
        weights = weights.astype(np.float32)
        with self._zones_lock:
            self._zones[key] = weights
            while len(self._zones) > 64:
                self._zones.popitem(last=False)
        return weights

    def zone_share(self, seg: Segmentation, zone: Polygon | None = None) -> float:
        """Share of ``zone`` (frame pixels; None: the default lower zone) covered by water:
        the mean water probability over it."""
        weights = self.zone_weights(seg, zone)
        return float((weights * seg.water).sum() / weights.sum())

    def pooled(
        self, seg: Segmentation, zone: Polygon | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean probability of each of the 151 classes inside ``zone`` and over the frame."""
        weights = self.zone_weights(seg, zone)
        flat = seg.probs.reshape(-1, seg.probs.shape[-1])
        zone_mean = weights.reshape(-1) @ flat / weights.sum()
        return zone_mean, flat.mean(0)

    def score(self, seg: Segmentation, zone: Polygon | None = None) -> float:
        """The flood score of ``zone``: the head's probability, else the water share."""
        if self.head is None:
            return self.zone_share(seg, zone)
        return float(self.head.predict(self.head.features(*self.pooled(seg, zone)))[0])

    # -- the rule's and the pipeline's interfaces ------------------------------------------

    def read(self, seg: Segmentation, zone: Polygon | None = None) -> WaterReading:
        """The ``WaterReading`` of one segmented frame and zone."""
        weights = self.zone_weights(seg, zone)
        water = seg.water
        coverage = float((weights * water).sum() / weights.sum())
        score = coverage if self.head is None else self.score(seg, zone)
        work_mask = (water >= 0.5) & (weights >= 0.5)
        return WaterReading(
            work_mask=work_mask,
            frame_size=seg.frame_size,
            coverage=coverage,
            detections=self._regions(work_mask, water, seg.frame_size, weights.sum()),
            score=score,
            threshold=self.threshold,
            water=water,
        )

    def analyse(self, image: np.ndarray, zone: Polygon | None = None) -> WaterReading:
        """One frame, one zone (frame pixels; None: the lower part of the frame)."""
        return self.read(self.segment([image])[0], zone)

    def analyse_batch(
        self, images: Sequence[np.ndarray], zones: Sequence[Polygon | None] | None = None
    ) -> list[WaterReading]:
        """Several frames (e.g. of several cameras) in one batch, one zone each."""
        zones = [None] * len(images) if zones is None else list(zones)
        if len(zones) != len(images):
            raise ValueError(f"{len(images)} images but {len(zones)} zones")
        return [self.read(seg, zone) for seg, zone in zip(self.segment(images), zones, strict=True)]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Water regions over the whole frame, boxes in frame pixels, label ``water``."""
        out = []
        for seg in self.segment(images):
            water = seg.water
            out.append(self._regions(water >= 0.5, water, seg.frame_size, float(water.size)))
        return out

    def _regions(
        self, mask: np.ndarray, water: np.ndarray, frame_size: tuple[int, int], area: float
    ) -> Detections:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
        rows, cols = mask.shape
        sx, sy = frame_size[0] / cols, frame_size[1] / rows
        boxes, scores = [], []
        for index in range(1, count):
            x, y, w, h, cells = (int(v) for v in stats[index])
            if cells < max(1.0, self.min_region * area):
                continue
            boxes.append([x * sx, y * sy, (x + w) * sx, (y + h) * sy])
            scores.append(float(water[labels == index].mean()))
        if not boxes:
            return Detections.empty()
        return Detections(
            np.array(boxes, np.float32),
            np.array(["water"] * len(boxes), dtype=object),
            np.clip(np.array(scores, np.float32), 0, 1),
        )


def _blob(image: np.ndarray, fit: str = "letterbox") -> tuple[np.ndarray, tuple[int, int]]:
    """A BGR frame as the network's input (1x513x513x3 RGB in [-1, 1]) and the (rows, columns)
    of the working grid that show the frame. ``letterbox``: scaled to fit, aspect kept, at the
    top left, the rest 0 (mid grey); ``stretch``: scaled to the whole square."""
    height, width = image.shape[:2]
    if fit == "stretch":
        size = (INPUT_SIZE, INPUT_SIZE)
    else:
        scale = INPUT_SIZE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
    shrink = size[0] < width and size[1] < height
    scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    blob = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), np.float32)
    view = blob[0, : size[1], : size[0]]
    view[...] = cv2.cvtColor(scaled, cv2.COLOR_BGR2RGB)
    view *= 1.0 / 127.5
    view -= 1.0
    # output cell i sits on input pixel 4 i (output stride 4, corners aligned)
    return blob, ((size[1] - 1) // _STRIDE + 1, (size[0] - 1) // _STRIDE + 1)


def _compile(path: Path, threads: int | None):  # noqa: ANN202 - openvino types
    """One infer request of the probabilities model, compiled for latency (one stream)."""
    import openvino as ov

    core = ov.Core()
    try:
        model = core.read_model(str(path))
    except Exception as exc:  # openvino raises RuntimeError subclasses of its own
        raise ModelFileError(
            f"{path}: not a loadable segmentation model ({first_line(exc)})"
        ) from None
    config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = core.compile_model(_probabilities_model(path, model), "CPU", config)
    return compiled.create_infer_request()


def _probabilities_model(path: Path, model):  # noqa: ANN001, ANN202 - openvino types
    """The segmenter cut before its final upsampling, with a softmax over the classes.

    A ModelFileError when the graph is not the expected DeepLabV3 (input 1x513x513x3, 151
    classes out)."""
    import openvino as ov
    import openvino.opset13 as ops

    inputs = [
        tuple(i.get_partial_shape().to_shape())
        for i in model.inputs
        if i.get_partial_shape().is_static
    ]
    outputs = [str(o.get_partial_shape()) for o in model.outputs]
    if (
        len(model.inputs) != 1
        or inputs != [(1, INPUT_SIZE, INPUT_SIZE, 3)]
        or len(model.outputs) != 1
        or model.outputs[0].get_partial_shape()[-1].get_length() != NUM_CLASSES
    ):
        raise ModelFileError(
            f"{path}: not the DeepLabV3 ADE20K segmentation model (inputs "
            f"{[str(i.get_partial_shape()) for i in model.inputs]}, outputs {outputs}; expected "
            f"[1,{INPUT_SIZE},{INPUT_SIZE},3] in and {NUM_CLASSES} classes out)"
        )
    node = model.get_results()[0].input_value(0).get_node()
    while node.get_type_name() in ("Interpolate", "Convert"):
        node = node.input_value(0).get_node()
    logits = node.output(0)
    shape = logits.get_partial_shape()
    if not (
        shape.is_static
        and len(shape) == 4
        and shape[3].get_length() == NUM_CLASSES
        and shape[1].get_length() <= INPUT_SIZE
    ):
        logits = model.outputs[0]  # no upsampling to skip: keep the model's own output
    logger.debug("%s: probabilities from %s %s", path.name, node.get_friendly_name(), shape)
    softmax = ops.softmax(logits, -1)
    return ov.Model([softmax.output(0)], model.get_parameters(), "water_probabilities")
