"""Expression regions: masks from landmark boxes, the region L1 / copy gain, expressive pair choice."""

from __future__ import annotations

import numpy as np
import torch

from toontalker.dataset.torch_data import ClipExpression, _flip_regions, expressive_driving_index
from toontalker.train.regions import masked_mean, region_copy_gain, region_mask


def test_region_mask_covers_the_boxes_and_ignores_nan():
    regions = torch.tensor(
        [[[0.0, 0.0, 0.5, 0.25], [0.5, 0.5, 1.0, 1.0], [float("nan")] * 4], [[float("nan")] * 4] * 3]
    )
    mask = region_mask(regions, 8, 8)
    assert mask.shape == (2, 1, 8, 8)
    assert mask[0].sum() == 4 * 2 + 4 * 4  # half the width x a quarter of the height, plus a quarter
    assert mask[0, 0, 0, 0] == 1 and mask[0, 0, 7, 7] == 1 and mask[0, 0, 3, 1] == 0
    assert mask[1].sum() == 0


def test_masked_mean_and_region_copy_gain():
    g = torch.Generator().manual_seed(0)
    source, driving = torch.rand(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g)
    mask = region_mask(torch.tensor([[[0.25, 0.25, 0.75, 0.75]] * 3] * 2), 8, 8)
    error = (source - driving).abs()
    assert torch.isclose(masked_mean(error, mask), error[:, :, 2:6, 2:6].mean())
    assert torch.isclose(region_copy_gain(driving, source, driving, mask), torch.tensor(1.0))
    assert torch.isclose(region_copy_gain(source, source, driving, mask), torch.tensor(0.0))
    assert torch.isnan(region_copy_gain(source, source, driving, torch.zeros_like(mask)))
    assert masked_mean(error, torch.zeros_like(mask)) == 0


def test_flip_mirrors_boxes_and_swaps_the_eyes():
    boxes = torch.tensor([[0.4, 0.7, 0.6, 0.8], [0.1, 0.3, 0.3, 0.4], [0.6, 0.3, 0.9, 0.4]])
    flipped = _flip_regions(boxes)
    assert torch.allclose(flipped[0], torch.tensor([0.4, 0.7, 0.6, 0.8]))
    assert torch.allclose(flipped[1], torch.tensor([0.1, 0.3, 0.4, 0.4]))  # the old right eye, mirrored
    assert torch.allclose(flipped[2], torch.tensor([0.7, 0.3, 0.9, 0.4]))


def test_expressive_driving_index_picks_the_largest_change():
    mouth = np.array([0.0, 0.01, 0.2, 0.05, np.nan])
    eyes = np.array([0.3, 0.3, 0.3, 0.1, 0.3])
    signals = ClipExpression(
        boxes=np.zeros((5, 3, 4)), mouth=mouth, eyes=eyes, points=np.zeros((5, 468, 2)), closed=np.zeros(5, dtype=bool)
    )
    assert expressive_driving_index(signals, 0, np.array([1, 2, 4])) == 2  # open mouth; missed frame scores 0
    assert expressive_driving_index(signals, 0, np.array([1, 3])) == 3  # eyes closing
    assert expressive_driving_index(signals, 0, np.array([4, 1])) == 1
