"""``train(recipe, ...)``: the training loop of both stages, on one process or under torchrun.

Per step: ``grad_accum`` micro-batches through the generator objective (bf16 autocast, channels_last,
optional torch.compile, DDP gradient sync on the last micro-batch), one Adam step of G, then the same for
the discriminators. Rank 0 logs (rich progress, metrics.jsonl, TensorBoard scalars and image grids) and
writes checkpoints; a NaN/Inf guard checks every loss before its backward pass and stops with a
:class:`~toontalker.errors.NonFiniteLossError` naming the step and the last good checkpoint (the newest one:
no non-finite value ever reaches the weights).
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from rich.console import Console
from torch.utils.data import DataLoader

from toontalker.console import stderr_console
from toontalker.conventions import Domain
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.devices import parse_dtype
from toontalker.errors import NonFiniteLossError, TrainingError, UsageError
from toontalker.train import checkpoint as ckpt
from toontalker.train.data import PairOptions, open_pair_dataset
from toontalker.train.distributed import (
    DistInfo,
    any_rank_set,
    barrier,
    gather_objects,
    reduce_mean,
    setup_distributed,
    teardown_distributed,
)
from toontalker.train.heldout import keep_if_best, score_heldout, training_heldout_sets
from toontalker.train.monitor import RunMonitor
from toontalker.train.perceptual import VGG19Features
from toontalker.train.recipe import TrainRecipe
from toontalker.train.start import RunStart, resize_note, resolve_start
from toontalker.train.stop import leave_stop_signals_to_main, stop_requests
from toontalker.train.stream import PairDataset, StreamSampler, TrainBatch, TrainStream
from toontalker.train.trainer import Trainer
from toontalker.weights.export import export_release


@dataclass(frozen=True)
class TrainResult:
    """What a run did: where it is, the step reached, its newest checkpoint, the last logged losses."""

    run_dir: Path
    stage: int
    step: int
    iterations: int
    start_step: int
    last_checkpoint: Path | None
    losses: dict[str, float]
    images_per_second: float
    stopped_early: bool  # SIGINT/SIGTERM (Ctrl-C, a job scheduler): checkpointed at the step it reached
    world_size: int
    rank: int
    device: str
    # the last held-out scores (recipe heldout_every) by "<domain> (<weights>)", and their step; {} / None without
    heldout: dict[str, dict[str, float]] = field(default_factory=dict)
    heldout_step: int | None = None
    # recipe keep_best: the step whose exported weights are in <run_dir>/best/ (None: off, or none kept yet)
    best_step: int | None = None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _as_dataset(data: PairDataset | Path | str, domain: str, *, recipe: TrainRecipe, image_size: int) -> PairDataset:
    if not isinstance(data, (str, Path)):
        return data
    options = PairOptions(
        split=recipe.data_split,
        augment=recipe.augment,
        seed=recipe.seed,
        expression_pairs=recipe.expression_pairs,
        blink_pairs=recipe.blink_pairs,
        need_landmarks=any(
            w > 0
            for w in (
                recipe.lambda_region,
                recipe.expression_pairs,
                recipe.blink_pairs,
                recipe.lambda_flow,
                recipe.lambda_flow_shape,
            )
        ),
        uint8_frames=True,  # 4x fewer bytes from the loader workers; FramePairs.to converts on the device
    )
    return open_pair_dataset(Path(data), domain, image_size=image_size, options=options)


def _data_note(real: Any, cartoon: Any) -> str:
    def name(d: Any) -> str:
        return str(d) if isinstance(d, (str, Path)) else type(d).__name__

    return f"real: {name(real)}" + ("" if cartoon is None else f"; cartoon: {name(cartoon)}")


def train(
    recipe: TrainRecipe,
    *,
    real: PairDataset | Path | str,
    cartoon: PairDataset | Path | str | None = None,
    out: Path | str,
    init: Path | str | None = None,
    resume: bool = False,
    device: str = "auto",
    stop_at: int | None = None,
    vgg: VGG19Features | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train ``recipe`` (stage 1 or 2) on ``real`` (and ``cartoon``) pair datasets, writing into ``out``.

    ``stop_at`` ends the run early at that step (after its checkpoint, as if interrupted); ``vgg``
    injects the perceptual network (default: VGG19 from the torch hub cache).
    """
    out = Path(out)
    console = console or stderr_console()
    if recipe.stage == 2 and cartoon is None:
        raise UsageError("stage 2 needs cartoon data (--cartoon-data)")
    if recipe.stage == 1 and cartoon is not None:
        raise UsageError("stage 1 trains on real videos only: drop --cartoon-data")
    start = resolve_start(recipe, out, resume=resume, init=Path(init) if init is not None else None)
    info = setup_distributed(device)
    try:
        return _run(
            start,
            info,
            real=real,
            cartoon=cartoon,
            out=out,
            stop_at=stop_at,
            vgg=vgg,
            console=console,
            show_progress=show_progress,
        )
    finally:
        teardown_distributed(info)


