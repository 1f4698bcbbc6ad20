"""TrainRecipe: the paper's presets, stage mapping, batch splitting, resume rules, recipe files."""

from __future__ import annotations

from pathlib import Path

import pytest

from toontalker.errors import ConfigError
from toontalker.train.recipe import TrainRecipe, build_recipe


def test_paper_presets_hold_the_papers_hyper_parameters() -> None:
    s1 = TrainRecipe.for_stage("paper-256", 1)
    s2 = TrainRecipe.for_stage("paper-256", 2)
    assert (s1.stage, s1.lr, s1.batch_size, s1.iterations, s1.model) == (1, 5e-4, 64, 450_000, "paper-256")
    assert (s2.stage, s2.lr, s2.batch_size, s2.iterations) == (2, 1e-4, 8, 10_000)
    for r in (s1, s2):
        assert (r.lambda_per, r.lambda_m, r.analogy, r.perceptual) == (10.0, 20.0, True, "vgg19")


def test_for_stage_errors_name_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown training preset 'huge'.*paper-256, small-256, tiny"):
        TrainRecipe.for_stage("huge", 1)
    with pytest.raises(ConfigError, match="stage-1 recipe, but stage 2"):
        TrainRecipe.for_stage("paper-256-stage1", 2)


def test_micro_batch_splits_the_global_batch() -> None:
    r = TrainRecipe.for_stage("paper-256", 1, grad_accum=2)
    assert r.micro_batch(8) == 4 and r.micro_batch(1) == 32
    with pytest.raises(ConfigError, match="not divisible by the 3 processes"):
        r.micro_batch(3)
    with pytest.raises(ConfigError, match="divisible by grad_accum"):
        TrainRecipe.for_stage("paper-256", 1, grad_accum=3)


def test_resume_may_change_only_safe_fields() -> None:
    saved = TrainRecipe.for_stage("tiny", 1)
    saved.replace(iterations=99, log_every=7).check_resume_compatible(saved)
    with pytest.raises(ConfigError, match="a resumed run cannot change lr"):
        saved.replace(lr=1.0).check_resume_compatible(saved)


def test_build_recipe_from_yaml_with_overrides(tmp_path: Path) -> None:
    path = TrainRecipe.for_stage("small-256", 2, lambda_m=40.0).save(tmp_path / "recipe.yaml")
    r = build_recipe(2, config_file=str(path), overrides=("analogy=false", "batch_size=16"))
    assert (r.lambda_m, r.analogy, r.batch_size, r.model) == (40.0, False, 16, "small-256")
    with pytest.raises(ConfigError, match="stage-2 recipe, but stage 1"):
        build_recipe(1, config_file=str(path))
    init = TrainRecipe.for_stage("tiny", 1, model_overrides=("heads=2",))
    r2 = build_recipe(2, init_recipe=init)
    assert (r2.model, r2.model_overrides, r2.lr) == ("tiny", ("heads=2",), 1e-4)
