"""OpenVINO inference spread over the CPU cores: one infer request per worker thread.

A compiled model in OpenVINO's THROUGHPUT mode has several streams (on a 2-core machine: two
streams of one thread each). ``OpenVinoPool.map(work, items)`` runs each item's whole detection
(letterbox, inference, decoding) in one of as many parallel lanes, each with an infer request of
its own (OpenCV and inference release the GIL), so a batch of frames from many cameras keeps
every core busy without the thread handshakes of running one frame on all cores (LATENCY mode).
Models whose input shape varies (a letterboxed rectangle per aspect ratio) are reshaped and
compiled once per shape when the model is static, or run as they are when it is dynamic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np

from vision.detectors.base import ModelFileError, first_line

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Infer = Callable[[np.ndarray], np.ndarray]
"""Runs one blob on a lane's infer request: its first output."""


class OpenVinoPool:
    """Runs an OpenVINO model (``.xml`` or ``.onnx``) on blobs of shape (1, C, H, W), each on
    its own infer request, as many at a time as the compiled model has streams. ``threads``
    caps OpenVINO's CPU threads (default: every core). ``reshape=True`` compiles a static copy
    per input shape (for graphs with a batch of one baked in), else the model's own (dynamic)
    shape is used."""

    def __init__(
        self, path: Path, *, threads: int | None = None, reshape: bool = False, what: str = "model"
    ) -> None:
        import openvino as ov

        self.path = Path(path)
        self.core = ov.Core()
        try:
            self.model = self.core.read_model(str(self.path))
        except Exception as exc:  # openvino raises RuntimeError subclasses of its own
            reason = first_line(exc)
            raise ModelFileError(f"{self.path}: not a loadable {what} ({reason})") from None
        self.input_name = self.model.inputs[0].get_any_name()
        self.reshape = reshape
        self.config: dict[str, object] = {"PERFORMANCE_HINT": "THROUGHPUT"}
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = threads
        self._compiled: dict[tuple[int, ...] | None, object] = {}
        self._requests: dict[tuple[int, ...] | None, list] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _compiled_for(self, shape: tuple[int, ...]):  # noqa: ANN202 - openvino types
        key = shape if self.reshape else None
        with self._lock:
            if key not in self._compiled:
                model = self.model
                if self.reshape:
                    model = self.model.clone()
                    try:
                        model.reshape({self.input_name: list(shape)})
                    except Exception as exc:  # a graph with shapes baked in
                        raise ModelFileError(
                            f"{self.path}: cannot be reshaped to {shape} ({first_line(exc)})"
                        ) from None
                compiled = self.core.compile_model(model, "CPU", self.config)
                streams = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
                self._compiled[key] = compiled
                self._requests[key] = [compiled.create_infer_request() for _ in range(streams)]
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max(1, streams), thread_name_prefix=f"ov-{self.path.stem}"
                    )
                logger.debug("%s: compiled for %s, %d streams", self.path.name, shape, streams)
            return self._requests[key]

    def map(
        self,
        work: Callable[[Infer, T], R],
        items: Sequence[T],
        shape_of: Callable[[T], tuple[int, ...]] | None = None,
    ) -> list[R]:
        """``work(infer, item)`` for each item, in parallel lanes: one thread and one infer
        request per stream, items dealt round-robin. ``work`` prepares its blob, calls
        ``infer(blob)`` (the first output, batch axis kept) and decodes the output, so one
        lane's letterbox and decoding overlap the other lanes' inference. ``shape_of`` gives
        an item's blob shape (needed to compile the first shape of a ``reshape`` pool).
        Results in the order of ``items``."""
        if not items:
            return []
        first = shape_of(items[0]) if shape_of is not None else None
        if first is None and self.reshape:
            raise ValueError(f"{self.path.name}: a reshaped pool needs shape_of for map()")
        lanes = min(len(self._compiled_for(first or ())), len(items))
        assert self._executor is not None
        results: list[R | None] = [None] * len(items)

        def lane(k: int) -> None:
            def infer(blob: np.ndarray) -> np.ndarray:
                request = self._compiled_for(tuple(blob.shape))[k]
                request.infer({0: blob})
                return request.get_output_tensor(0).data.copy()

            for i in range(k, len(items), lanes):
                results[i] = work(infer, items[i])

        futures = [self._executor.submit(lane, k) for k in range(lanes)]
        for future in futures:
            future.result()
        return results  # type: ignore[return-value]  # every slot was filled

    def run(self, blobs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The first output for each blob (its batch axis kept), in order."""
        return self.map(lambda infer, blob: infer(blob), blobs, lambda blob: tuple(blob.shape))
