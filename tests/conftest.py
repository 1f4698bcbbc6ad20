"""Shared fixtures: offline hub, the repository's example media, the ../shared/data folder, CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a hub unless they serve a fake one on 127.0.0.1 themselves.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TOONTALKER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
EXAMPLES = REPO_ROOT / "examples"  # small MIT/Apache-2.0 media committed with the code (examples/README.md)


@pytest.fixture(scope="session")
def examples() -> Path:
    """examples/: a cartoon headshot, a real portrait, a real driver with audio, a cartoon driver. Always there."""
    assert (EXAMPLES / "README.md").is_file(), f"{EXAMPLES} is missing: it is part of the repository"
    return EXAMPLES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real and cartoon media). End-to-end tests need it; skip loudly without it."""
    if not (SHARED_DATA / "MANIFEST.csv").is_file():
        pytest.skip(f"{SHARED_DATA} not found (set TOONTALKER_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture()
def cli_runner():
    from typer.testing import CliRunner

    return CliRunner()
