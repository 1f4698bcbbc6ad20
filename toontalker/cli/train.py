"""`toontalker train`: stage 1 (real reconstruction) and stage 2 (cross-domain, analogy constraint)."""

from __future__ import annotations

from typing import Annotated

import typer

from toontalker.errors import UsageError

HELP = "Train ToonTalker: --stage 1 (real-domain reconstruction) or --stage 2 (cross-domain, Eq. 12)."
EPILOG = "Examples:\n\n  toontalker train --stage 1 --data data/real --preset small-256 --out runs/s1"


def train_command(stage: Annotated[int, typer.Option("--stage", help="1 or 2.")] = 1) -> None:
    raise UsageError("training is not part of this build yet")
