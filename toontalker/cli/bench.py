"""`toontalker bench ...`: speed and quality benchmarks."""

from __future__ import annotations

import typer

from toontalker.cli import bench_speed

app = typer.Typer(help="Benchmarks: speed of the animate core, quality on the paper's protocols.", no_args_is_help=True)
app.command("speed", help=bench_speed.HELP, epilog=bench_speed.EPILOG)(bench_speed.speed_command)
