"""ema_decay (ours): a moving average of G, updated after each G step, checkpointed, resumed and exported."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthetic_clips import SyntheticPairs
from toontalker.errors import ConfigError
from toontalker.train import TrainRecipe, train
from toontalker.train.bench_step import _batch
from toontalker.train.checkpoint import list_checkpoints, load_trainer_state
from toontalker.train.distributed import DistInfo
from toontalker.train.trainer import Trainer
from toontalker.weights.load import load_folder

NO_PER = {"lambda_per": 0.0}


def test_ema_decay_is_checked() -> None:
    assert TrainRecipe.for_stage("tiny", 1).ema_decay == 0.0  # off: the paper's recipe
    for bad in (-0.1, 1.0):
        with pytest.raises(ConfigError, match="ema_decay"):
            TrainRecipe.for_stage("tiny", 1, ema_decay=bad)


def test_ema_is_the_exponential_average_of_the_weights_after_each_step(vgg_module) -> None:
    recipe = TrainRecipe.for_stage("tiny", 1, batch_size=2, ema_decay=0.75, **NO_PER)
    trainer = Trainer(recipe, DistInfo(device=torch.device("cpu")), vgg=vgg_module)
    trainer.prepare()
    assert trainer.ema is not None
    batch = _batch(recipe, 2, trainer.model_config.image_size, torch.device("cpu"))
    after = []
    for step in range(3):
        trainer.step([batch], step)
        after.append({k: v.detach().clone() for k, v in trainer.model.named_parameters()})
    averaged = dict(trainer.export_model.named_parameters())
    moved = 0
    for name, value in averaged.items():
        expected = after[0][name]  # the first update copies the weights
        for later in after[1:]:
            expected = 0.75 * expected + 0.25 * later[name]
        torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6)
        moved += int(not torch.equal(after[0][name], after[2][name]))
    assert moved > 0  # G trained, so the average differs from the last weights
    assert not all(torch.equal(averaged[k], after[2][k]) for k in averaged)


def test_ema_is_exported_checkpointed_and_resumed(tmp_path: Path, vgg_module) -> None:
    recipe = TrainRecipe.for_stage("tiny", 1, iterations=4, checkpoint_every=2, ema_decay=0.5, **NO_PER)
    train(recipe, real=SyntheticPairs(3), out=tmp_path / "a", vgg=vgg_module, device="cpu", show_progress=False)
    state = load_trainer_state(tmp_path / "a")
    ema = {k.removeprefix("module."): v for k, v in state["model_ema"].items() if k.startswith("module.")}
    exported = load_folder(list_checkpoints(tmp_path / "a")[-1][1]).state_dict()
    assert exported.keys() == state["model"].keys() == ema.keys()
    assert all(torch.equal(exported[k], ema[k]) for k in exported)  # the weights file is the average
    assert not all(torch.equal(exported[k], state["model"][k]) for k in exported)
    # two steps, then resumed to four: the same average as the uninterrupted run
    train(
        recipe.replace(iterations=2),
        real=SyntheticPairs(3),
        out=tmp_path / "b",
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    train(recipe, real=SyntheticPairs(3), out=tmp_path / "b", resume=True, vgg=vgg_module, device="cpu")
    resumed = load_trainer_state(tmp_path / "b")["model_ema"]
    assert all(torch.equal(resumed[k], state["model_ema"][k]) for k in resumed)


def test_the_average_equals_torchs_averaged_model_and_shares_its_checkpoint_layout() -> None:
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from toontalker.model import ModelConfig, ToonTalker
    from toontalker.train.ema import GeneratorAverage

    torch.manual_seed(0)
    model = ToonTalker(ModelConfig.from_name("tiny"))
    reference = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ours = GeneratorAverage(model, 0.9)
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.randn_like(p))
        reference.update_parameters(model)
        ours.update(model)
    expected, got = reference.state_dict(), ours.state_dict()
    assert expected.keys() == got.keys() and int(got["n_averaged"]) == 3
    assert all(torch.equal(expected[k], got[k]) for k in expected)  # bit for bit
    restored = GeneratorAverage(model, 0.9)
    restored.load_state_dict(expected)  # a checkpoint written with AveragedModel resumes
    assert restored.n_averaged == 3 and all(torch.equal(restored.state_dict()[k], expected[k]) for k in expected)
