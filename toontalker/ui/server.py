"""``serve(config)``: load the weights, build the page and serve it (blocking) on ``config.host:port``."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

from toontalker.errors import BackendUnavailableError, UsageError
from toontalker.ui.jobs import Animator, UiConfig
from toontalker.ui.media import find_examples

INSTALL_HINT = "toontalker ui needs the 'ui' extra: pip install 'toontalker[ui]'"


def _import_gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, also for the version check
    try:
        import gradio
    except ImportError as error:
        raise BackendUnavailableError(f"{INSTALL_HINT} ({error})") from error
    return gradio


def serve(config: UiConfig, on_ready: Callable[[str, Animator], None] | None = None) -> None:
    """Serve the page until interrupted; ``on_ready(url, animator)`` is called once it answers."""
    _import_gradio()
    from toontalker.ui.app import build_app  # after gradio's environment is set

    examples = find_examples(config.examples)
    animator = Animator(config)
    allowed = [str(animator.work_dir)] + ([str(examples.folder)] if examples.folder is not None else [])
    try:
        app = build_app(animator, examples)
        app.queue(default_concurrency_limit=None)
        _, url, _ = _launch(app, config, allowed)
        if on_ready is not None:
            on_ready(url, animator)
        with _sigterm_stops():
            app.block_thread()  # returns on Ctrl+C (or SIGTERM), the server closed
    finally:
        animator.close()


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM stops the server like Ctrl+C (a clean close: the work folder removed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _launch(app, config: UiConfig, allowed: list[str]):
    """``app.launch`` without blocking; UsageError naming the address when it cannot listen there."""
    from toontalker.ui.app import CSS

    try:
        return app.launch(
            server_name=config.host,
            server_port=config.port,
            inbrowser=False,
            share=False,
            show_error=True,
            quiet=True,
            prevent_thread_lock=True,
            allowed_paths=allowed,
            ssr_mode=False,
            footer_links=[],
            max_file_size=int(config.max_upload_mb * 2**20),
            css=CSS,
        )
    except OSError as error:
        raise UsageError(f"cannot serve on {config.host}:{config.port} ({error}); pick another port") from error
