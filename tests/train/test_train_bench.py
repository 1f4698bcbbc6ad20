"""The training-step benchmark runs the real step and reports its setting (CPU, tiny preset)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_bench_step_runs_both_stages(cli_runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toontalker.cli import app

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    out = tmp_path / "bench.json"
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "train-step",
            "--preset",
            "tiny",
            "--stage",
            "1",
            "--stage",
            "2",
            "--batch",
            "2",
            "--warmup",
            "0",
            "--steps",
            "1",
            "--device",
            "cpu",
            "--no-channels-last",
            "--precision",
            "fp32",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)
    assert [(r["stage"], r["batch"], r["status"]) for r in results] == [(1, 2, "ok"), (2, 2, "ok")]
    assert all(r["images_per_s"] > 0 and r["precision"] == "fp32" for r in results)
    assert "random" in results[0]["vgg_weights"]
    assert [r["stage"] for r in json.loads(out.read_text())] == [1, 2]


def test_bench_train_step_command(cli_runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toontalker.cli import app

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "train-step",
            "--preset",
            "tiny",
            "--batch",
            "2",
            "--warmup",
            "0",
            "--steps",
            "1",
            "--device",
            "cpu",
            "--no-channels-last",
            "--perceptual",
            "dfm",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["preset"] == "tiny" and rows[0]["images_per_s"] > 0 and rows[0]["vgg_weights"] == "not used"
