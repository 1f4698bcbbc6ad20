"""scripts/heldout_region_eval.py end to end on imported real clips: the numbers it reports are the ones it says."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from shared_clips import import_clips
from toontalker.cli import app
from toontalker.model import ModelConfig, ToonTalker

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "heldout_region_eval.py"


@pytest.mark.slow
def test_heldout_eval_on_a_held_out_person(cli_runner, shared_data: Path, tmp_path: Path):
    data = import_clips(cli_runner, shared_data, tmp_path, cartoon=False)
    split = cli_runner.invoke(app, ["dataset", "split", str(data), "--test", "1", "-q"])
    assert split.exit_code == 0, split.output
    torch.manual_seed(0)
    weights = tmp_path / "random-tiny"
    ToonTalker(ModelConfig.from_name("tiny")).save_pretrained(weights)
    out = tmp_path / "eval.json"
    args = [str(data), str(weights), "--pairs", "3", "--device", "cpu", "--json", str(out)]
    run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "landmark flow" in run.stdout
    result = json.loads(out.read_text())[str(weights)]
    assert result["pairs"] == 3  # one test clip x 3 pairs
    assert all(math.isfinite(v) for v in result.values())
    assert math.isclose(result["copy_gain"], 1 - result["l1"] / result["copy_l1"])
    assert 0 < result["copy_flow"] < 1 and result["flow"] > 0  # FaceMesh points found in the held-out frames
    assert result["copy_gain"] < 0  # random weights do not beat copying the source
