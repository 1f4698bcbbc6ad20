"""Device and dtype choice: the ``auto`` dtype on CPUs with and without native bf16."""

from __future__ import annotations

import pytest
import torch

from toontalker import devices
from toontalker.devices import cpu_has_native_bf16, resolve_dtype

ZEN4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
SAPPHIRE_RAPIDS = "flags\t\t: fpu avx2 avx512f amx_tile amx_bf16 amx_int8\n"
HASWELL = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\nbugs\t\t: spectre_v1\n"


def test_native_bf16_is_read_from_the_cpu_flags() -> None:
    assert cpu_has_native_bf16(ZEN4) and cpu_has_native_bf16(SAPPHIRE_RAPIDS)
    assert not cpu_has_native_bf16(HASWELL)
    assert not cpu_has_native_bf16("processor\t: 0\nvendor_id\t: ARM\n")  # no flags line: fp32
    assert not cpu_has_native_bf16("flags\t\t: avx512_bf16x\n")  # whole flag names only


@pytest.mark.parametrize(("native", "expected"), [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_dtype_on_cpu_follows_native_bf16(monkeypatch, native: bool, expected: torch.dtype) -> None:
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda cpuinfo=None: native)
    cpu = torch.device("cpu")
    assert resolve_dtype("auto", cpu) == expected
    assert resolve_dtype("auto", cpu, cpu_bf16=False) == torch.float32  # training keeps fp32 on CPUs
    assert resolve_dtype("fp32", cpu) == torch.float32 and resolve_dtype("bf16", cpu) == torch.bfloat16
