"""The CLI takes its defaults from the library's option dataclasses instead of repeating them."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from toontalker.animation.options import AnimateOptions
from toontalker.bench.options import MotionOptions, ProtocolOptions, QualityOptions
from toontalker.cli import app
from toontalker.dataset.options import BuildConfig, ImportOptions
from toontalker.ui.options import UiConfig

NOT_DEVICE = {"device": None}  # bench commands resolve "auto" themselves; their options take a resolved device

# command, its options dataclass, CLI parameter -> field where the names differ (None: not the same
# option), how many must be shared
COMMANDS = [
    (["animate"], AnimateOptions, {"compile_core": "compile"}, 15),
    (["dataset", "build"], BuildConfig, {"fmt": "format", "iou": "iou_threshold", "scenes": "scene_detector"}, 19),
    (["dataset", "import"], ImportOptions, {"fmt": "format"}, 7),
    (["bench", "protocol"], ProtocolOptions, {}, 4),
    (["bench", "quality"], QualityOptions, NOT_DEVICE, 6),
    (["bench", "paired"], QualityOptions, NOT_DEVICE, 4),
    (["bench", "motion"], MotionOptions, NOT_DEVICE, 4),
    (["ui"], UiConfig, {}, 11),
]


def _command(path: list[str]):
    command = typer.main.get_command(app)
    ctx = typer.Context(command)
    for name in path:
        command = command.get_command(ctx, name)
    return command


@pytest.mark.parametrize(("path", "options", "renamed", "at_least"), COMMANDS, ids=lambda v: str(v))
def test_cli_defaults_are_the_options_defaults(path, options, renamed, at_least) -> None:
    fields = {f.name: f.default for f in dataclasses.fields(options)}
    params = {p.name: p.default for p in _command(path).params}
    shared = {name: renamed.get(name, name) for name in params if renamed.get(name, name) in fields}
    shared = {name: field for name, field in shared.items() if field is not None}
    assert len(shared) >= at_least, shared
    for param, field in shared.items():
        assert params[param] == fields[field], (param, params[param], fields[field])


def test_import_of_the_cli_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, toontalker.cli; print(sorted({'torch', 'numpy', 'cv2'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_build_defaults_are_the_dataset_tracker():
    """dataset/options.py stays light (no OpenCV), so it repeats the tracker's numbers: they must agree."""
    from toontalker.dataset.options import BuildConfig
    from toontalker.faces.tracking import DATASET_TRACKING

    assert BuildConfig().tracking == DATASET_TRACKING
