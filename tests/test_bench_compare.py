"""bench compare: two bench motion runs over the same pairs, per-pair differences with their standard errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_bench_motion import CopyDriver256, _same_identity
from toontalker.bench.motion import MotionOptions, run_motion_bench
from toontalker.bench.motion_compare import ALL_PAIRS, BLINK_EYES, PAIRS_CSV, compare_motion, comparison_markdown
from toontalker.cli import app
from toontalker.errors import InputError


@pytest.fixture(scope="module")
def two_runs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """bench motion on one real same-identity clip: copy-source (base) and a model that copies the driver."""
    root = tmp_path_factory.mktemp("compare")
    pair = _same_identity(shared_data)
    options = MotionOptions(max_frames=10, plots=False)
    run_motion_bench(pairs=[pair], out=root / "copy", options=options, baseline="copy-source")
    run_motion_bench(pairs=[pair], out=root / "driver", model=CopyDriver256(), label="copy driver", options=options)
    return root / "copy", root / "driver"


def test_real_runs_compare_pair_by_pair(two_runs: tuple[Path, Path]) -> None:
    copy, driver = two_runs
    comparison = compare_motion(copy, driver)
    assert [st.setting for st in comparison.settings] == ["same-identity", ALL_PAIRS]
    mouth = comparison.setting("same-identity").signal("mouth")
    # copy-source: output constant (no r, amplitude 0); copying the driver: r 1 at amplitude 1
    assert math.isnan(mouth.base_r) and mouth.base_amplitude == 0.0
    assert mouth.candidate_r == pytest.approx(1.0, abs=1e-6) and mouth.candidate_amplitude == pytest.approx(
        1.0, abs=1e-6
    )
    assert mouth.pairs == 0 and math.isnan(mouth.difference)  # no pair has r in both runs
    same = comparison.setting("same-identity")
    assert same.base_l1 > 0 and same.candidate_l1 == pytest.approx(0.0, abs=1e-6)
    assert same.base_sharpness == pytest.approx(1.0) and (comparison.only_base, comparison.only_candidate) == (0, 0)


def test_differences_and_standard_errors_over_shared_pairs(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    """Three pairs with known mouth r in each run (a real pairs table, r edited), one pair in the base only."""
    _, driver = two_runs
    row = pd.read_csv(driver / PAIRS_CSV)
    base = pd.concat([row.assign(pair_id=f"p{i}") for i in range(4)], ignore_index=True)
    candidate = base.iloc[:3].copy()
    base["mouth_r"], candidate["mouth_r"] = [0.1, 0.2, 0.3, 0.9], [0.4, 0.2, 0.5]
    for name, frame in (("a", base), ("b", candidate)):
        (tmp_path / name).mkdir()
        frame.to_csv(tmp_path / name / PAIRS_CSV, index=False)
    comparison = compare_motion(tmp_path / "a", tmp_path / "b")
    mouth = comparison.setting("same-identity").signal("mouth")
    diffs = np.array([0.3, 0.0, 0.2])
    assert mouth.pairs == 3 and mouth.difference == pytest.approx(diffs.mean())
    assert mouth.stderr == pytest.approx(diffs.std(ddof=1) / np.sqrt(3))
    assert mouth.base_r == pytest.approx(0.2) and mouth.candidate_r == pytest.approx(1.1 / 3)  # the shared pairs only
    assert (comparison.only_base, comparison.only_candidate) == (1, 0)


def test_eyes_are_compared_on_the_pairs_whose_driver_blinks(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    """A real pairs table edited to three pairs, two of whose drivers blink: eyes_blinking averages both eyes there
    only; runs written before the blink count have no such signal."""
    _, driver = two_runs
    row = pd.read_csv(driver / PAIRS_CSV)
    base = pd.concat([row.assign(pair_id=f"p{i}") for i in range(3)], ignore_index=True)
    base["driver_blinks"] = [2, 0, 1]
    base["eye_right_r"], base["eye_left_r"] = [0.1, 0.9, 0.3], [0.3, 0.9, np.nan]
    candidate = base.copy()
    candidate["eye_right_r"], candidate["eye_left_r"] = [0.5, 0.9, 0.6], [0.7, 0.9, np.nan]
    for name, frame in (("a", base), ("b", candidate), ("old", base.drop(columns="driver_blinks"))):
        (tmp_path / name).mkdir()
        frame.to_csv(tmp_path / name / PAIRS_CSV, index=False)
    comparison = compare_motion(tmp_path / "a", tmp_path / "b")
    eyes = comparison.setting("same-identity").signal(BLINK_EYES)
    assert eyes.pairs == 2 and eyes.base_r == pytest.approx((0.2 + 0.3) / 2) and eyes.candidate_r == pytest.approx(0.6)
    assert eyes.difference == pytest.approx(((0.6 - 0.2) + (0.6 - 0.3)) / 2)
    assert f"| {BLINK_EYES} | sharpness |" in comparison_markdown(comparison)
    old = compare_motion(tmp_path / "old", tmp_path / "b")
    assert BLINK_EYES not in [change.signal for change in old.setting("same-identity").signals]


def test_cli_writes_the_tables_and_refuses_bad_input_in_one_line(two_runs, tmp_path: Path, cli_runner) -> None:
    copy, driver = two_runs
    done = cli_runner.invoke(app, ["bench", "compare", str(copy), str(driver), "--out", str(tmp_path / "c"), "--json"])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["settings"][0]["setting"] == "same-identity" and payload["files"]["markdown"].endswith("compare.md")
    table = pd.read_csv(tmp_path / "c" / "compare.csv")
    assert (
        len(table) == 2 * 8 and "| same-identity (1) |"
    )  # 7 signals and eyes_blinking: in (tmp_path / "c" / "compare.md").read_text()
    shown = cli_runner.invoke(app, ["bench", "compare", str(copy), str(driver)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "same-identity (1)" in shown.output and "- -> +1.00" in shown.output
    assert "eyes_blinking" in shown.output  # both runs count their drivers' blinks

    missing = cli_runner.invoke(app, ["bench", "compare", str(tmp_path / "nothing"), str(driver)])
    assert missing.exit_code != 0 and "nothing: no such file (give a `bench motion` output folder" in missing.output
    assert "Traceback" not in missing.output
    other = tmp_path / "other"
    other.mkdir()
    pd.read_csv(driver / PAIRS_CSV).assign(pair_id="elsewhere").to_csv(other / PAIRS_CSV, index=False)
    with pytest.raises(InputError, match="no pair in common"):
        compare_motion(copy, other)
    (other / PAIRS_CSV).write_text("pair_id,setting\nx,y\n")
    with pytest.raises(InputError, match="not a `bench motion` pairs table"):
        compare_motion(copy, other)
