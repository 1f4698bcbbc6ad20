"""`toontalker weights ...`: inspect, pull, push and convert model weights."""

from __future__ import annotations

import typer

app = typer.Typer(help="Model weights: info, pull (from the hub), push, convert (checkpoint -> release).", no_args_is_help=True)
