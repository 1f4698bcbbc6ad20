"""The `toontalker` command: a Typer app whose commands each parse, call one library function, render.

Errors: any :class:`~toontalker.errors.ToonTalkerError` becomes one line on stderr plus a hint to set
``TOONTALKER_DEBUG=1`` for the traceback, and exit code ``error.exit_code`` (2 usage, 1 failed work);
Ctrl-C and SIGTERM exit 130 (README "Exit codes").
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

import click
import typer
from typer.core import TyperGroup

from toontalker.errors import EXIT_INTERRUPTED, ToonTalkerError


def debug_enabled() -> bool:
    return os.environ.get("TOONTALKER_DEBUG", "").strip() not in ("", "0", "false", "no")


def report_error(error: ToonTalkerError) -> None:
    click.echo(f"error: {error}", err=True)
    click.echo("set TOONTALKER_DEBUG=1 for a traceback", err=True)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a job scheduler) stops a command the way Ctrl-C does: temporary files are
    removed, exit code 130. ``train`` installs its own handler (checkpoint, then stop) while it runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


class ToonTalkerGroup(TyperGroup):
    """The root group: turns ToonTalkerError into a one-line message and its exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except ToonTalkerError as error:
            if debug_enabled():
                raise
            report_error(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except OSError as error:  # a full disk (or quota, read-only file system) met outside an atomic write
            from toontalker.io_utils import is_write_refused

            if debug_enabled() or not is_write_refused(error):
                raise
            click.echo(f"error: {error.filename or 'output'}: cannot write: {error.strerror}", err=True)
            ctx.exit(1)


def _hide_flag_types() -> None:
    """Boolean flags take no value: show no ``<bool>`` type next to them in ``--help``.

    Typer (>= 0.20) prints every option's type; for an on/off flag that type is noise. Older Typer has no
    ``display_type_rich`` and prints no types at all, so there is nothing to hide.
    """
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "_hides_flags", False):
        return

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich._hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_types()

app = typer.Typer(
    name="toontalker",
    cls=ToonTalkerGroup,
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
    try:
        app()
    except ToonTalkerError as error:  # raised outside invoke (e.g. during parsing callbacks)
        if debug_enabled():
            raise
        report_error(error)
        sys.exit(error.exit_code)
