"""The CLI shell: help, version, info, error handling and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import typer

from toontalker.cli import app
from toontalker.cli.shell import guard_commands
from toontalker.errors import InputError, UsageError


def test_help_lists_groups(cli_runner) -> None:
    result = cli_runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("dataset", "train", "animate", "bench", "weights", "info"):
        assert group in result.output


def test_help_shows_examples_and_option_types(cli_runner) -> None:
    for args in ([], ["dataset"], ["bench"], ["weights"], ["animate"], ["train"]):
        result = cli_runner.invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (args, result.output)
        assert "Examples" in result.output, args
    animate_help = cli_runner.invoke(app, ["animate", "--help"], env={"COLUMNS": "160"}).output
    assert "--side-by-side" in animate_help and "<path>" in animate_help  # options show their types
    assert "shipped with the package" in animate_help  # the --weights default
    assert "no toontalker weights are published" in cli_runner.invoke(app, ["weights", "--help"]).output


def test_version(cli_runner) -> None:
    from toontalker import __version__

    result = cli_runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == __version__


def test_info_json_tells_the_truth(cli_runner) -> None:
    result = cli_runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    import torch

    assert info["device"]["cuda_available"] == torch.cuda.is_available()
    weights = {w["key"]: w for w in info["weights"]}
    from pathlib import Path

    for key, entry in weights.items():
        assert entry["present"] == Path(entry["path"]).is_file(), key
    from toontalker.weights import default_weights

    shipped = default_weights()
    assert info["default_weights"] == (str(shipped) if shipped is not None else None)
    backends = {b["name"]: b for b in info["backends"]}
    fa = backends["face-alignment"]
    assert fa["available"] == (
        weights["s3fd"]["present"] and weights["fan-2d"]["present"] and "installed" in fa["detail"]
    )


def _error_app(error: Exception) -> typer.Typer:
    demo = typer.Typer()

    @demo.command()
    def fail() -> None:
        raise error

    @demo.command()
    def other() -> None:
        pass

    guard_commands(demo)
    return demo


def test_errors_are_one_line_with_exit_codes(cli_runner, monkeypatch) -> None:
    monkeypatch.delenv("TOONTALKER_DEBUG", raising=False)
    result = cli_runner.invoke(_error_app(InputError("clip.mp4: not a video")), ["fail"])
    assert result.exit_code == 1
    assert "error: clip.mp4: not a video" in result.output
    assert "TOONTALKER_DEBUG=1" in result.output
    assert "Traceback" not in result.output
    result = cli_runner.invoke(_error_app(UsageError("bad option")), ["fail"])
    assert result.exit_code == 2


def test_interrupt_and_full_disk_are_one_line(cli_runner, monkeypatch) -> None:
    import errno

    monkeypatch.delenv("TOONTALKER_DEBUG", raising=False)
    result = cli_runner.invoke(_error_app(KeyboardInterrupt()), ["fail"])
    assert result.exit_code == 130 and "interrupted" in result.output
    full = OSError(errno.ENOSPC, "No space left on device", "out.mp4")
    result = cli_runner.invoke(_error_app(full), ["fail"])
    assert result.exit_code == 1 and "error: out.mp4: cannot write: No space left on device" in result.output
    result = cli_runner.invoke(_error_app(OSError(errno.EACCES, "other")), ["fail"])  # not a write refusal
    assert isinstance(result.exception, OSError)


def test_debug_shows_traceback(cli_runner, monkeypatch) -> None:
    monkeypatch.setenv("TOONTALKER_DEBUG", "1")
    result = cli_runner.invoke(_error_app(InputError("boom")), ["fail"])
    assert isinstance(result.exception, InputError)


def test_usage_error_from_click_exits_2(cli_runner) -> None:
    result = cli_runner.invoke(app, ["info", "--no-such-option"])
    assert result.exit_code == 2


def test_console_script_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "toontalker", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip()


def test_public_api_is_lazy_and_callable() -> None:
    import importlib
    import sys

    code = (
        "import sys, toontalker; assert 'torch' not in sys.modules; "
        "assert callable(toontalker.animate); import toontalker.cli; assert callable(toontalker.animate); "
        "from toontalker import ModelConfig, from_pretrained; print(ModelConfig.from_name('tiny').image_size)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "64"
    assert importlib.import_module("toontalker").__version__
