"""A rich progress bar for frame-by-frame work, with a frames/s column; yields an ``on_progress`` callback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class FramesPerSecondColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f} frames/s" if speed else "   ... frames/s", style="cyan")


@contextlib.contextmanager
def frame_progress(console: Console, description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on ``console``; the yielded callback takes (frames done, frames expected).

    The bar appears with the first frame, so an error found before any work (a bad argument, a missing
    file) prints alone, without an empty bar above it.
    """
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        FramesPerSecondColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if progress.live.is_started:
            progress.stop()
