"""A three-stage pipeline: a producer thread (decode + crop), the caller's thread (inference), a consumer
thread (composite + encode), joined by bounded queues so memory stays flat in video length.

Inference runs on the calling thread (CUDA work stays on one thread); decoding and encoding overlap with
it. An exception in any stage stops the others and is re-raised in the caller, with its own traceback.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")

_DONE = object()
_POLL_S = 0.1


@dataclass(frozen=True)
class PipelineRun:
    """What a pipeline did: items through, and each stage's busy seconds (waiting on its queues excluded)."""

    items: int
    produce_seconds: float
    infer_seconds: float
    consume_seconds: float


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Stage(Generic[T]):
    """A bounded queue whose put/get give up when the pipeline is stopping."""

    def __init__(self, depth: int, stop: threading.Event) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = stop

    def put(self, item: object) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self) -> object:
        while True:
            try:
                return self.queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self.stop.is_set():
                    return _DONE


def run_pipeline(
    produce: Iterable[T],
    infer: Callable[[T], U],
    consume: Callable[[U], None],
    depth: int = 3,
) -> PipelineRun:
    """Feed ``produce``'s items through ``infer`` (this thread) into ``consume`` (a worker thread).

    ``depth`` bounds each queue (items in flight per stage).
    """
    stop = threading.Event()
    inbox: _Stage[T] = _Stage(depth, stop)
    outbox: _Stage[U] = _Stage(depth, stop)
    consumer_error: list[BaseException] = []
    consumed = [0]
    busy = {"produce": 0.0, "infer": 0.0, "consume": 0.0}

    def producer() -> None:
        try:
            items = iter(produce)
            while True:
                t = time.perf_counter()
                item = next(items, _DONE)
                busy["produce"] += time.perf_counter() - t
                if item is _DONE:
                    break
                if not inbox.put(item):
                    return
            inbox.put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread and re-raised there
            inbox.put(_Failure(error))

    def consumer() -> None:
        try:
            while True:
                item = outbox.get()
                if item is _DONE:
                    return
                t = time.perf_counter()
                consume(item)  # type: ignore[arg-type]  # the queue holds object; _DONE is filtered above
                busy["consume"] += time.perf_counter() - t
                consumed[0] += 1
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            consumer_error.append(error)
            stop.set()

    threads = [
        threading.Thread(target=producer, name="toontalker-decode", daemon=True),
        threading.Thread(target=consumer, name="toontalker-encode", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            item = inbox.get()
            if item is _DONE:
                break
            if isinstance(item, _Failure):
                raise item.error
            t = time.perf_counter()
            result = infer(item)  # type: ignore[arg-type]  # the queue holds object; _DONE/_Failure filtered above
            busy["infer"] += time.perf_counter() - t
            if not outbox.put(result):
                break
        outbox.put(_DONE)
        threads[1].join()
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        close = getattr(produce, "close", None)
        if close is not None and not threads[0].is_alive():
            close()
    if consumer_error:
        raise consumer_error[0]
    return PipelineRun(consumed[0], busy["produce"], busy["infer"], busy["consume"])
