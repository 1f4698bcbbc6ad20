"""`toontalker bench model`: forward speed/memory of the animate core (register in cli/bench.py).

Registration (owned by cli/bench.py): ``app.command("model", help=HELP, epilog=EPILOG)(bench_model_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toontalker.cli.common import JsonOutput, Quiet, output_mode
from toontalker.console import print_json, stderr_console, stdout_console
from toontalker.errors import UsageError

HELP = (
    "Time the model forward with the source encoded once: driving frames in batches (Em, T_r->d, T_B, G), "
    "CUDA events, median; peak GPU memory."
)
EPILOG = (
    "Examples:\n\n  toontalker bench model --preset paper-256 --batch 1 --batch 16 --batch 64 --dtype fp32 --dtype bf16\n\n"
    "  toontalker bench model --preset paper-256 --channels-last both --compile both --out bench-model.json"
)


def bench_model_command(
    preset: Annotated[str, typer.Option("--preset", help="Model preset: tiny, small-256, paper-256.")] = "paper-256",
    batch: Annotated[Optional[list[int]], typer.Option("--batch", "-b", help="Batch size (repeatable).")] = None,
    dtype: Annotated[Optional[list[str]], typer.Option("--dtype", help="fp32, bf16 or fp16 (repeatable).")] = None,
    channels_last: Annotated[str, typer.Option("--channels-last", help="off, on or both.")] = "off",
    compile_model: Annotated[str, typer.Option("--compile", help="torch.compile: off, on or both.")] = "off",
    device: Annotated[str, typer.Option("--device", help="'auto', 'cuda', 'cuda:1', 'cpu'.")] = "auto",
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed iterations per setting.")] = 5,
    iterations: Annotated[int, typer.Option("--iterations", min=1, help="Timed iterations per setting.")] = 20,
    out: Annotated[Optional[Path], typer.Option("--out", help="Also write the results as JSON here.")] = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    import dataclasses
    import json as jsonlib

    from toontalker.io_utils import atomic_write_text
    from toontalker.model.bench_forward import BENCH_DTYPES, benchmark_forward
    from toontalker.model.config import ModelConfig

    flags = {"off": (False,), "on": (True,), "both": (False, True)}
    for name, value in (("--channels-last", channels_last), ("--compile", compile_model)):
        if value not in flags:
            raise UsageError(f"{name} must be off, on or both, got {value!r}")
    dtypes = tuple(dtype or ["fp32", "bf16"])
    for d in dtypes:
        if d not in BENCH_DTYPES:
            raise UsageError(f"--dtype {d!r}: choose fp32, bf16 or fp16")
    if preset not in ModelConfig.preset_names():
        raise UsageError(f"--preset {preset!r}: choose one of {', '.join(ModelConfig.preset_names())}")
    mode = output_mode(quiet, json)
    console = stderr_console()

    def show(t) -> None:
        if mode.show_progress:
            console.print(
                f"B={t.batch:<3} {t.dtype:<4} channels_last={t.channels_last} compile={t.compiled}: "
                f"{t.ms_per_frame:.3f} ms/frame, {t.frames_per_s:.0f} frames/s, peak {t.peak_memory_mib} MiB"
            )

    results = benchmark_forward(
        preset, tuple(batch or [1, 16, 64]), dtypes, flags[channels_last], flags[compile_model], device,
        warmup, iterations, on_result=show,
    )
    if out is not None:
        atomic_write_text(out, jsonlib.dumps([dataclasses.asdict(t) for t in results], indent=2) + "\n")
    if mode.json:
        print_json(results)
    elif not mode.quiet:
        from rich.table import Table

        table = Table(title=f"model forward, {preset}, {results[0].device if results else device}")
        for col in ("batch", "dtype", "channels_last", "compile", "ms/batch", "ms/frame", "frames/s", "peak MiB"):
            table.add_column(col)
        for t in results:
            table.add_row(str(t.batch), t.dtype, str(t.channels_last), str(t.compiled), f"{t.ms_per_batch:.2f}",
                          f"{t.ms_per_frame:.3f}", f"{t.frames_per_s:.0f}",
                          "-" if t.peak_memory_mib is None else f"{t.peak_memory_mib:.0f}")
        stdout_console().print(table)
