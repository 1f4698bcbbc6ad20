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
    assert all(r["compiled"] is False and r["compile_mode"] == "-" for r in results)
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
            "1",
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
    assert rows[0]["warmup_seconds"] > 0  # one warm-up step, timed


@pytest.mark.parametrize("stage", [1, 2])
def test_training_step_builds_no_tensor_from_python_data(stage: int, vgg_module) -> None:
    """A tensor built from Python numbers inside the step (``torch.tensor(...)``, profiled as
    ``aten::lift_fresh``) is, on a GPU, a copy from pageable host memory that waits for the GPU: it drains the
    GPU's queue and stops launching and compute from overlapping (docs/benchmarks.md). The step has none."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from toontalker.train.bench_step import _batch
    from toontalker.train.distributed import DistInfo
    from toontalker.train.recipe import TrainRecipe
    from toontalker.train.trainer import Trainer

    device = torch.device("cpu")
    recipe = TrainRecipe.for_stage("tiny", stage, batch_size=2, perceptual="vgg19", perceptual_scales=2)
    trainer = Trainer(recipe, DistInfo(device=device), vgg=vgg_module)
    trainer.prepare()
    batch = _batch(recipe, 2, trainer.model_config.image_size, device)
    trainer.step([batch], 0)  # the first step also creates Adam's state (its step counters come from numbers)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        result = trainer.step([batch], 1)
    names = [event.name for event in prof.events()]
    assert "aten::convolution" in names and torch.isfinite(result.terms["total"])  # the profile saw the step
    assert names.count("aten::lift_fresh") == 0
