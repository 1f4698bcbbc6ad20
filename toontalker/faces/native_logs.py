"""Keep mediapipe's native log lines off the user's terminal.

mediapipe's C++ graphs (TFLite, absl logging) write lines such as ``INFO: Created TensorFlow Lite XNNPACK
delegate for CPU`` and ``W0000 ... inference_feedback_manager.cc ...`` straight to file descriptor 2 while a
graph starts and when it first sees a face; no environment variable or Python logger reaches them. A graph is
therefore built with descriptor 2 pointed at /dev/null *and waited for until its calculators have opened*
(:func:`open_graph`: they open, and log, on the graph's own threads after the constructor has returned), then
run muted until it has warmed up (its first call that found a face, or :data:`WARM_CALLS` calls). Only those
few moments are muted: Python's own stderr writes from other threads in that window are muted too, which costs
at most a progress-bar refresh.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

WARM_CALLS = 8
_lock = threading.RLock()
Solution = TypeVar("Solution")


@contextlib.contextmanager
def native_stderr_muted(enabled: bool = True) -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block (re-entrant, thread-safe); a no-op when disabled
    or when ``TOONTALKER_DEBUG`` is set."""
    if not enabled or os.environ.get("TOONTALKER_DEBUG"):
        yield
        return
    with _lock:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)


def open_graph(build: Callable[[], Solution]) -> Solution:
    """``build()`` (a mediapipe solution such as ``FaceDetection(...)``) with descriptor 2 muted, returned
    once its graph is idle: its calculators open on the graph's threads after the constructor returns, and
    their log lines (TFLite's XNNPACK delegate, ``inference_feedback_manager.cc``) would otherwise land on the
    terminal a few milliseconds later."""
    with native_stderr_muted():
        solution = build()
        graph = getattr(solution, "_graph", None)  # mediapipe's SolutionBase keeps its CalculatorGraph here
        if graph is not None:
            graph.wait_until_idle()
    return solution


class WarmUp:
    """Tracks one graph's warm-up: ``muted()`` mutes its calls until ``done(found_face)`` says it is warm."""

    def __init__(self) -> None:
        self.calls = 0
        self.warm = False

    def muted(self) -> contextlib.AbstractContextManager[None]:
        return native_stderr_muted(not self.warm)

    def done(self, found_face: bool) -> None:
        self.calls += 1
        self.warm = self.warm or found_face or self.calls >= WARM_CALLS
