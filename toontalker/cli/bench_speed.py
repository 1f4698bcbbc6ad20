"""`toontalker bench speed`: frames/s, latency and peak memory of the animate core."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from toontalker.cli.choices import CompileMode
from toontalker.cli.common import Device, JsonOutput, JsonReport, Quiet, output_mode
from toontalker.console import print_json, stderr_console, stdout_console, write_json

HELP = (
    "Frames/s and latency of the animate core (source encoded once; batched driving motion encoding, "
    "relative motion and rendering) for each model preset, batch size and dtype, with peak memory. "
    "Random weights and inputs: speed does not depend on them."
)
EPILOG = """Examples:

  toontalker bench speed --presets tiny --batch-sizes 1,8

  toontalker bench speed --config-preset gpu -o bench-speed.json

  toontalker bench speed --presets paper-256 --batch-sizes 1,64,256 --dtypes bf16 --channels-last --compile max-autotune
"""


def _ints(text: str, option: str) -> tuple[int, ...]:
    from toontalker.errors import UsageError

    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise UsageError(f"{option} {text!r}: expected comma-separated integers") from exc


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def speed_command(
    presets: Annotated[
        str | None, typer.Option("--presets", help="Model presets, comma-separated (tiny,small-256,paper-256).")
    ] = None,
    batch_sizes: Annotated[str | None, typer.Option("--batch-sizes", help="Batch sizes, comma-separated.")] = None,
    dtypes: Annotated[
        str | None, typer.Option("--dtypes", help="Dtypes, comma-separated: auto, fp32, bf16, fp16.")
    ] = None,
    config_preset: Annotated[
        str | None, typer.Option("--config-preset", help="A named benchmark setup: quick, gpu.")
    ] = None,
    iters: Annotated[
        int | None, typer.Option("--iters", min=1, help="Timed iterations per row (median reported).")
    ] = None,
    warmup: Annotated[int | None, typer.Option("--warmup", min=0, help="Untimed warm-up iterations per row.")] = None,
    channels_last: Annotated[
        bool, typer.Option("--channels-last", help="Weights and inputs in channels_last memory format.")
    ] = False,
    cast_weights: Annotated[
        bool, typer.Option("--cast-weights", help="Cast the weights to the dtype (else autocast over fp32 weights).")
    ] = False,
    compile_mode: Annotated[
        CompileMode | None,
        typer.Option(
            "--compile", help="torch.compile the core with this mode (default, reduce-overhead, max-autotune)."
        ),
    ] = None,
    device: Device = "auto",
    output: JsonReport = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from rich.table import Table

    from toontalker.bench.speed import SpeedBenchConfig, SpeedRow, run_speed_bench

    mode = output_mode(quiet, json)
    cfg = SpeedBenchConfig.from_name(config_preset) if config_preset else SpeedBenchConfig()
    changes: dict[str, object] = {
        "device": device,
        "channels_last": channels_last,
        "cast_weights": cast_weights,
        "compile_mode": compile_mode,
    }
    if presets:
        changes["presets"] = _names(presets)
    if batch_sizes:
        changes["batch_sizes"] = _ints(batch_sizes, "--batch-sizes")
    if dtypes:
        changes["dtypes"] = _names(dtypes)
    if iters is not None:
        changes["iters"] = iters
    if warmup is not None:
        changes["warmup"] = warmup
    cfg = cfg.replace(**changes)
    err = stderr_console()

    def on_row(row: SpeedRow) -> None:
        if mode.show_progress:
            what = row.error or f"{row.frames_per_second:.1f} frames/s, {row.ms_per_frame:.2f} ms/frame"
            err.print(f"{row.preset} {row.dtype} batch {row.batch_size}: {what}")

    report = run_speed_bench(cfg, on_row)
    if output is not None:
        write_json(output, report)
    if mode.json:
        print_json(report)
        return
    if mode.quiet:
        return
    table = Table(title=f"animate core speed on {report.device_name} ({report.device}, torch {report.torch})")
    for col in ("preset", "params M", "size", "dtype", "batch", "frames/s", "ms/frame", "ms/batch (p90)", "peak MiB"):
        table.add_column(col, justify="right" if col not in ("preset", "dtype") else "left")
    for r in report.rows:
        if r.error:
            table.add_row(
                r.preset,
                f"{r.params_m:.1f}",
                str(r.image_size),
                r.dtype,
                str(r.batch_size),
                f"[red]{r.error}[/red]",
                "",
                "",
                "",
            )
            continue
        table.add_row(
            r.preset,
            f"{r.params_m:.1f}",
            str(r.image_size),
            r.dtype,
            str(r.batch_size),
            f"{r.frames_per_second:.1f}",
            f"{r.ms_per_frame:.2f}",
            f"{r.ms_per_batch:.1f} ({r.ms_per_batch_p90:.1f})",
            "" if math.isnan(r.peak_memory_mb) else f"{r.peak_memory_mb:.0f}",
        )
    stdout_console().print(table)
    flags = [f for f, on in (("channels_last", channels_last), ("cast weights", cast_weights)) if on]
    if compile_mode:
        flags.append(f"torch.compile({compile_mode})")
    if flags:
        stdout_console().print("options: " + ", ".join(flags))
