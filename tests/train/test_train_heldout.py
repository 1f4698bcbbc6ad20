"""heldout_every (ours): a run scores its exported weights (the EMA) and G itself on the test split as it trains;
the logged numbers are those of the weights the run wrote."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from shared_clips import import_clips
from synthetic_clips import SyntheticPairs
from toontalker.cli import app
from toontalker.errors import ConfigError, InputError, UsageError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.train import TrainRecipe, train
from toontalker.train.checkpoint import list_checkpoints, load_trainer_state
from toontalker.train.heldout import evaluate_heldout, heldout_pairs
from toontalker.weights.load import load_folder


def _recipe(**changes) -> TrainRecipe:
    settings = {"batch_size": 2, "iterations": 3, "checkpoint_every": 3, "heldout_every": 2, "heldout_pairs": 2}
    return TrainRecipe.for_stage("tiny", 1, num_workers=0, lambda_per=0.0, **{**settings, **changes})


def test_heldout_settings_are_checked_and_need_dataset_folders(tmp_path: Path, vgg_module) -> None:
    assert TrainRecipe.for_stage("tiny", 1).heldout_every == 0  # off: the paper's recipe
    with pytest.raises(ConfigError, match="heldout_every"):
        _recipe(heldout_every=-1)
    with pytest.raises(ConfigError, match="heldout_pairs"):
        _recipe(heldout_pairs=0)
    with pytest.raises(ConfigError, match="keep_best='flow' picks by held-out scores: it needs heldout_every > 0"):
        _recipe(heldout_every=0, keep_best="flow")
    with pytest.raises(ConfigError, match="keep_best"):
        _recipe(keep_best="l1")
    with pytest.raises(UsageError, match="test split of a dataset folder; the real data is a SyntheticPairs"):
        train(_recipe(), real=SyntheticPairs(3), out=tmp_path / "run", vgg=vgg_module, device="cpu")


def _global_generators() -> tuple:
    """The states of the generators a training run draws from: torch's (hashed), numpy's and Python's."""
    return (hash(torch.get_rng_state().numpy().tobytes()), hash(np.random.get_state()[1].tobytes()), random.getstate())


@pytest.mark.slow
def test_heldout_scores_logged_while_training_are_the_written_weights(
    cli_runner, shared_data: Path, tmp_path: Path, vgg_module
) -> None:
    data = import_clips(cli_runner, shared_data, tmp_path, cartoon=False)
    with pytest.raises(InputError, match="split='test'"):  # no test split yet: stops before the first step
        train(_recipe(), real=data, out=tmp_path / "early", vgg=vgg_module, device="cpu", show_progress=False)
    assert not list_checkpoints(tmp_path / "early")
    split = cli_runner.invoke(app, ["dataset", "split", str(data), "--test", "1", "-q"])
    assert split.exit_code == 0, split.output

    run = tmp_path / "run"
    recipe = _recipe(ema_decay=0.5, keep_best="flow")
    result = train(recipe, real=data, out=run, vgg=vgg_module, device="cpu", show_progress=False)
    records = [json.loads(line) for line in (run / "heldout.jsonl").read_text().splitlines()]
    assert [(r["step"], r["weights"], r["domain"], r["pairs"]) for r in records] == [
        (2, "ema", "real", 2),
        (2, "G", "real", 2),
        (3, "ema", "real", 2),  # the last step too
        (3, "G", "real", 2),
    ]
    assert result.heldout_step == 3 and sorted(result.heldout) == ["real (G)", "real (ema)"]
    assert math.isclose(result.heldout["real (ema)"]["l1"], records[2]["l1"], abs_tol=1e-6)
    pairs = heldout_pairs(data, domain="real", image_size=64, pairs_per_clip=2)
    exported = load_folder(list_checkpoints(run)[-1][1])  # the average (ema_decay): what the run exports
    g = ToonTalker(ModelConfig.from_name("tiny"))
    g.load_state_dict(load_trainer_state(run)["model"])
    for logged, model in ((records[2], exported), (records[3], g)):
        generators = _global_generators()
        expected = evaluate_heldout(model, pairs, domain="real", device="cpu", num_workers=1).as_dict()
        assert _global_generators() == generators  # scoring leaves a run's random stream alone
        assert expected.keys() <= logged.keys()
        for key, value in expected.items():
            assert math.isclose(logged[key], value, rel_tol=1e-4, abs_tol=2e-6), (key, logged[key], value)
    assert records[2]["l1"] != records[3]["l1"]  # the average is not G
    assert 0 < records[3]["copy_flow"] < 1  # FaceMesh points of the held-out frames were used
    assert torch.is_grad_enabled()

    # keep_best="flow": best/ holds the exported weights of the evaluation with the lowest flow error
    averaged = [r for r in records if r["weights"] == "ema"]
    winner = min(averaged, key=lambda r: r["flow"])
    kept = json.loads((run / "best" / "best.json").read_text())
    assert (kept["step"], kept["keep_best"], result.best_step) == (winner["step"], "flow", winner["step"])
    assert math.isclose(kept["value"], -winner["flow"], abs_tol=2e-6)  # stored so that higher is better (log: 6 places)
    assert (run / "best" / "discriminator-real.safetensors").is_file()
    rescored = evaluate_heldout(load_folder(run / "best"), pairs, domain="real", device="cpu").as_dict()
    assert math.isclose(rescored["flow"], winner["flow"], rel_tol=1e-4, abs_tol=2e-6)
