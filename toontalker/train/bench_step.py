"""Throughput of the full training step: G forward/backward + D (adversarial and its own step) + perceptual.

Exactly :meth:`Trainer.step` of the training loop (bf16 autocast on CUDA by default, channels_last, Adam
for G and D), on synthetic batches already on the device, so the figure is the step's own speed (data
loading is measured by the dataset tools). The VGG19 of the perceptual loss gets *random* weights when the
ImageNet file is not cached: the same compute, so the same time; the output says which was used.

    toontalker bench train-step --preset paper-256 --preset small-256 --stage 1 --batch 16 --batch 32 \\
        --compile [--compile-mode reduce-overhead] -o bench-train.json
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from toontalker.cache import find_weights
from toontalker.devices import enable_fast_kernels, resolve_device
from toontalker.train.distributed import DistInfo
from toontalker.train.perceptual import VGG19Features, vgg19_features
from toontalker.train.recipe import TrainCompileMode, TrainRecipe
from toontalker.train.stream import FramePairs, TrainBatch
from toontalker.train.trainer import Trainer


@dataclass(frozen=True)
class StepTiming:
    """One measured setting: ``ms_per_step`` is the median over ``steps`` timed steps of ``batch`` samples
    (stage 2: each sample is a real pair and a cartoon pair)."""

    preset: str
    stage: int
    batch: int
    device: str
    precision: str
    channels_last: bool
    compiled: bool
    perceptual: str
    vgg_weights: str
    ms_per_step: float
    images_per_s: float
    peak_memory_mib: float | None
    steps: int
    status: str = "ok"
    compile_mode: str = "-"  # torch.compile's mode when compiled
    warmup_seconds: float | None = None  # wall time of the warm-up steps: compiling, cuDNN's autotuning


def _batch(recipe: TrainRecipe, batch: int, size: int, device: torch.device) -> TrainBatch:
    g = torch.Generator().manual_seed(0)

    def pairs() -> FramePairs:
        return FramePairs(
            torch.rand(batch, 3, size, size, generator=g) * 2 - 1, torch.rand(batch, 3, size, size, generator=g) * 2 - 1
        )

    return TrainBatch(pairs(), pairs() if recipe.stage == 2 else None).to(device, recipe.channels_last)


def time_step(
    recipe: TrainRecipe, device: torch.device, vgg: VGG19Features | None, vgg_note: str, warmup: int, steps: int
) -> StepTiming:
    trainer = Trainer(recipe, DistInfo(device=device), vgg=vgg)
    trainer.prepare()
    batch = _batch(recipe, recipe.batch_size, trainer.model_config.image_size, device)
    common: dict[str, Any] = dict(
        preset=recipe.model,
        stage=recipe.stage,
        batch=recipe.batch_size,
        device=str(device),
        precision="bf16" if trainer.autocast_dtype is not None else "fp32",
        channels_last=recipe.channels_last,
        compiled=recipe.compile,
        compile_mode=recipe.compile_mode if recipe.compile else "-",
        perceptual=recipe.perceptual,
        vgg_weights=vgg_note,
    )
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    for i in range(warmup):
        trainer.step([batch], i)
    if cuda:
        torch.cuda.synchronize(device)
    warmup_seconds = time.perf_counter() - t0
    times = []
    for i in range(steps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            trainer.step([batch], i)
            end.record()
            torch.cuda.synchronize(device)
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            trainer.step([batch], i)
            times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None
    return StepTiming(
        **common,
        ms_per_step=round(ms, 3),
        images_per_s=round(recipe.batch_size * 1e3 / ms, 2),
        peak_memory_mib=None if peak is None else round(peak, 1),
        steps=steps,
        warmup_seconds=round(warmup_seconds, 2),
    )


def _vgg(device: torch.device) -> tuple[VGG19Features, str]:
    if find_weights("vgg19") is not None:
        return vgg19_features(device=device), "imagenet (vgg19-dcbb9e9d.pth)"
    torch.manual_seed(0)
    return VGG19Features().to(device), "random (not cached; same compute, timing only)"


def run_step_bench(
    presets: tuple[str, ...] = ("paper-256",),
    stages: tuple[int, ...] = (1,),
    batches: tuple[int, ...] = (16, 32),
    precisions: tuple[str, ...] = ("auto",),
    channels_last: tuple[bool, ...] = (True,),
    compiled: tuple[bool, ...] = (False,),
    compile_mode: TrainCompileMode = "default",
    perceptual: str = "vgg19",
    warmup: int = 3,
    steps: int = 10,
    device: str = "auto",
    on_row: Callable[[StepTiming], None] | None = None,
) -> list[StepTiming]:
    """Time :meth:`Trainer.step` for every combination; a setting that runs out of GPU memory is reported
    with ``status="out of memory"``."""
    dev = resolve_device(device)
    enable_fast_kernels(dev)
    vgg, vgg_note = _vgg(dev) if perceptual == "vgg19" else (None, "not used")
    results: list[StepTiming] = []
    for preset, stage, batch, precision, cl, comp in itertools.product(
        presets, stages, batches, precisions, channels_last, compiled
    ):
        recipe = TrainRecipe.for_stage(
            preset,
            stage,
            batch_size=batch,
            precision=precision,
            channels_last=cl,
            compile=comp,
            compile_mode=compile_mode,
            perceptual=perceptual,
            num_workers=0,
        )
        try:
            timing = time_step(recipe, dev, vgg, vgg_note, warmup, steps)
        except torch.cuda.OutOfMemoryError:
            timing = StepTiming(
                preset=preset,
                stage=stage,
                batch=batch,
                device=str(dev),
                precision=precision,
                channels_last=cl,
                compiled=comp,
                compile_mode=compile_mode if comp else "-",
                perceptual=perceptual,
                vgg_weights=vgg_note,
                ms_per_step=float("nan"),
                images_per_s=0.0,
                peak_memory_mib=None,
                steps=0,
                status="out of memory",
            )
        finally:
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        results.append(timing)
        if on_row is not None:
            on_row(timing)
    return results
