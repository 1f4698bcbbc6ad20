"""Fault-injection helpers for the reliability tests (docs/reliability.md): a tiny filesystem that fills up,
small media made by ffmpeg, and the CLI as a real process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def small_disk(where: Path, size: str = "100k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (needs root); skips the test where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'mount failed'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def make_driver(path: Path, seconds: float = 2.0, audio: bool = True, size: int = 96) -> Path:
    """A 25 fps test-pattern video (plus a sine tone)."""
    inputs = ["-f", "lavfi", "-i", f"testsrc=s={size}x{size}:r=25:d={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=d={seconds}", "-shortest"]
    ffmpeg(*inputs, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    return path


def make_image(path: Path, size: int = 96) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=s={size}x{size}", "-frames:v", "1", str(path))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    python_path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": python_path, "OMP_NUM_THREADS": "1", **extra}


def run_cli(*args: str, timeout: float = 120.0, **env: str) -> subprocess.CompletedProcess:
    """``toontalker ARGS`` as a real process; stdout/stderr captured (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "toontalker", *map(str, args)],
        cwd=REPO_ROOT,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def popen_cli(*args: str, log: Path, **env: str) -> subprocess.Popen:
    """``toontalker ARGS`` started in its own session (so the test can signal it), output to ``log``."""
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "toontalker", *map(str, args)],
            cwd=REPO_ROOT,
            env=cli_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


TINY = ("--preset", "tiny", "--random-weights", "--no-crop", "--device", "cpu")
