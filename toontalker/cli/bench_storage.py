"""`toontalker bench storage FOLDER`: random frame-pair reads per second and bytes per frame of each clip format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toontalker.cli.common import JsonOutput, JsonReport, Quiet, Seed, output_mode
from toontalker.console import print_json, stdout_console, write_json

HELP = (
    "Write the first frames of some videos as clips in every storage format (jpg, png, npy, mp4) to a "
    "temporary folder, then read random frame pairs from random clips through a small reader cache (a training "
    "loader sees more clips than it caches, so mostly cold opens): frames/s read and written, KiB per frame."
)
EPILOG = """Examples:

  toontalker bench storage ../shared/data/cartoon/videos/tha2_characters --clips 8

  toontalker bench storage raw_videos/ --frames 60 --pairs 100 --json
"""


def storage_command(
    folder: Annotated[Path, typer.Argument(help="Folder of videos to use as clips (the first N by name).")],
    clips: Annotated[int, typer.Option("--clips", min=1, help="Videos of FOLDER to use.")] = 8,
    size: Annotated[int, typer.Option("--size", min=8, help="Frame side of the clips, pixels.")] = 256,
    frames: Annotated[int, typer.Option("--frames", min=2, help="Frames kept per clip (from the first).")] = 150,
    pairs: Annotated[int, typer.Option("--pairs", min=1, help="Random frame pairs read per format.")] = 200,
    cache: Annotated[int, typer.Option("--cache", min=1, help="Clips the reader cache keeps open.")] = 2,
    seed: Seed = 0,
    output: JsonReport = None,
    quiet: Quiet = False,
    json: JsonOutput = False,
) -> None:
    from rich.table import Table

    from toontalker.dataset.storage_bench import bench_formats, pick_videos

    mode = output_mode(quiet, json)
    videos = pick_videos(folder, clips)
    results = bench_formats(videos, size=size, frames=frames, pairs=pairs, cache=cache, seed=seed)
    if output is not None:
        write_json(output, results)
    if mode.json:
        print_json(results)
        return
    if mode.quiet:
        return
    table = Table(title=f"clip storage: {len(videos)} clips of {frames} frames at {size} px, {pairs} random pairs")
    for col in ("format", "random-pair read (frames/s)", "KiB/frame", "write (frames/s)"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for r in results:
        table.add_row(r.fmt, f"{r.frames_per_s:.0f}", f"{r.kib_per_frame:.1f}", f"{r.write_frames_per_s:.0f}")
    stdout_console().print(table)
