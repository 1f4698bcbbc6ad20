"""The README's exit-code table is the one the code uses, and each code is what a real process returns
(130 for a stop is tested with real signals in test_reliability_processes.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from toontalker.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, WeightsError

sys.path.insert(0, str(Path(__file__).parent))
from faults import REPO_ROOT, run_cli  # noqa: E402


def _readme_codes() -> dict[int, str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| ([^|]+) \|", section, re.M)}


def test_readme_table_matches_the_code() -> None:
    codes = _readme_codes()
    assert sorted(codes) == sorted({EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED})
    assert codes[EXIT_INTERRUPTED].startswith("interrupted") and codes[EXIT_USAGE].startswith("usage")
    assert UsageError.exit_code == EXIT_USAGE and WeightsError.exit_code == EXIT_FAILED


def test_real_processes_exit_with_the_documented_codes(tmp_path: Path) -> None:
    ok = run_cli("weights", "info", REPO_ROOT / "toontalker" / "weights" / "default", "-q")
    assert ok.returncode == EXIT_OK, ok.stderr
    failed = run_cli("weights", "info", tmp_path)
    assert failed.returncode == EXIT_FAILED and failed.stderr.startswith("error:"), failed.stderr
    usage = run_cli("animate", tmp_path / "a.png", tmp_path / "b.mp4", "-o", tmp_path / "o.mp4", "--batch-size", "0")
    assert usage.returncode == EXIT_USAGE, usage.stderr
