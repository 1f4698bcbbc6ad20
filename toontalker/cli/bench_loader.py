"""`toontalker bench loader`: training pairs/s the data loader delivers per clip format and worker count."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toontalker.cli.choices import ClipFormatChoice, values
from toontalker.cli.common import JsonOutput, JsonReport, Quiet, Seed, output_mode
from toontalker.console import print_json, stderr_console, stdout_console, write_json

HELP = (
    "Decoded, augmented training frame pairs per second of the training data loader, per clip format (the "
    "dataset's clips rewritten as jpg, npy, mp4) and DataLoader worker count, and the CPU cores needed to "
    "feed a target training rate (default 8 GPUs x 450 images/s)."
)
EPILOG = """Examples:

  toontalker bench loader data/ --format jpg --format npy --format mp4 --workers 0 --workers 1 --workers 2

  toontalker bench loader data/ --target 3600 --clips 32 --seconds 20 -o bench-loader.json
"""


def loader_command(
    dataset: Annotated[Path, typer.Argument(help="A dataset folder (toontalker dataset build/import).")],
    fmt: Annotated[list[ClipFormatChoice] | None, typer.Option("--format", help="Clip format (repeatable).")] = None,
    workers: Annotated[
        list[int] | None, typer.Option("--workers", min=0, help="DataLoader workers (repeatable).")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Pairs per batch (one process's micro-batch).")] = 32,
    size: Annotated[int, typer.Option("--size", min=8, help="Frame side the loader resizes to.")] = 256,
    clips: Annotated[
        int, typer.Option("--clips", min=1, help="Clips of the dataset to use (more than a worker caches: 8).")
    ] = 24,
    max_frames: Annotated[int, typer.Option("--max-frames", min=0, help="Frames kept per clip (0: all).")] = 0,
    seconds: Annotated[float, typer.Option("--seconds", min=0.01, help="Timed seconds per measurement.")] = 10.0,
    augment: Annotated[
        bool, typer.Option("--augment/--no-augment", help="Flip + colour augmentation as in training.")
    ] = True,
    target: Annotated[
        float, typer.Option("--target", min=1.0, help="Training images (pairs) per second to feed.")
    ] = 3600.0,
    seed: Seed = 0,
    output: JsonReport = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from rich.table import Table

    from toontalker.train.bench_loader import LoaderBenchOptions, LoaderTiming, run_loader_bench

    mode = output_mode(quiet, json)
    options = LoaderBenchOptions(
        formats=values(fmt) if fmt else ("jpg", "npy", "mp4"),
        workers=tuple(workers or (0, 1, 2)),
        batch=batch,
        size=size,
        clips=clips,
        max_frames=max_frames,
        seconds=seconds,
        augment=augment,
        target=target,
        seed=seed,
    )  # a ConfigError is a usage error: exit 2
    err = stderr_console()

    def on_row(row: LoaderTiming) -> None:
        if mode.show_progress:
            err.print(f"{row.format} x {row.workers} workers: {row.pairs_per_s} pairs/s")

    result = run_loader_bench(dataset, options, on_row=on_row)
    if output is not None:
        write_json(output, result)
    if mode.json:
        print_json(result)
        return
    if mode.quiet:
        return
    table = Table(
        title=f"training loader: {result.clips} clips x {result.frames_per_clip:.0f} frames at {result.size} px, "
        f"batch {result.batch}, augment {result.augment}, {result.cpu_count} CPU cores"
    )
    for col in ("format", "workers", "pairs/s", "pairs per CPU-second", "cores busy", "KiB/frame"):
        table.add_column(col)
    for r in result.rows:
        table.add_row(
            r.format,
            str(r.workers),
            f"{r.pairs_per_s:.0f}",
            f"{r.pairs_per_cpu_s:.0f}",
            f"{r.cores_busy:.2f}",
            f"{r.kib_per_frame:.1f}",
        )
    console = stdout_console()
    console.print(table)
    for name, cores in result.cores_needed.items():
        console.print(f"{name}: ~{cores} CPU cores of loading for {result.target:.0f} pairs/s")
