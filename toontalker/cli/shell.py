"""How a command ends: a ToonTalkerError becomes one line and its exit code, Ctrl-C and SIGTERM exit 130.

Every command callback of the ``toontalker`` app is wrapped once by :func:`guard_commands` (typer's public
``Typer`` attributes only), so the rule holds for commands added by any module:

- :class:`~toontalker.errors.ToonTalkerError`: ``error: MESSAGE`` on stderr, a hint to set
  ``TOONTALKER_DEBUG=1`` for the traceback, exit ``error.exit_code`` (2 usage, 1 failed work);
- Ctrl-C or SIGTERM: ``interrupted`` on stderr, exit 130;
- a full disk (or quota, read-only file system) met outside an atomic write: one line, exit 1.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer

from toontalker.errors import EXIT_FAILED, EXIT_INTERRUPTED, ToonTalkerError

F = TypeVar("F", bound=Callable[..., Any])


def debug_enabled() -> bool:
    return os.environ.get("TOONTALKER_DEBUG", "").strip() not in ("", "0", "false", "no")


def report_error(error: ToonTalkerError) -> None:
    typer.echo(f"error: {error}", err=True)
    typer.echo("set TOONTALKER_DEBUG=1 for a traceback", err=True)


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


def guarded(command: F) -> F:
    """``command`` with the error rule of this module; its signature (and so its options) unchanged."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            with sigterm_as_interrupt():
                return command(*args, **kwargs)
        except ToonTalkerError as error:
            if debug_enabled():
                raise
            report_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as error:
            from toontalker.io_utils import is_write_refused

            if debug_enabled() or not is_write_refused(error):
                raise
            typer.echo(f"error: {error.filename or 'output'}: cannot write: {error.strerror}", err=True)
            raise typer.Exit(EXIT_FAILED) from None

    run.__toontalker_guarded__ = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


def guard_commands(app: typer.Typer) -> None:
    """Wrap every command of ``app`` and of the groups added to it with :func:`guarded` (once each)."""
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "__toontalker_guarded__", False):
            info.callback = guarded(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)