def _prepare(
    start: RunStart, info: DistInfo, *, real: Any, cartoon: Any, out: Path, vgg: VGG19Features | None
) -> tuple[Trainer, TrainStream]:
    """The trainer with its starting weights and state, and the data stream (checked against a resume)."""
    recipe = start.recipe
    trainer = Trainer(recipe, info, vgg=vgg)
    image_size = trainer.model_config.image_size
    stream = TrainStream(
        _as_dataset(real, "real", recipe=recipe, image_size=image_size),
        None if cartoon is None else _as_dataset(cartoon, "cartoon", recipe=recipe, image_size=image_size),
        recipe.seed,
    )
    if start.stage1 is not None:
        trainer.load_stage1(start.stage1)
    elif start.resume is None and recipe.init_weights is not None:
        trainer.load_weights(recipe.init_weights)
        if recipe.init_discriminators is not None:
            trainer.load_discriminators(recipe.init_discriminators)
    trainer.prepare()
    if start.resume is not None:
        trainer.load_state_dict(start.resume)
        if tuple(start.resume["stream"]["lengths"]) != stream.lengths:
            raise TrainingError(
                f"{out}: the datasets changed since the checkpoint (clips {tuple(start.resume['stream']['lengths'])} "
                f"-> {stream.lengths}); resuming would not continue the same run"
            )
    return trainer, stream


def _batches(stream: TrainStream, start: RunStart, info: DistInfo, *, micro: int) -> tuple[Iterator[Any], bool]:
    """The data loader's iterator (``micro`` pairs per process and batch) from the start step, and whether a
    resume restored the RNG states exactly."""
    recipe = start.recipe
    sampler = StreamSampler(
        micro, world_size=info.world_size, rank=info.rank, grad_accum=recipe.grad_accum, start_step=start.start_step
    )
    loader = DataLoader(
        stream,
        batch_size=micro,
        sampler=sampler,
        num_workers=recipe.num_workers,
        pin_memory=info.device.type == "cuda",
        persistent_workers=recipe.num_workers > 0,
        prefetch_factor=4 if recipe.num_workers > 0 else None,
        worker_init_fn=leave_stop_signals_to_main,
    )
    batches = iter(loader)
    exact_rng = True
    if start.resume is not None:  # after the loader drew its worker seeds, as the uninterrupted run had by then
        exact_rng = ckpt.resume_rng_state(
            start.resume["rng"], rank=info.rank, world_size=info.world_size, seed=recipe.seed, step=start.start_step
        )
    return batches, exact_rng


@dataclass
class _Progress:
    """Where the loop is: the step reached, the last logged losses, the newest checkpoint, a stop request."""

    step: int
    last_checkpoint: Path | None
    losses: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False
    heldout: dict[str, dict[str, float]] = field(default_factory=dict)
    heldout_step: int | None = None
    best_value: float | None = None  # recipe keep_best: the best held-out value so far (higher is better)
    best_step: int | None = None


def _run(
    start: RunStart,
    info: DistInfo,
    *,
    real: Any,
    cartoon: Any,
    out: Path,
    stop_at: int | None,
    vgg: VGG19Features | None,
    console: Console,
    show_progress: bool,
) -> TrainResult:
    recipe = start.recipe
    micro = recipe.micro_batch(info.world_size)
    _seed_everything(recipe.seed + info.rank)
    trainer, stream = _prepare(start, info, real=real, cartoon=cartoon, out=out, vgg=vgg)
    size = trainer.model_config.image_size  # held-out pairs before the loader's workers start: a bad folder stops here
    heldout = training_heldout_sets(recipe, real=real, cartoon=cartoon, image_size=size) if info.is_main else {}
    batches, exact_rng = _batches(stream, start, info, micro=micro)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        recipe.save(out / "recipe.yaml")
        ckpt.remove_leftovers(out)  # half-written checkpoint folders of a killed run
    monitor = RunMonitor(
        out,
        total_steps=recipe.iterations,
        start_step=start.start_step,
        images_per_step=recipe.batch_size,
        enabled=info.is_main,
        show_progress=show_progress and console.is_terminal,
        console=console,
    )
    if start.resume is not None and start.start_step:
        monitor.message(
            f"resumed {out} at step {start.start_step}"
            f"{resize_note(start.resume, recipe, info=info, exact_rng=exact_rng)}"
        )
    progress = _Progress(
        step=start.start_step,
        last_checkpoint=(ckpt.list_checkpoints(out)[-1][1] if start.start_step and info.is_main else None),
    )
    best = ckpt.read_best(out) if recipe.keep_best and start.start_step and info.is_main else None
    if best is not None and best.get("keep_best") == recipe.keep_best:  # a resumed run goes on picking
        progress.best_value, progress.best_step = float(best["value"]), int(best["step"])
    end = recipe.iterations if stop_at is None else min(stop_at, recipe.iterations)
    with stop_requests() as stop, contextlib.ExitStack() as closing:
        closing.callback(monitor.close)
        run = _Loop(
            trainer=trainer,
            recipe=recipe,
            info=info,
            out=out,
            monitor=monitor,
            lengths=stream.lengths,
            data_note=_data_note(real, cartoon),
            heldout=heldout,
        )
        run.until(end, batches=batches, progress=progress, stop=stop)
    return TrainResult(
        run_dir=out,
        stage=recipe.stage,
        step=progress.step,
        iterations=recipe.iterations,
        start_step=start.start_step,
        last_checkpoint=progress.last_checkpoint,
        losses=progress.losses,
        images_per_second=monitor.last_images_per_s,
        stopped_early=progress.stopped_early,
        world_size=info.world_size,
        rank=info.rank,
        device=str(info.device),
        heldout=progress.heldout,
        heldout_step=progress.heldout_step,
        best_step=progress.best_step,
    )


