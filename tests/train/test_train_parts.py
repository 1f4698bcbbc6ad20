"""Our two stage-2 switches against blur and for keeping what works: ``lambda_edge`` and ``frozen_parts``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from synthetic_clips import SyntheticPairs
from toontalker.errors import ConfigError
from toontalker.train import TrainRecipe, train
from toontalker.train.checkpoint import list_checkpoints, load_trainer_state
from toontalker.train.edges import image_gradient_l1

NO_PER = {"lambda_per": 0.0}


def test_edge_term_ignores_offsets_and_grows_with_blur() -> None:
    torch.manual_seed(0)
    sharp = F.interpolate(torch.rand(2, 3, 4, 4) * 2 - 1, scale_factor=8, mode="nearest")  # flat blocks, sharp edges
    assert image_gradient_l1(sharp, sharp).item() == 0.0
    assert image_gradient_l1(sharp + 0.3, sharp).item() == pytest.approx(0.0, abs=1e-6)  # a constant: no edge
    kernel = torch.ones(3, 1, 3, 3) / 9
    blurred = F.conv2d(sharp, kernel, padding=1, groups=3)
    blurred_more = F.conv2d(blurred, kernel, padding=1, groups=3)
    one, two = image_gradient_l1(blurred, sharp).item(), image_gradient_l1(blurred_more, sharp).item()
    assert 0.1 < one <= two
    # the blur costs the edge term about twice what it costs plain L1, while the offset costs it nothing
    assert one / (blurred - sharp).abs().mean().item() > 1.5
    out = sharp.clone().requires_grad_(True)
    image_gradient_l1(out, blurred).backward()
    assert out.grad is not None and out.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="differ"):
        image_gradient_l1(sharp, sharp[:, :, :16])


def test_recipe_checks_the_frozen_parts() -> None:
    recipe = TrainRecipe.for_stage("tiny", 2, frozen_parts=("real", "shared"), lambda_edge=0.5)
    assert recipe.frozen_parts == ("real", "shared") and recipe.lambda_edge == 0.5
    assert TrainRecipe.for_stage("tiny", 2).with_overrides(["frozen_parts=[real, shared]"]).frozen_parts == (
        "real",
        "shared",
    )
    with pytest.raises(ConfigError, match="leaves nothing to train at stage 1"):
        TrainRecipe.for_stage("tiny", 1, frozen_parts=("real", "shared"))
    with pytest.raises(ConfigError, match="leaves nothing to train at stage 2"):
        TrainRecipe.for_stage("tiny", 2, frozen_parts=("real", "cartoon", "shared"))
    with pytest.raises(ConfigError, match="frozen_parts: 'decoder' is not one of"):
        TrainRecipe.for_stage("tiny", 2, frozen_parts=("decoder",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="repeats"):
        TrainRecipe.for_stage("tiny", 2, frozen_parts=("real", "real"))
    # motion covers both domains' Em and p and the shared transformers: only renderers are left
    assert TrainRecipe.for_stage("tiny", 1, frozen_parts=("motion",)).frozen_parts == ("motion",)
    assert TrainRecipe.for_stage("tiny", 2, frozen_parts=("motion", "cartoon")).stage == 2
    with pytest.raises(ConfigError, match="leaves nothing to train at stage 1"):
        TrainRecipe.for_stage("tiny", 1, frozen_parts=("motion", "real"))
    with pytest.raises(ConfigError, match="leaves nothing to train at stage 2"):
        TrainRecipe.for_stage("tiny", 2, frozen_parts=("motion", "real", "cartoon"))
    # renderer is the complement of motion: together they freeze everything
    assert TrainRecipe.for_stage("tiny", 1, frozen_parts=("renderer",)).frozen_parts == ("renderer",)
    with pytest.raises(ConfigError, match="leaves nothing to train at stage 2"):
        TrainRecipe.for_stage("tiny", 2, frozen_parts=("motion", "renderer"))
    with pytest.raises(ConfigError, match="lambda_edge must be >= 0"):
        TrainRecipe.for_stage("tiny", 2, lambda_edge=-1.0)


MOTION_PREFIXES = tuple(f"domains.{d}.{c}." for d in ("real", "cartoon") for c in ("motion_encoder", "motion_base"))
SHARED_PREFIXES = ("source_query.", "driving_query.")
RENDERER_PREFIXES = tuple(
    f"domains.{d}.{c}."
    for d in ("real", "cartoon")
    for c in ("appearance_encoder", "backward_transformer", "generator")
)


@pytest.mark.parametrize(
    ("parts", "frozen_prefixes"),
    [
        (("real", "shared"), ("domains.real.", *SHARED_PREFIXES)),
        (("motion",), (*MOTION_PREFIXES, *SHARED_PREFIXES)),
        (("renderer",), RENDERER_PREFIXES),
    ],
    ids=["real+shared", "motion", "renderer"],
)
def test_frozen_parts_stay_and_the_rest_trains_with_the_edge_term(
    tmp_path: Path, vgg_module, parts: tuple, frozen_prefixes: tuple[str, ...]
) -> None:
    s1 = tmp_path / "s1"
    train(
        TrainRecipe.for_stage("tiny", 1, iterations=2, **NO_PER),
        real=SyntheticPairs(4),
        out=s1,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    export = list_checkpoints(s1)[-1][1]
    start = load_trainer_state(s1)["model"]
    recipe = TrainRecipe.for_stage(
        "tiny", 2, iterations=2, init_weights=str(export), frozen_parts=parts, lambda_edge=1.0, **NO_PER
    )
    out = tmp_path / "s2"
    train(
        recipe,
        real=SyntheticPairs(4),
        cartoon=SyntheticPairs(3, seed=7),
        out=out,
        vgg=vgg_module,
        device="cpu",
        show_progress=False,
    )
    after = load_trainer_state(out)["model"]
    frozen = [k for k in after if k.startswith(frozen_prefixes)]
    trained = [k for k in after if not k.startswith(frozen_prefixes)]
    assert frozen and trained and len(frozen) + len(trained) == len(after)
    assert all(torch.equal(after[k], start[k]) for k in frozen)
    assert sum(not torch.equal(after[k], start[k]) for k in trained) > len(trained) // 2
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(row["real_edge"] > 0 and row["cartoon_edge"] > 0 for row in logged if "real_edge" in row)
    assert any("real_edge" in row for row in logged)
