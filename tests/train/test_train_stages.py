"""Both stages end to end on the tiny preset (CPU): runs, learning, resume, Sec. 3.3 init, NaN guard."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from torch import Tensor

from synthetic_clips import SyntheticPairs
from toontalker.errors import TrainingError, UsageError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.train import TrainRecipe, train
from toontalker.train.checkpoint import list_checkpoints, load_trainer_state
from toontalker.train.distributed import DistInfo
from toontalker.train.trainer import Trainer


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _stage1(tmp_path: Path, vgg, **overrides) -> Path:
    out = tmp_path / "s1"
    train(
        TrainRecipe.for_stage("tiny", 1, **overrides),
        real=SyntheticPairs(4),
        out=out,
        vgg=vgg,
        device="cpu",
        show_progress=False,
    )
    return out


def test_stage1_then_stage2_run_and_record(tmp_path: Path, vgg_module) -> None:
    s1 = _stage1(tmp_path, vgg_module, iterations=2)
    ckpt = list_checkpoints(s1)[-1][1]
    assert ckpt.name == "step-00000002"
    assert {p.name for p in ckpt.iterdir()} >= {"model.safetensors", "config.json", "trainer_state.pt", "recipe.yaml"}
    from safetensors.torch import load_file

    exported = load_file(ckpt / "model.safetensors")
    assert not any(k.startswith("discriminator") for k in exported) and "source_query" in "".join(exported)
    s2 = tmp_path / "s2"
    result = train(
        TrainRecipe.for_stage("tiny", 2, iterations=2, image_every=1),
        real=SyntheticPairs(4),
        cartoon=SyntheticPairs(3, seed=7),
        out=s2,
        init=s1,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    assert result.step == 2 and result.stage == 2
    expected = {
        "real_l1",
        "cartoon_l1",
        "real_perceptual",
        "cartoon_adv",
        "analogy_r2c",
        "analogy_c2r",
        "synthetic_adv_cartoon",
        "synthetic_adv_real",
        "d_real",
        "d_cartoon",
        "total",
    }
    assert expected <= set(result.losses) and all(torch.isfinite(torch.tensor(v)) for v in result.losses.values())
    assert [m["step"] for m in _metrics(s2)] == [1, 2]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(s2 / "tb"), size_guidance={"images": 0})
    events.Reload()
    images = events.Tags()["images"]
    assert any("synthetic" in t for t in images) and any("cartoon" in t for t in images), images
    assert "loss/analogy_r2c" in events.Tags()["scalars"]


# Tests about the loop's bookkeeping run without the perceptual term (VGG19 is most of a CPU step); the
# perceptual path is exercised by the stage-1/2 run and the overfit test above and below.
NO_PER = {"lambda_per": 0.0}


def test_no_analogy_drops_the_analogy_terms(tmp_path: Path, vgg_module) -> None:
    s1 = _stage1(tmp_path, vgg_module, iterations=1, checkpoint_every=1, **NO_PER)
    result = train(
        TrainRecipe.for_stage("tiny", 2, iterations=1, analogy=False, **NO_PER),
        real=SyntheticPairs(2),
        cartoon=SyntheticPairs(2, seed=3),
        out=tmp_path / "s2",
        init=s1,
        vgg=vgg_module,
        device="cpu",
    )
    assert "analogy_r2c" not in result.losses and "cartoon_l1" in result.losses


def test_warp_pairs_train_and_log_the_copy_gain(tmp_path: Path, vgg_module) -> None:
    """Stage 1 and 2 with half of every batch made of warp pairs; copy_gain is logged from the natural pairs."""
    s1 = _stage1(tmp_path, vgg_module, iterations=1, batch_size=4, warp_pairs=0.5, **NO_PER)
    assert torch.isfinite(torch.tensor(_metrics(s1)[-1]["copy_gain"]))
    result = train(
        TrainRecipe.for_stage("tiny", 2, iterations=1, batch_size=4, warp_pairs=0.5, **NO_PER),
        real=SyntheticPairs(4),
        cartoon=SyntheticPairs(4, seed=3),
        out=tmp_path / "s2",
        init=s1,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    assert {"real_copy_gain", "cartoon_copy_gain"} <= set(result.losses)
    assert all(torch.isfinite(torch.tensor(result.losses[k])) for k in ("real_copy_gain", "cartoon_copy_gain"))


def test_loss_falls_on_a_single_repeated_batch(tmp_path: Path, vgg_module) -> None:
    out = tmp_path / "overfit"
    train(
        TrainRecipe.for_stage("tiny", 1, iterations=20, lr=2e-3, checkpoint_every=0),
        real=SyntheticPairs(1, fixed_pair=True),
        out=out,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    m = _metrics(out)
    first, last = m[0], m[-1]
    assert last["l1"] < 0.6 * first["l1"], (first, last)
    assert last["perceptual"] < 0.7 * first["perceptual"], (first, last)


def _params(state: dict) -> dict[str, Tensor]:
    flat = {f"model.{k}": v for k, v in state["model"].items()}
    for d, sd in state["discriminators"].items():
        flat.update({f"d.{d}.{k}": v for k, v in sd.items()})
    for name in ("optimizer_g", "optimizer_d"):
        for idx, s in state[name]["state"].items():
            flat.update({f"{name}.{idx}.{k}": torch.as_tensor(v) for k, v in s.items()})
    return flat


class _Hooked:
    """A PairDataset that calls ``hook(call_number, source)`` on every item read and returns its source."""

    def __init__(self, inner: SyntheticPairs, hook) -> None:
        self.inner, self.hook, self.calls = inner, hook, 0

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        self.calls += 1
        source, driving = self.inner[index]
        return self.hook(self.calls, source), driving


def _interrupt_at(call: int):
    """Ctrl-C (SIGINT to this process) when item number ``call`` is read."""

    def hook(n: int, source: Tensor) -> Tensor:
        if n == call:
            os.kill(os.getpid(), signal.SIGINT)
        return source

    return hook


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path: Path, vgg_module) -> None:
    recipe = TrainRecipe.for_stage("tiny", 1, iterations=4, checkpoint_every=2, **NO_PER)
    data = SyntheticPairs(3)  # random frame pairs: exercises the per-sample seeding
    train(recipe, real=data, out=tmp_path / "a", vgg=vgg_module, device="cpu")
    # Ctrl-C while the batch of step 2 is being read: the step completes, is checkpointed, the run stops
    interrupted = train(recipe, real=_Hooked(data, _interrupt_at(3)), out=tmp_path / "b", vgg=vgg_module, device="cpu")
    assert (interrupted.step, interrupted.stopped_early) == (2, True)
    assert [s for s, _ in list_checkpoints(tmp_path / "b")] == [2]
    # resume in a different setting: 2 DataLoader worker processes instead of none
    resumed = train(
        recipe.replace(num_workers=2), real=data, out=tmp_path / "b", resume=True, vgg=vgg_module, device="cpu"
    )
    assert (resumed.start_step, resumed.step) == (2, 4)
    a = _params(load_trainer_state(tmp_path / "a"))
    b = _params(load_trainer_state(tmp_path / "b"))
    assert a.keys() == b.keys()
    differing = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differing, differing[:5]
    assert _metrics(tmp_path / "a")[-1]["total"] == _metrics(tmp_path / "b")[-1]["total"]


def test_stage2_initialisation_copies_what_sec33_says(tmp_path: Path, vgg_module) -> None:
    s1 = _stage1(tmp_path, vgg_module, iterations=2, **NO_PER)
    state = load_trainer_state(s1)
    # stage 1 trained the real domain and the shared transformers, never the cartoon domain
    torch.manual_seed(TrainRecipe.for_stage("tiny", 1).seed)
    fresh = ToonTalker(ModelConfig.from_name("tiny")).state_dict()
    cartoon = [k for k in fresh if k.startswith("domains.cartoon.")]
    assert cartoon and all(torch.equal(state["model"][k], fresh[k]) for k in cartoon)
    assert not all(torch.equal(state["model"][k], fresh[k]) for k in fresh if k.startswith("domains.real."))

    trainer = Trainer(TrainRecipe.for_stage("tiny", 2), DistInfo(), vgg=vgg_module)
    trainer.load_stage1(state)
    after = trainer.model.state_dict()
    for key, value in after.items():
        if key.startswith("domains.cartoon."):  # every domain-specific component: a copy of the real one
            assert torch.equal(value, state["model"][key.replace("domains.cartoon.", "domains.real.")]), key
        else:  # the real domain and the shared T_{s->r}, T_{r->d}: the stage-1 weights unchanged
            assert torch.equal(value, state["model"][key]), key
    for d in ("real", "cartoon"):
        for key, value in trainer.discriminators[d].state_dict().items():
            assert torch.equal(value, state["discriminators"]["real"][key]), (d, key)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path, vgg_module) -> None:
    recipe = TrainRecipe.for_stage("tiny", 1, iterations=6, log_every=2, checkpoint_every=2, **NO_PER)
    with pytest.raises(
        TrainingError, match=r"non-finite loss at step 3 \(.*l1.*\).*last good checkpoint: .*step-00000002"
    ):
        train(
            recipe,
            real=_Hooked(SyntheticPairs(2), lambda n, src: src * float("nan") if n > 4 else src),
            out=tmp_path / "nan",
            vgg=vgg_module,
            device="cpu",
        )
    assert [s for s, _ in list_checkpoints(tmp_path / "nan")] == [2]


def test_run_folder_rules_and_keep_last(tmp_path: Path, vgg_module) -> None:
    out = _stage1(tmp_path, vgg_module, iterations=5, checkpoint_every=1, keep_last=2, **NO_PER)
    assert [s for s, _ in list_checkpoints(out)] == [4, 5]
    with pytest.raises(UsageError, match="already holds checkpoints; pass --resume"):
        train(TrainRecipe.for_stage("tiny", 1), real=SyntheticPairs(2), out=out, vgg=vgg_module, device="cpu")
    with pytest.raises(UsageError, match="stage 2 starts from a stage-1 run"):
        train(
            TrainRecipe.for_stage("tiny", 2),
            real=SyntheticPairs(2),
            cartoon=SyntheticPairs(2),
            out=tmp_path / "x",
            vgg=vgg_module,
            device="cpu",
        )
    s2 = tmp_path / "s2"
    train(
        TrainRecipe.for_stage("tiny", 2, iterations=1, **NO_PER),
        real=SyntheticPairs(2),
        cartoon=SyntheticPairs(2),
        out=s2,
        init=out,
        vgg=vgg_module,
        device="cpu",
    )
    with pytest.raises(TrainingError, match="must point at a stage-1 run"):
        train(
            TrainRecipe.for_stage("tiny", 2, iterations=1, **NO_PER),
            real=SyntheticPairs(2),
            cartoon=SyntheticPairs(2),
            out=tmp_path / "s3",
            init=s2,
            vgg=vgg_module,
            device="cpu",
        )


def test_init_weights_fine_tunes_from_exported_weights(tmp_path: Path, vgg_module) -> None:
    s1 = _stage1(tmp_path, vgg_module, iterations=2, **NO_PER)
    export = list_checkpoints(s1)[-1][1]  # a release-style folder: model.safetensors + config.json
    exported = load_trainer_state(s1)["model"]
    trainer = Trainer(TrainRecipe.for_stage("tiny", 1, init_weights=str(export)), DistInfo(), vgg=vgg_module)
    trainer.load_weights(str(export))
    assert all(torch.equal(v, exported[k]) for k, v in trainer.model.state_dict().items())
    # the run starts from them (stage 1 takes init_weights; stage 2 fine-tunes both domains as loaded)
    out = tmp_path / "ft"
    result = train(
        TrainRecipe.for_stage("tiny", 1, iterations=1, init_weights=str(export), **NO_PER),
        real=SyntheticPairs(4),
        out=out,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    assert result.step == 1
    with pytest.raises(UsageError, match="not both"):
        train(
            TrainRecipe.for_stage("tiny", 2, init_weights=str(export)),
            real=SyntheticPairs(4),
            cartoon=SyntheticPairs(3),
            out=tmp_path / "x",
            init=s1,
            vgg=vgg_module,
            device="cpu",
        )
    other = TrainRecipe.for_stage("tiny", 1, init_weights=str(export), model_overrides=("sft=false",))
    with pytest.raises(Exception, match="model config differs"):
        Trainer(other, DistInfo(), vgg=vgg_module).load_weights(str(export))


def test_init_discriminators_carries_d_across_runs(tmp_path: Path, vgg_module) -> None:
    s1 = _stage1(tmp_path, vgg_module, iterations=2, **NO_PER)
    export = list_checkpoints(s1)[-1][1]
    trained_d = load_trainer_state(s1)["discriminators"]["real"]
    assert (export / "discriminator-real.safetensors").is_file()
    # stage 2 fine-tuned from exported weights + D: D_R and D_C both start from the stage-1 D_R (Sec. 3.3)
    recipe = TrainRecipe.for_stage("tiny", 2, init_weights=str(export), init_discriminators=str(export))
    trainer = Trainer(recipe, DistInfo(), vgg=vgg_module)
    fresh = {k: v.clone() for k, v in trainer.discriminators["cartoon"].state_dict().items()}
    trainer.load_discriminators(str(export))
    for domain in ("real", "cartoon"):
        loaded = trainer.discriminators[domain].state_dict()
        assert all(torch.equal(v, trained_d[k]) for k, v in loaded.items())  # fp32 export: exact
    assert any(not torch.equal(v, fresh[k]) for k, v in trainer.discriminators["cartoon"].state_dict().items())
    result = train(
        recipe.replace(iterations=1, **NO_PER),
        real=SyntheticPairs(4),
        cartoon=SyntheticPairs(3, seed=7),
        out=tmp_path / "s2",
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    ckpt = list_checkpoints(tmp_path / "s2")[-1][1]
    assert {"discriminator-real.safetensors", "discriminator-cartoon.safetensors"} <= {p.name for p in ckpt.iterdir()}
    assert result.step == 1
    # a wrong folder names the file; D without init_weights is refused
    with pytest.raises(TrainingError, match="discriminator-real.safetensors"):
        trainer.load_discriminators(str(tmp_path))
    with pytest.raises(Exception, match="init_discriminators needs init_weights"):
        TrainRecipe.for_stage("tiny", 1, init_discriminators=str(export))
