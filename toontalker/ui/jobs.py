"""The UI's worker: the model loaded once at start-up, one ``animate()`` at a time per process.

``Animator.run`` calls :func:`toontalker.animation.api.animate` -- the CLI's function -- with the loaded
model; a second call while one runs raises :class:`BusyError` at once (the page shows it) instead of queueing.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from toontalker.animation.api import AnimateOptions, AnimateResult, ProgressCallback, animate
from toontalker.errors import ToonTalkerError
from toontalker.ui.options import UiConfig  # re-exported: its home is ui/options.py
from toontalker.weights.default import WeightsChoice, load_model


class BusyError(ToonTalkerError):
    """Another animation is running in this server process."""


@dataclass(frozen=True)
class JobStatus:
    """What the running job has done so far (for the busy message)."""

    source: str
    started: float
    done: int = 0
    total: int = 0


def describe_weights(choice: WeightsChoice, image_size: int) -> str:
    """One line for the page: which weights every run uses."""
    if choice.random:
        return f"RANDOM WEIGHTS ({choice.preset}): the pictures are meaningless (pipeline test only)"
    if choice.source == "default":
        return f"the shipped demo weights (toontalker/weights/default, {image_size} px)"
    return f"{choice.source} ({image_size} px)"


class Animator:
    """Holds the model and the work folder; ``run`` animates one job at a time."""

    def __init__(self, config: UiConfig) -> None:
        self.config = config
        self.model, self.choice = load_model(config.weights, config.preset, config.random_weights, config.seed)
        self._own_work_dir = config.work_dir is None
        self.work_dir = Path(config.work_dir or tempfile.mkdtemp(prefix="toontalker-ui-")).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._status: JobStatus | None = None

    @property
    def weights_line(self) -> str:
        return describe_weights(self.choice, self.model.config.image_size)

    @property
    def busy(self) -> bool:
        """Whether a run is in progress."""
        return self._lock.locked()

    def busy_message(self) -> str:
        status = self._status
        if status is None:
            return "another animation is running in this server; try again when it has finished"
        progress = f", {status.done} of {status.total} frames done" if status.total else ""
        return (
            f"another animation ({status.source}) is running in this server, started "
            f"{time.time() - status.started:.0f} s ago{progress}; try again when it has finished"
        )

    def run(
        self, source: Path, driving: Path, options: AnimateOptions, on_progress: ProgressCallback | None = None
    ) -> AnimateResult:
        """``animate(source, driving, <work_dir>/<job>/<driving stem>-animated.mp4)`` with the loaded model.

        ``options``' device/dtype/preset/random_weights/seed are replaced by the server's. Raises BusyError
        when a run is in progress, and animate's errors as they are.
        """
        if not self._lock.acquire(blocking=False):
            raise BusyError(self.busy_message())
        try:
            started = JobStatus(source=Path(source).name, started=time.time())
            self._status = started
            options = dataclasses.replace(
                options,
                device=self.config.device,
                dtype=self.config.dtype,
                preset=None,
                random_weights=False,
                seed=self.config.seed,
            )
            job = Path(tempfile.mkdtemp(prefix="job-", dir=self.work_dir))
            output = job / f"{Path(driving).stem}-animated.mp4"

            def progress(done: int, total: int) -> None:
                self._status = dataclasses.replace(started, done=done, total=total)
                if on_progress is not None:
                    on_progress(done, total)

            try:
                return animate(source, driving, output, options=options, on_progress=progress, model=self.model)
            except BaseException:
                shutil.rmtree(job, ignore_errors=True)
                raise
        finally:
            self._status = None
            self._lock.release()

    def close(self) -> None:
        """Remove the work folder when this Animator made it."""
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
