"""``toontalker bench speed``: frames/s and latency of the animate core, per preset, batch size and dtype.

The core is what animate runs per driving batch, the same object
(:class:`~toontalker.animation.core.CoreRunner`; ``compile_mode``: its ``torch.compile``d path, as
``animate --compile`` runs it), with the source and the reference frame encoded once (outside the timing):
motion encoding of B driving crops (Em + T_{r->d}), relative motion transfer (Eq. 5) and rendering
(T_B + G). Decoding, cropping and encoding are excluded (they run on other threads in animate). Inputs
are random tensors at the preset's resolution; weights are random (speed does not depend on their values).

On CUDA each iteration is timed with CUDA events after ``warmup`` iterations and the median is reported;
on CPU with ``perf_counter``. Peak memory is ``torch.cuda.max_memory_allocated`` on CUDA and the process's
peak resident set on CPU.
"""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from toontalker.animation.core import CoreRunner
from toontalker.config import ConfigBase
from toontalker.devices import autocast, dtype_name, enable_fast_kernels, resolve_device, resolve_dtype

if TYPE_CHECKING:
    from toontalker.model import ToonTalker


@dataclass(frozen=True)
class SpeedBenchConfig(ConfigBase):
    """What to measure: every combination of ``presets`` x ``batch_sizes`` x ``dtypes``."""

    PRESETS: ClassVar[dict] = {
        "quick": {"presets": ("tiny",), "batch_sizes": (1, 8), "iters": 5, "warmup": 2},
        "gpu": {
            "presets": ("tiny", "small-256", "paper-256"),
            "batch_sizes": (1, 8, 32, 64, 128, 256),
            "dtypes": ("bf16", "fp16", "fp32"),
            "iters": 50,
            "warmup": 10,
        },
    }

    presets: tuple[str, ...] = ("tiny", "small-256", "paper-256")
    batch_sizes: tuple[int, ...] = (1, 16)
    dtypes: tuple[str, ...] = ("auto",)
    device: str = "auto"
    iters: int = 10
    warmup: int = 3
    channels_last: bool = False
    cast_weights: bool = False  # run the weights in the half dtype too (else autocast over fp32 weights)
    compile_mode: str | None = None  # torch.compile mode ("default", "max-autotune", ...) or None
    seed: int = 0

    def __post_init__(self) -> None:
        self._check(len(self.presets) >= 1, "presets must name at least one model preset")
        self._check(
            len(self.batch_sizes) >= 1 and all(b >= 1 for b in self.batch_sizes),
            f"batch_sizes must be >= 1, got {self.batch_sizes}",
        )
        self._check(self.iters >= 1 and self.warmup >= 0, "iters must be >= 1 and warmup >= 0")


@dataclass(frozen=True)
class SpeedRow:
    """One measurement: a preset at a batch size and dtype."""

    preset: str
    image_size: int
    params_m: float
    batch_size: int
    dtype: str
    channels_last: bool
    cast_weights: bool
    compiled: str | None
    ms_per_batch: float  # median over iters
    ms_per_batch_p90: float
    ms_per_frame: float  # median batch time / batch size (latency per frame at batch 1)
    frames_per_second: float
    peak_memory_mb: float
    error: str | None = None  # e.g. out of memory at this batch size


