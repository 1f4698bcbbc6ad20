"""toontalker/allocator.py: freed memory stays in the process, so repeated large tensors stop page-faulting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import toontalker.cli as cli

PROBE = """
import resource, sys, torch
from toontalker.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def blocks(n):
    for _ in range(n):
        block = torch.ones(16 << 20)  # 64 MB, above glibc's largest mmap threshold
        del block
blocks(10)  # the heap settles
start = faults()
blocks(10)
print(applied, faults() - start)
"""


def _probe(mode: str, env: dict[str, str] | None = None) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, env=env, timeout=120
    ).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_stops_the_page_faults_of_repeated_blocks() -> None:
    _, default_faults = _probe("default")
    applied, kept_faults = _probe("keep")
    assert applied
    # glibc's default maps each 64 MB block afresh: ~16k faults per block; kept, a settled heap serves them
    assert default_faults > 50_000
    assert kept_faults < default_faults / 10
    env = dict(os.environ) | {"TOONTALKER_SYSTEM_MALLOC": "1"}
    opted_out, _ = _probe("keep", env)
    assert not opted_out


def test_the_command_line_applies_it_once_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def record() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(cli, "keep_freed_memory", record)
    monkeypatch.setattr(sys, "argv", ["toontalker", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0 and calls == [1]
