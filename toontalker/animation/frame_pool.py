"""Threads for the driving stream's per-frame CPU work: face detection and crop + resize.

Both are independent per frame (the tracker's state is updated afterwards, in frame order), and OpenCV and
mediapipe release the GIL while they work, so a pool of threads runs frames side by side: on a GPU machine the
CPU side of animate would otherwise be bound by one core (measured in docs/benchmarks.md, "End-to-end
animate"). Each thread has its own detector (mediapipe graphs are not re-entrant). ``workers=0`` runs
everything inline, in the caller's thread, in order: the outputs are the same either way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

import numpy as np

from toontalker.faces import Box, FaceDetector

T = TypeVar("T")

MAX_AUTO_WORKERS = 8


def auto_workers(model_on_cpu: bool) -> int:
    """The pool size ``workers=None`` means: none when the model runs on the CPU (inference keeps every core
    busy), else the cores minus two (the decoder and encoder processes) up to :data:`MAX_AUTO_WORKERS`."""
    if model_on_cpu:
        return 0
    return max(0, min(MAX_AUTO_WORKERS, (os.cpu_count() or 1) - 2))


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


class FramePool:
    """``detect(frame)`` and ``submit(fn, ...)`` as futures; run inline when ``workers == 0``.

    ``make_detector`` builds one detector per worker thread (only when ``detect`` is first called there);
    inline, ``detector`` (if given) is used, else one is made.
    """

    def __init__(
        self,
        workers: int,
        make_detector: Callable[[], FaceDetector] | None = None,
        detector: FaceDetector | None = None,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.workers = workers
        self._make_detector = make_detector
        self._inline_detector = detector
        self._local = threading.local()
        self._executor = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="toontalker-frames") if workers else None
        )

    def _detector(self) -> FaceDetector:
        if self._executor is None and self._inline_detector is not None:
            return self._inline_detector
        detector = getattr(self._local, "detector", None)
        if detector is None:
            if self._make_detector is None:
                raise ValueError("this FramePool was made without a detector")
            detector = self._local.detector = self._make_detector()
        return detector

    def _detect(self, frame: np.ndarray) -> list[Box]:
        return self._detector().detect(frame)

    def detect(self, frame: np.ndarray) -> Future[list[Box]]:
        """The faces of ``frame`` (as :meth:`FaceDetector.detect`), as a future."""
        return self.submit(self._detect, frame)

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        if self._executor is None:
            return _done(fn(*args))
        return self._executor.submit(fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FramePool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
