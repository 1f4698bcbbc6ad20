"""Forward speed and memory of the animate core: the source encoded once, driving frames in batches.

Timed per batch of B driving frames: Em + T_{r->d} (encode_driving), Eq. 5 (relative_motion), T_B + G
(render). CUDA events, warm-up iterations, median over the timed iterations; peak memory from
``torch.cuda.max_memory_allocated``. Runs on CPU too (wall clock), which the tests use on the tiny preset.

    python -m toontalker.model.bench_forward --preset paper-256 --batch 1 16 64 --dtype fp32 bf16 \\
        --channels-last both --compile both --json bench-model.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from toontalker.devices import enable_fast_kernels
from toontalker.model.config import ModelConfig
from toontalker.model.toontalker import ToonTalker

BENCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class ForwardTiming:
    """One measured setting. ``ms_per_batch`` is the median over ``iterations`` timed forwards."""

    preset: str
    device: str
    batch: int
    dtype: str
    channels_last: bool
    compiled: bool
    encode_source_ms: float
    ms_per_batch: float
    ms_per_frame: float
    frames_per_s: float
    peak_memory_mib: float | None  # None on CPU
    iterations: int


def _timer(device: torch.device) -> Callable[[Callable[[], object]], float]:
    if device.type == "cuda":
        def run(fn: Callable[[], object]) -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            return start.elapsed_time(end)
    else:
        def run(fn: Callable[[], object]) -> float:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
    return run


def measure_forward(
    model: ToonTalker,
    *,
    preset: str,
    batch: int,
    dtype: str,
    channels_last: bool = False,
    compile_model: bool = False,
    warmup: int = 5,
    iterations: int = 20,
    seed: int = 0,
) -> ForwardTiming:
    """Time ``render(relative_motion(encode_driving(frames)))`` for one batch size and setting."""
    device = next(model.parameters()).device
    torch_dtype = BENCH_DTYPES[dtype]
    model = model.to(dtype=torch_dtype)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    size = model.config.image_size
    g = torch.Generator(device="cpu").manual_seed(seed)
    source_image = (torch.rand(1, 3, size, size, generator=g) * 2 - 1).to(device, torch_dtype)
    frames = (torch.rand(batch, 3, size, size, generator=g) * 2 - 1).to(device, torch_dtype)
    source_image = source_image.contiguous(memory_format=memory_format)
    frames = frames.contiguous(memory_format=memory_format)
    timer = _timer(device)

    with torch.inference_mode():
        encode_ms = timer(lambda: model.encode_source(source_image, "cartoon"))
        source = model.encode_source(source_image, "cartoon")
        w_start = model.encode_driving(frames[:1], "real")

        def step(x: torch.Tensor) -> torch.Tensor:
            w = model.encode_driving(x, "real")
            return model.render(source, model.relative_motion(source, w, w_start))

        fn = torch.compile(step, dynamic=False) if compile_model else step
        for _ in range(warmup):
            fn(frames)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        times = [timer(lambda: fn(frames)) for _ in range(iterations)]
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    median = statistics.median(times)
    return ForwardTiming(
        preset=preset, device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        batch=batch, dtype=dtype, channels_last=channels_last, compiled=compile_model,
        encode_source_ms=encode_ms, ms_per_batch=median, ms_per_frame=median / batch,
        frames_per_s=batch * 1e3 / median, peak_memory_mib=peak, iterations=iterations,
    )


def benchmark_forward(
    preset: str = "paper-256",
    batches: tuple[int, ...] = (1, 16, 64),
    dtypes: tuple[str, ...] = ("fp32", "bf16"),
    channels_last: tuple[bool, ...] = (False,),
    compile_options: tuple[bool, ...] = (False,),
    device: str = "auto",
    warmup: int = 5,
    iterations: int = 20,
    seed: int = 0,
    on_result: Callable[[ForwardTiming], None] | None = None,
) -> list[ForwardTiming]:
    """Every combination of the settings on one model with random weights (speed does not depend on them)."""
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device))
    enable_fast_kernels(dev)
    torch.manual_seed(seed)
    model = ToonTalker(ModelConfig.from_name(preset)).to(dev).eval()
    results = []
    for compiled in compile_options:
        for cl in channels_last:
            for dtype in dtypes:
                for batch in batches:
                    timing = measure_forward(
                        model, preset=preset, batch=batch, dtype=dtype, channels_last=cl, compile_model=compiled,
                        warmup=warmup, iterations=iterations, seed=seed,
                    )
                    results.append(timing)
                    if on_result is not None:
                        on_result(timing)
                    if dev.type == "cuda":
                        torch.cuda.empty_cache()
    return results


def _flags(value: str) -> tuple[bool, ...]:
    return {"off": (False,), "on": (True,), "both": (False, True)}[value]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper-256", choices=ModelConfig.preset_names())
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--dtype", nargs="+", default=["fp32", "bf16"], choices=sorted(BENCH_DTYPES))
    parser.add_argument("--channels-last", default="off", choices=["off", "on", "both"])
    parser.add_argument("--compile", default="off", choices=["off", "on", "both"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", default=None, help="write the results as a JSON list to this file")
    args = parser.parse_args(argv)

    def show(t: ForwardTiming) -> None:
        print(
            f"{t.preset} B={t.batch:<3} {t.dtype:<4} cl={int(t.channels_last)} compile={int(t.compiled)}: "
            f"{t.ms_per_batch:8.2f} ms/batch {t.ms_per_frame:7.3f} ms/frame {t.frames_per_s:8.1f} frames/s "
            f"peak {t.peak_memory_mib if t.peak_memory_mib is None else round(t.peak_memory_mib, 1)} MiB (source encode {t.encode_source_ms:.2f} ms)",
            flush=True,
        )

    results = benchmark_forward(
        args.preset, tuple(args.batch), tuple(args.dtype), _flags(args.channels_last), _flags(args.compile),
        args.device, args.warmup, args.iterations, on_result=show,
    )
    if args.json:
        from toontalker.io_utils import atomic_write_text

        atomic_write_text(args.json, json.dumps([asdict(t) for t in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
