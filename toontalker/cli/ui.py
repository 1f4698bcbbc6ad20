"""`toontalker ui`: serve a local web page to animate without the command line (the `[ui]` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toontalker.cli.common import Device, Dtype, Seed, Weights, option_defaults
from toontalker.ui.options import UiConfig

DEFAULTS = option_defaults(UiConfig)  # the library's defaults: one home (ui/options.py)

HELP = (
    "Serve a local web page (on 127.0.0.1) to animate a source image with a driving video: upload or pick "
    "the example media, check the face crops, choose the options, watch the progress, download the video. "
    "Runs the same animate as `toontalker animate`, one job at a time. Needs: pip install 'toontalker\\[ui]'."
)
EPILOG = """Examples:

  toontalker ui                                    (then open http://127.0.0.1:7860)

  toontalker ui --port 8080 --weights owner/toontalker

  toontalker ui --host 0.0.0.0                     (reachable from other machines: no login, mind your network)

  toontalker ui --preset tiny --random-weights     (page test only: meaningless pictures)
"""


def ui_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
    ] = DEFAULTS.host,
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = DEFAULTS.port,
    weights: Weights = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Architecture for --random-weights: tiny, small-256, paper-256.")
    ] = None,
    random_weights: Annotated[
        bool, typer.Option("--random-weights", help="Untrained model: tests the page, the pictures are MEANINGLESS.")
    ] = DEFAULTS.random_weights,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples", help="Folder of example images and videos to offer (default: the repository's examples/)."
        ),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0.001, help="Largest upload accepted, in MB.")
    ] = DEFAULTS.max_upload_mb,
    work_dir: Annotated[
        Path | None,
        typer.Option("--work-dir", help="Keep the results in this folder (default: a temporary one, removed on exit)."),
    ] = None,
    device: Device = DEFAULTS.device,
    dtype: Dtype = DEFAULTS.dtype,
    seed: Seed = DEFAULTS.seed,
) -> None:
    from toontalker.console import stderr_console, stdout_console
    from toontalker.ui.server import serve

    config = UiConfig(
        host=host,
        port=port,
        weights=weights,
        preset=preset,
        random_weights=random_weights,
        device=device,
        dtype=dtype,
        max_upload_mb=max_upload_mb,
        examples=str(examples) if examples is not None else None,
        work_dir=str(work_dir) if work_dir is not None else None,
        seed=seed,
    )
    err = stderr_console()
    if random_weights:
        err.print(
            f"[bold red]RANDOM WEIGHTS ({preset or 'tiny'}): the page works; its pictures are meaningless.[/bold red]"
        )

    def ready(url: str, animator) -> None:
        out = stdout_console()
        out.print(
            f"toontalker ui serving on [bold]{url}[/bold] (weights: {animator.weights_line}); Ctrl+C to stop",
            soft_wrap=True,
        )

    serve(config, on_ready=ready)
