"""`toontalker dataset ...`: build, import, split, inspect and verify face-video datasets."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Build training-ready face clips from raw videos: build, import, split, stats, verify.",
    no_args_is_help=True,
)