@dataclass(frozen=True)
class _Loop:
    """The training steps of one run: step, log, images, checkpoint, stop between steps."""

    trainer: Trainer
    recipe: TrainRecipe
    info: DistInfo
    out: Path
    monitor: RunMonitor
    lengths: tuple[int, ...]
    data_note: str
    heldout: dict[Domain, FramePairDataset]  # held-out pairs per domain (train/heldout.py); empty off rank 0

    def until(self, end: int, *, batches: Iterator[Any], progress: _Progress, stop: threading.Event) -> None:
        recipe, info = self.recipe, self.info
        while progress.step < end:
            step = progress.step
            want_images = recipe.image_every > 0 and (step + 1) % recipe.image_every == 0 and info.is_main
            micro_batches = [
                TrainBatch.from_collated(next(batches)).to(info.device, recipe.channels_last)
                for _ in range(recipe.grad_accum)
            ]
            try:
                result = self.trainer.step(micro_batches, step, want_images)
            except NonFiniteLossError as exc:
                raise NonFiniteLossError(
                    f"{exc}; training stopped, last good checkpoint: {progress.last_checkpoint or 'none yet'}"
                ) from exc
            step = progress.step = step + 1
            self.monitor.step_done(step)
            progress.stopped_early = any_rank_set(stop.is_set(), info) if step < end else False
            if recipe.log_every > 0 and (step % recipe.log_every == 0 or step == end or progress.stopped_early):
                progress.losses = self.monitor.log(step, reduce_mean(result.terms, info))
            if result.images:
                self.monitor.images(step, result.images)
            is_ckpt = (recipe.checkpoint_every > 0 and step % recipe.checkpoint_every == 0) or step == end
            if is_ckpt or progress.stopped_early:
                progress.last_checkpoint = (
                    _save(
                        self.trainer,
                        recipe,
                        info,
                        out=self.out,
                        step=step,
                        lengths=self.lengths,
                        data_note=self.data_note,
                    )
                    or progress.last_checkpoint
                )
            if recipe.heldout_every > 0 and (step % recipe.heldout_every == 0 or step == end):
                if info.is_main:
                    workers = min(4, recipe.num_workers)
                    progress.heldout = score_heldout(
                        self.trainer, self.heldout, step=step, monitor=self.monitor, num_workers=workers
                    )
                    progress.heldout_step = step
                    if recipe.keep_best:
                        export = partial(_export, self.trainer, recipe=recipe, step=step, data_note=self.data_note)
                        kept = keep_if_best(
                            progress.heldout,
                            recipe.keep_best,
                            step=step,
                            best=progress.best_value,
                            out=self.out,
                            export=export,
                            monitor=self.monitor,
                        )
                        if kept is not None:
                            progress.best_value, progress.best_step = kept, step
                barrier(info)
            if progress.stopped_early:
                self.monitor.message(f"stop requested: checkpointed step {step}; continue with --resume")
                return


def _save(
    trainer: Trainer,
    recipe: TrainRecipe,
    info: DistInfo,
    *,
    out: Path,
    step: int,
    lengths: tuple[int, ...],
    data_note: str,
) -> Path | None:
    rng_states = gather_objects(ckpt.capture_rng_state(), info)
    saved = None
    if info.is_main:
        state = {
            **trainer.state_dict(),
            "step": step,
            "rng": rng_states,
            "recipe": recipe.to_dict(),
            "stream": {"lengths": list(lengths), "position": step * recipe.batch_size},
            "world_size": info.world_size,
        }
        saved = ckpt.save_checkpoint(
            out,
            step,
            state,
            export=lambda folder: _export(trainer, folder, recipe, step=step, data_note=data_note),
            recipe_yaml=yaml.safe_dump(recipe.to_dict(), sort_keys=False),
            keep_last=recipe.keep_last,
        ).path
    barrier(info)
    return saved


def _export(trainer: Trainer, folder: Path, recipe: TrainRecipe, *, step: int, data_note: str) -> None:
    export_release(trainer.export_model, folder, recipe, step=step, data_note=data_note)
    ckpt.save_discriminators(trainer.discriminators, folder, parse_dtype(recipe.export_dtype))
