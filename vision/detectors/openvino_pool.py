"""OpenVINO inference spread over the CPU cores: one infer request per worker thread.

A compiled model in OpenVINO's THROUGHPUT mode has several streams (on a 2-core machine: two
streams of one thread each). ``OpenVinoPool.run(blobs)`` sends each blob to a request of its
own, in parallel threads (inference releases the GIL), so a batch of frames from many cameras
keeps every core busy without the thread handshakes of running one frame on all cores
(LATENCY mode). Models whose input shape varies (a letterboxed rectangle per aspect ratio)
are reshaped and compiled once per shape when the model is static, or run as they are when
it is dynamic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from vision.detectors.base import ModelFileError, first_line

logger = logging.getLogger(__name__)


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

    def run(self, blobs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The first output for each blob (its batch axis kept), in order."""
        if not blobs:
            return []
        outputs: list[np.ndarray | None] = [None] * len(blobs)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, blob in enumerate(blobs):
            groups.setdefault(tuple(blob.shape), []).append(i)
        for shape, members in groups.items():
            requests = self._compiled_for(shape)
            assert self._executor is not None
            lanes = [members[k :: len(requests)] for k in range(len(requests))]

            def lane(request, chosen: list[int]) -> None:  # noqa: ANN001
                for i in chosen:
                    request.infer({0: blobs[i]})
                    outputs[i] = request.get_output_tensor(0).data.copy()

            futures = [
                self._executor.submit(lane, request, chosen)
                for request, chosen in zip(requests, lanes, strict=True)
                if chosen
            ]
            for future in futures:
                future.result()
        return [o for o in outputs if o is not None]
