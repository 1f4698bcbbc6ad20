"""Worker processes that never outlive the command that started them.

A pool's workers are separate processes: when the parent is killed (SIGKILL, the OOM killer) nothing runs in
it to stop them, and they went on writing into the dataset, then hung holding their memory. Each worker
here asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, on any system, a
watchdog thread ends it once its parent is gone. When the parent is stopped (Ctrl-C, SIGTERM) or fails,
:func:`worker_pool` kills the workers instead of waiting for their current jobs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def _die_with_parent_linux() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc/prctl: the watchdog alone does it
        pass


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)  # the parent is gone: nobody will collect this worker's results


def tie_to_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when ``parent_pid`` dies."""
    if sys.platform.startswith("linux"):
        _die_with_parent_linux()
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context process pool whose workers die with this process; on an exception (Ctrl-C, SIGTERM
    as KeyboardInterrupt, an error) its workers are killed at once rather than left to finish their jobs."""
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=tie_to_parent, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)
