"""Atomic writes leave either the finished file or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from toontalker.errors import OutputError
from toontalker.io_utils import atomic_path, atomic_write_text


def test_atomic_write_and_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.txt"
    atomic_write_text(target, "hello")
    assert target.read_text() == "hello"
    plain = tmp_path / "out" / "plain.txt"
    plain.write_text("x")
    assert (target.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)  # not tempfile's 0600
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.mp4") as tmp:
        assert tmp.suffix == ".mp4"
        tmp.write_text("partial")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]


def test_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create folder"):
        atomic_write_text(blocker / "sub" / "a.txt", "x")
