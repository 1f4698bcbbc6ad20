"""The CLI takes its defaults from the library's option dataclasses instead of repeating them."""

from __future__ import annotations

import dataclasses

import typer

from toontalker.animation.options import AnimateOptions
from toontalker.cli import app

# CLI parameter -> AnimateOptions field, where the names differ
RENAMED = {"compile_core": "compile"}


def _command(path: list[str]):
    command = typer.main.get_command(app)
    ctx = typer.Context(command)
    for name in path:
        command = command.get_command(ctx, name)
    return command


def test_animate_defaults_are_animate_options_defaults() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(AnimateOptions)}
    params = {p.name: p.default for p in _command(["animate"]).params}
    shared = {name: RENAMED.get(name, name) for name in params if RENAMED.get(name, name) in fields}
    assert len(shared) >= 15, shared  # domains, detector, crop, tracking, motion, output, batch, backend, device
    for param, field in shared.items():
        assert params[param] == fields[field], (param, params[param], fields[field])


def test_import_of_the_cli_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, toontalker.cli; print(sorted({'torch', 'numpy', 'cv2'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
