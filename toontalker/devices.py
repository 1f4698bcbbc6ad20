"""Device and dtype choice, explicit: ``resolve_device("auto")`` / ``resolve_dtype("auto", device)``.

``auto`` means CUDA when present, else CPU; the dtype ``auto`` means bf16 on CUDA (fp16 where the GPU has no
bf16, unless the caller cannot use fp16: training), bf16 on a CPU with native bf16 instructions (AVX-512 BF16
or AMX; inference only: animate with the shipped weights 1.1-1.5x faster than fp32, PSNR 49.5 dB against
fp32's output) and fp32 on other CPUs. Nothing here is global state: callers
pass the results on. The one table of dtype names: short ("fp32", what options take and results report) and
torch's ("float32", what config.json's ``torch_dtype`` holds) both parse; :func:`dtype_name` and
:func:`torch_dtype_name` write them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from toontalker.errors import UsageError

DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
}


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` | ``mps`` as a torch device; UsageError if unavailable."""
    name = name.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UsageError(f"device {name!r}: not a torch device (use auto, cpu, cuda, cuda:N)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device {name!r}: CUDA is not available on this machine (use the device cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"device {name!r}: MPS is not available on this machine")
    return device


NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # x86 CPU flags (Linux /proc/cpuinfo names)


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bf16 natively (AVX-512 BF16 or AMX), from ``/proc/cpuinfo``'s flags (or the
    given text); False where that file does not exist (macOS, Windows), so those CPUs stay in fp32."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        if not path.is_file():
            return False
        cpuinfo = path.read_text(errors="replace")
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return bool(NATIVE_BF16_FLAGS & set(value.split()))
    return False


def resolve_dtype(name: str, device: torch.device, *, fp16_fallback: bool = True, cpu_bf16: bool = True) -> torch.dtype:
    """The compute dtype: ``auto`` is bf16 on CUDA (fp16 on a GPU without bf16 when ``fp16_fallback``), bf16 on
    a CPU with native bf16 when ``cpu_bf16`` (inference; training passes False) and fp32 elsewhere; fp16 only
    on GPUs."""
    name = name.strip().lower()
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if not fp16_fallback or torch.cuda.is_bf16_supported() else torch.float16
        if device.type == "cpu" and cpu_bf16 and cpu_has_native_bf16():
            return torch.bfloat16
        return torch.float32
    if name not in DTYPES:
        raise UsageError(f"dtype {name!r}: expected auto, fp32, bf16 or fp16")
    dtype = DTYPES[name]
    if dtype != torch.float32 and device.type == "cpu" and dtype == torch.float16:
        raise UsageError("dtype fp16 is not supported on CPU (use fp32 or bf16)")
    return dtype


def parse_dtype(value: str | torch.dtype | None) -> torch.dtype | None:
    """A storage dtype by either name (no ``auto``); None and torch dtypes pass through."""
    if value is None or isinstance(value, torch.dtype):
        return value
    if value not in DTYPES:
        raise UsageError(f"unknown dtype {value!r}; choose fp32, fp16 or bf16")
    return DTYPES[value]


def dtype_name(dtype: torch.dtype) -> str:
    """The short name: fp32, bf16, fp16."""
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, str(dtype))


def torch_dtype_name(dtype: torch.dtype) -> str:
    """torch's name (float32, bfloat16, float16): config.json's ``torch_dtype``."""
    return str(dtype).removeprefix("torch.")


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Autocast to ``dtype`` on ``device``; nothing for fp32 (inference: animate, bench speed)."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def enable_fast_kernels(device: torch.device, autotune: bool = True) -> None:
    """On CUDA, let cuDNN benchmark its convolution algorithms for the shapes it sees (and allow TF32).

    Without this, cuDNN's heuristics pick slow non-tensor-core kernels for several of the model's convs
    (the blur-folded 6x6 stride-2 ones in particular): measured on an H100, paper-256. The benchmarking
    itself costs seconds per new input shape, tens of seconds at large batches, and end to end in animate on
    an H200 the benchmarked kernels ran slower than the heuristics' (docs/benchmarks.md): animate passes
    ``autotune=False`` (the heuristics) unless asked. It is a process-wide switch of torch.backends, so animate,
    bench and train call this explicitly at their start.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = autotune
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
