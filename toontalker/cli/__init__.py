"""The `toontalker` command: a Typer app whose commands each parse, call one library function, render.

Errors: any :class:`~toontalker.errors.ToonTalkerError` becomes one line on stderr plus a hint to set
``TOONTALKER_DEBUG=1`` for the traceback, and exit code ``error.exit_code`` (2 usage, 1 failed work);
Ctrl-C and SIGTERM exit 130 (README "Exit codes"). The rule lives in :mod:`toontalker.cli.shell`.
"""

from __future__ import annotations

import sys

import typer

from toontalker.allocator import keep_freed_memory
from toontalker.cli.shell import debug_enabled, guard_commands, report_error
from toontalker.errors import ToonTalkerError

__all__ = ["app", "main"]

app = typer.Typer(
    name="toontalker",
    help="Cross-domain face reenactment: drive a cartoon with a real video, and a real face with a cartoon.",
    epilog="Examples:\n\n"
    "  toontalker animate examples/cartoon_portrait.jpg examples/real_driver.mp4 -o animated.mp4 --side-by-side\n\n"
    "  toontalker info\n\n"
    "  toontalker dataset build raw_videos/ data/real --domain real\n\n"
    "  toontalker train --stage 1 --data data/real --out runs/s1\n\n"
    "  toontalker animate --help",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _register() -> None:
    from toontalker.cli import animate, bench, dataset, info, train, ui, weights

    app.add_typer(dataset.app, name="dataset")
    app.command("train", help=train.HELP, epilog=train.EPILOG)(train.train_command)
    app.command("animate", help=animate.HELP, epilog=animate.EPILOG)(animate.animate_command)
    app.add_typer(bench.app, name="bench")
    app.add_typer(weights.app, name="weights")
    app.command("info", help=info.HELP, epilog=info.EPILOG)(info.info_command)
    app.command("ui", help=ui.HELP, epilog=ui.EPILOG)(ui.ui_command)
    guard_commands(app)


_register()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Cross-domain face reenactment (ToonTalker, ICCV 2023)."""
    if version:
        from toontalker import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def main() -> None:
    """Console-script entry point."""
    keep_freed_memory()  # process-wide, so here and not in the library (toontalker/allocator.py)
    try:
        app()
    except ToonTalkerError as error:  # raised outside invoke (e.g. during parsing callbacks)
        if debug_enabled():
            raise
        report_error(error)
        sys.exit(error.exit_code)
