"""`toontalker bench ...`: speed and quality benchmarks."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: speed of the animate core, quality on the paper's protocols.", no_args_is_help=True)
