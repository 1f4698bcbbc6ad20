"""Stop requests of a training run: SIGINT / SIGTERM (Ctrl-C, ``timeout``, a job scheduler) ask the loop to
checkpoint at the step it reached and end (``--resume`` goes on from there); loader workers leave them to the main
process."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM set an event the loop checks between steps, so a stop never lands inside an update
    and the run is checkpointed where it stopped. A second Ctrl-C interrupts at once."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum: int, frame: object) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield event
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def leave_stop_signals_to_main(worker_id: int) -> None:
    """DataLoader worker init: ignore SIGINT/SIGTERM. Ctrl-C in a terminal, ``timeout`` and job schedulers
    signal the whole process group; a worker that died of it (KeyboardInterrupt, or torch's SIGTERM handler)
    lost its batches and broke the loader, and the run crashed instead of checkpointing. The main process
    decides when to stop; the loader ends its workers itself (a sentinel at shutdown, a watchdog if the main
    process dies)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
