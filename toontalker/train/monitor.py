"""What a run shows and records (rank 0 only): rich progress, a log line every ``log_every`` steps,
``metrics.jsonl``, TensorBoard scalars and image grids."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from einops import rearrange
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from torch import Tensor

from toontalker.io_utils import atomic_write_text
from toontalker.train.heldout import heldout_line


def image_grid(rows: Sequence[Tensor], max_columns: int = 8) -> Tensor:
    """Stack named image batches as grid rows: ``R`` batches of ``(B, 3, H, W)`` in [-1, 1] ->
    ``(3, R*H, min(B, max_columns)*W)`` in [0, 1]."""
    n = min(max_columns, min(int(r.shape[0]) for r in rows))
    stacked = torch.stack([r[:n].detach().float().cpu() for r in rows])  # (R, n, 3, H, W)
    grid = rearrange(stacked, "r n c h w -> c (r h) (n w)")
    return ((grid + 1.0) * 0.5).clamp(0.0, 1.0)


def trim_metrics(path: Path, last_step: int) -> None:
    """Keep the lines of ``metrics.jsonl`` up to ``last_step`` (the checkpoint a run resumes from): a killed run
    logged steps past its last checkpoint, which the resumed run logs again. A torn last line goes too."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            step = json.loads(line)["step"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        if isinstance(step, int) and step <= last_step:
            kept.append(line)
    atomic_write_text(path, "".join(f"{line}\n" for line in kept))


HELDOUT_LOG = "heldout.jsonl"


class _TensorBoard:
    def __init__(self, log_dir: Path, console: Console, start_step: int = 0) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is the `train` extra
            console.print(
                "[yellow]tensorboard is not installed: no TensorBoard logs (pip install tensorboard)[/yellow]"
            )
            self.writer = None
            return
        # TensorBoard drops the events an earlier, killed run logged past the step this one starts from
        self.writer = SummaryWriter(log_dir=str(log_dir), purge_step=start_step + 1)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(key, value, step)

    def image(self, step: int, tag: str, grid: Tensor) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, grid, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()


class RunMonitor:
    """Progress, console log lines, ``metrics.jsonl`` and TensorBoard for one run (a no-op off rank 0)."""

    def __init__(
        self,
        run_dir: Path,
        total_steps: int,
        start_step: int,
        images_per_step: int,
        enabled: bool,
        show_progress: bool,
        console: Console,
    ) -> None:
        self.enabled = enabled
        self.console = console
        self.images_per_step = images_per_step
        self.total = total_steps
        self._last_time = time.perf_counter()
        self._last_step = start_step
        self.last_images_per_s = 0.0
        self.progress: Progress | None = None
        self.tb: _TensorBoard | None = None
        self._metrics = None
        if not enabled:
            return
        self.tb = _TensorBoard(run_dir / "tb", console, start_step)
        trim_metrics(run_dir / "metrics.jsonl", start_step)
        trim_metrics(run_dir / HELDOUT_LOG, start_step)
        self._heldout_log = run_dir / HELDOUT_LOG
        self._metrics = open(run_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115 -- closed in close()
        if show_progress:
            self.progress = Progress(
                TextColumn("[bold]train[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}"),
                console=console,
                transient=False,
            )
            self._task = self.progress.add_task("train", total=total_steps, completed=start_step, speed="", losses="")
            self.progress.start()

    def step_done(self, step: int) -> None:
        if self.progress is not None:
            self.progress.update(self._task, completed=step)

    def log(self, step: int, values: dict[str, float]) -> dict[str, float]:
        """Record ``values`` (losses) at ``step`` with the speed since the previous log."""
        now = time.perf_counter()
        steps = max(step - self._last_step, 1)
        it_s = steps / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step = now, step
        self.last_images_per_s = it_s * self.images_per_step
        if not self.enabled:
            return values
        record = {
            "step": step,
            "it_per_s": round(it_s, 4),
            "images_per_s": round(self.last_images_per_s, 2),
            **{k: round(v, 6) for k, v in values.items()},
        }
        assert self._metrics is not None and self.tb is not None
        self._metrics.write(json.dumps(record) + "\n")
        self._metrics.flush()
        self.tb.scalars(step, {f"loss/{k}": v for k, v in values.items()})
        self.tb.scalars(step, {"speed/images_per_s": self.last_images_per_s, "speed/it_per_s": it_s})
        short = "  ".join(f"{k} {v:.4g}" for k, v in values.items() if k in _SHOWN)
        speed = f"{it_s:.2f} it/s {self.last_images_per_s:.1f} img/s"
        if self.progress is not None:
            self.progress.update(self._task, speed=speed, losses=short)
        else:
            self.console.print(f"step {step}/{self.total}  {speed}  {short}")
        return values

    def images(self, step: int, images: dict[str, Tensor]) -> None:
        if not self.enabled or self.tb is None or not images:
            return
        groups: dict[str, list[str]] = {
            "real": [k for k in ("source", "driving", "output") if k in images],
            "cartoon": [k for k in ("cartoon_source", "cartoon_driving", "cartoon_output") if k in images],
            "synthetic": [
                k
                for k in ("source", "synthetic_real", "cartoon_source", "synthetic_cartoon")
                if k in images and "synthetic_real" in images
            ],
        }
        for name, keys in groups.items():
            if keys:
                self.tb.image(step, f"images/{name} ({', '.join(keys)})", image_grid([images[k] for k in keys]))

    def heldout(self, step: int, *, weights: str, domain: str, scores: dict[str, float]) -> None:
        """One line of ``heldout.jsonl`` (held-out scores of ``weights``, e.g. "ema" or "G", on ``domain``)."""
        if not self.enabled or self.tb is None:
            return
        record = {"step": step, "weights": weights, "domain": domain, **{k: round(v, 6) for k, v in scores.items()}}
        with open(self._heldout_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        self.tb.scalars(step, {f"heldout_{domain}_{weights}/{k}": v for k, v in scores.items()})
        self.console.print(f"held out {domain} ({weights}) step {step}: {heldout_line(scores)}")

    def message(self, text: str) -> None:
        if self.enabled:
            self.console.print(text)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        if self.tb is not None:
            self.tb.close()
        if self._metrics is not None:
            self._metrics.close()


_SHOWN = ("total", "l1", "perceptual", "real_l1", "cartoon_l1", "analogy_r2c", "analogy_c2r", "d_real", "d_cartoon")