@dataclass(frozen=True)
class SpeedReport:
    device: str
    device_name: str
    torch: str
    rows: tuple[SpeedRow, ...]


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _time(step: Callable[[], torch.Tensor], device: torch.device, *, iters: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        times = []
        for _ in range(iters):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return times
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def measure(
    model: ToonTalker, preset: str, *, batch_size: int, dtype: torch.dtype, device: torch.device, cfg: SpeedBenchConfig
) -> SpeedRow:
    """Time the core of ``model`` (already on ``device``) at one batch size and dtype."""
    size = model.config.image_size
    params = sum(p.numel() for p in model.parameters()) / 1e6
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    generator = torch.Generator(device="cpu").manual_seed(cfg.seed)
    source = (torch.rand(1, 3, size, size, generator=generator) * 2 - 1).to(device)
    frames = (torch.rand(batch_size, 3, size, size, generator=generator) * 2 - 1).to(device)
    source, frames = source.contiguous(memory_format=memory_format), frames.contiguous(memory_format=memory_format)
    if cfg.cast_weights:
        source, frames = source.to(dtype), frames.to(dtype)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode(), autocast(device, torch.float32 if cfg.cast_weights else dtype):
        src = model.encode_source(source, "cartoon")
        w_start = model.encode_driving(frames[:1], "real")
        runner = CoreRunner(model, src, "real", reference=w_start, compile_mode=cfg.compile_mode, batch_size=batch_size)
        times = _time(lambda: runner(frames), device, iters=cfg.iters, warmup=cfg.warmup)
    median = statistics.median(times)
    p90 = sorted(times)[min(len(times) - 1, int(0.9 * len(times)))]
    return SpeedRow(
        **_setting(preset, size=size, params=params, batch_size=batch_size, dtype=dtype, cfg=cfg),
        ms_per_batch=median,
        ms_per_batch_p90=p90,
        ms_per_frame=median / batch_size,
        frames_per_second=1000.0 * batch_size / median,
        peak_memory_mb=_peak_memory_mb(device),
    )


def _setting(
    preset: str, *, size: int, params: float, batch_size: int, dtype: torch.dtype, cfg: SpeedBenchConfig
) -> dict[str, Any]:
    """The fields of a row that say what was measured (shared by measured and failed rows)."""
    return {
        "preset": preset,
        "image_size": size,
        "params_m": round(params, 2),
        "batch_size": batch_size,
        "dtype": dtype_name(dtype),
        "channels_last": cfg.channels_last,
        "cast_weights": cfg.cast_weights,
        "compiled": cfg.compile_mode,
    }


def _failed_row(
    preset: str, *, size: int, params: float, batch_size: int, dtype: torch.dtype, cfg: SpeedBenchConfig, error: str
) -> SpeedRow:
    nan = float("nan")
    return SpeedRow(
        **_setting(preset, size=size, params=params, batch_size=batch_size, dtype=dtype, cfg=cfg),
        ms_per_batch=nan,
        ms_per_batch_p90=nan,
        ms_per_frame=nan,
        frames_per_second=nan,
        peak_memory_mb=nan,
        error=error,
    )


def run_speed_bench(cfg: SpeedBenchConfig, on_row: Callable[[SpeedRow], None] | None = None) -> SpeedReport:
    """Measure every preset x dtype x batch size of ``cfg``; a batch that runs out of memory is recorded, not fatal."""
    from toontalker.model import ModelConfig, ToonTalker

    device = resolve_device(cfg.device)
    enable_fast_kernels(device)
    rows: list[SpeedRow] = []
    for preset in cfg.presets:
        torch.manual_seed(cfg.seed)
        base = ToonTalker(ModelConfig.from_name(preset)).eval()
        params = sum(p.numel() for p in base.parameters()) / 1e6
        for dtype_text in cfg.dtypes:
            dtype = resolve_dtype(dtype_text, device)
            model = base.to(device)
            if cfg.cast_weights:
                model = model.to(dtype)
            if cfg.channels_last:
                model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # memory_format: accepted, not in torch's stubs
            for batch_size in cfg.batch_sizes:
                try:
                    row = measure(model, preset, batch_size=batch_size, dtype=dtype, device=device, cfg=cfg)
                except torch.OutOfMemoryError:
                    row = _failed_row(
                        preset,
                        size=base.config.image_size,
                        params=params,
                        batch_size=batch_size,
                        dtype=dtype,
                        cfg=cfg,
                        error="out of memory",
                    )
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
                rows.append(row)
                if on_row is not None:
                    on_row(row)
            base = model.float()
        del base
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return SpeedReport(device=str(device), device_name=_device_name(device), torch=torch.__version__, rows=tuple(rows))
