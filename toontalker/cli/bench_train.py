"""`toontalker bench train-step`: images/s of the full training step (G + D + perceptual)."""

from __future__ import annotations

from typing import Annotated

import typer

from toontalker.cli import choices
from toontalker.cli.choices import PrecisionChoice, values
from toontalker.cli.common import Device, JsonOutput, JsonReport, Quiet, output_mode
from toontalker.console import print_json, stderr_console, stdout_console, write_json

HELP = (
    "Images/s and peak memory of one training step as the trainer runs it (generator forward/backward, "
    "discriminators, perceptual loss, both Adam updates) per model preset, stage and batch size. Synthetic "
    "inputs; random VGG19 weights when the ImageNet file is not cached (same compute)."
)
EPILOG = """Examples:

  toontalker bench train-step --preset paper-256 --preset small-256 --batch 16 --batch 32

  toontalker bench train-step --preset paper-256 --stage 2 --batch 8 --compile -o bench-train.json

  toontalker bench train-step --preset small-256 --batch 32 --compile --compile-mode reduce-overhead

  toontalker bench train-step --preset tiny --stage 1 --stage 2 --precision bf16 --precision fp32 --device cpu
"""


def train_step_command(
    preset: Annotated[list[str] | None, typer.Option("--preset", help="Model preset (repeatable).")] = None,
    stage: Annotated[list[int] | None, typer.Option("--stage", min=1, max=2, help="Stage (repeatable).")] = None,
    batch: Annotated[list[int] | None, typer.Option("--batch", min=1, help="Global batch (repeatable).")] = None,
    precision: Annotated[
        list[PrecisionChoice] | None,
        typer.Option("--precision", help="auto (bf16 on CUDA), bf16 or fp32 (repeatable; default: auto)."),
    ] = None,
    channels_last: Annotated[bool, typer.Option("--channels-last/--no-channels-last")] = True,
    compile_step: Annotated[bool, typer.Option("--compile", help="torch.compile the step's objectives.")] = False,
    compile_mode: Annotated[
        choices.TrainCompileMode,
        typer.Option(
            "--compile-mode",
            help="torch.compile mode with --compile; reduce-overhead replays the compiled step as CUDA graphs.",
        ),
    ] = "default",
    perceptual: Annotated[choices.Perceptual, typer.Option("--perceptual", help="vgg19 or dfm.")] = "vgg19",
    warmup: Annotated[int, typer.Option("--warmup", min=0)] = 3,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Timed steps (median reported).")] = 10,
    device: Device = "auto",
    output: JsonReport = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from rich.table import Table

    from toontalker.train.bench_step import StepTiming, run_step_bench

    mode = output_mode(quiet, json)
    err = stderr_console()

    def on_row(row: StepTiming) -> None:
        if mode.show_progress:
            err.print(f"{row.preset} stage {row.stage} batch {row.batch}: {row.images_per_s} img/s ({row.status})")

    rows = run_step_bench(
        presets=tuple(preset or ["paper-256"]),
        stages=tuple(stage or [1]),
        batches=tuple(batch or [16, 32]),
        precisions=values(precision) if precision else ("auto",),
        channels_last=(channels_last,),
        compiled=(compile_step,),
        compile_mode=compile_mode,
        perceptual=perceptual,
        warmup=warmup,
        steps=steps,
        device=device,
        on_row=on_row,
    )
    if output is not None:
        write_json(output, rows)
    if mode.json:
        print_json(rows)
        return
    if mode.quiet:
        return
    table = Table(title=f"training step ({rows[0].device}; VGG19 {rows[0].vgg_weights})" if rows else "training step")
    for col in (
        "preset",
        "stage",
        "batch",
        "precision",
        "compiled",
        "ms/step",
        "images/s",
        "peak MiB",
        "warm-up s",
        "status",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.preset,
            str(r.stage),
            str(r.batch),
            r.precision,
            r.compile_mode if r.compiled else "no",
            f"{r.ms_per_step:.1f}",
            f"{r.images_per_s:.1f}",
            "-" if r.peak_memory_mib is None else f"{r.peak_memory_mib:.0f}",
            "-" if r.warmup_seconds is None else f"{r.warmup_seconds:.1f}",
            r.status,
        )
    stdout_console().print(table)
