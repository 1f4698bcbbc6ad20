"""`toontalker animate SOURCE DRIVING`: reenact a source face with a driving video."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toontalker.errors import UsageError

HELP = "Animate SOURCE (an image) with the motion of DRIVING (a video or image)."
EPILOG = "Examples:\n\n  toontalker animate character.png speech.mp4 -o out.mp4"


def animate_command(
    source: Annotated[Path, typer.Argument(help="Source image.")],
    driving: Annotated[Path, typer.Argument(help="Driving video or image.")],
) -> None:
    raise UsageError("animate is not part of this build yet")
