"""Warp pairs (driving = random affine warp of the source) and the copy-gain collapse monitor."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from toontalker.errors import ConfigError
from toontalker.train.objectives import copy_gain
from toontalker.train.recipe import TrainRecipe
from toontalker.train.warp_pairs import WarpRange, random_affine, warp_count, with_warp_pairs


def _smooth_images(batch: int, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(batch, 3, 4, 4, generator=g) * 2 - 1
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


def test_random_affine_shapes_and_a_zero_range_is_the_identity() -> None:
    images = _smooth_images(3)
    torch.manual_seed(0)
    warped = random_affine(images)
    assert warped.shape == images.shape and warped.dtype == images.dtype
    assert (warped - images).abs().mean() > 0.01  # it moved
    assert warped.min() >= images.min() - 1e-5 and warped.max() <= images.max() + 1e-5  # resampled, not invented
    still = random_affine(images, WarpRange(degrees=0.0, scale=0.0, translate=0.0))
    torch.testing.assert_close(still, images, atol=1e-5, rtol=0)


def test_random_affine_keeps_channels_last() -> None:
    images = _smooth_images(2).contiguous(memory_format=torch.channels_last)
    assert random_affine(images).is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize(("batch", "fraction", "expected"), [(8, 0.0, 0), (8, 0.25, 2), (3, 0.1, 1), (4, 1.0, 4)])
def test_warp_count(batch, fraction, expected) -> None:
    assert warp_count(batch, fraction) == expected


def test_with_warp_pairs_replaces_only_the_leading_pairs() -> None:
    source, driving = _smooth_images(4), _smooth_images(4).flip(0)
    torch.manual_seed(1)
    new, n = with_warp_pairs(source, driving, 0.5)
    assert n == 2 and new.shape == driving.shape
    torch.testing.assert_close(new[2:], driving[2:])
    assert not torch.allclose(new[:2], driving[:2]) and not torch.allclose(new[:2], source[:2])
    same, none = with_warp_pairs(source, driving, 0.0)
    assert none == 0 and same is driving


def test_copy_gain_is_one_for_a_perfect_output_and_zero_for_a_source_copy() -> None:
    source, driving = _smooth_images(4), _smooth_images(4).flip(0)
    assert copy_gain((driving - driving).abs(), source, driving).item() == pytest.approx(1.0)
    assert copy_gain((source - driving).abs(), source, driving).item() == pytest.approx(0.0)
    blurred = (0.5 * (source + driving) - driving).abs()  # halfway between: half the copy error
    assert copy_gain(blurred, source, driving).item() == pytest.approx(0.5)
    assert torch.isnan(copy_gain(blurred[:0], source[:0], driving[:0]))


def test_recipe_checks_warp_pairs_and_small_presets_use_them() -> None:
    with pytest.raises(ConfigError, match="warp_pairs must be in"):
        TrainRecipe.from_name("tiny-stage1", warp_pairs=1.5)
    assert TrainRecipe.from_name("small-256-stage1").warp_pairs == 0.25
    assert TrainRecipe.from_name("paper-256-stage1").warp_pairs == 0.0  # the paper's recipe, unchanged
