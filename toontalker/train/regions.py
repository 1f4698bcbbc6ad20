"""Expression regions of the driving frame (mouth and eyes) as pixel masks, and the region reconstruction term.

Not in the paper. Mouths and eyes are a few percent of a face crop's pixels, so the full-frame L1 of Eq. 11
barely notices whether they follow the driver. With per-frame landmarks in the dataset
(:mod:`toontalker.dataset.landmarks`) each driving frame comes with its mouth and eye boxes; the recipe's
``lambda_region`` adds the L1 error inside them, and ``region_copy_gain`` (logged) says whether the output's
mouth and eyes are closer to the driver's than the source's are.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor


def region_mask(regions: Tensor, height: int, width: int) -> Tensor:
    """regions (B, R, 4) boxes x0, y0, x1, y1 in [0, 1] (NaN: no box) -> (B, 1, H, W) float mask, 1 inside any box."""
    B, R, _ = regions.shape
    device = regions.device
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    x0, y0, x1, y1 = (rearrange(regions.float()[..., k], "b r -> b r 1 1") for k in range(4))
    inside_x = (xs.view(1, 1, 1, width) >= x0) & (xs.view(1, 1, 1, width) < x1)  # NaN compares False
    inside_y = (ys.view(1, 1, height, 1) >= y0) & (ys.view(1, 1, height, 1) < y1)
    return (inside_x & inside_y).any(dim=1, keepdim=True).float()


def masked_mean(error: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``error`` (B, C, H, W) over the pixels where ``mask`` (B, 1, H, W) is 1; 0 when the mask is empty."""
    weight = mask.sum() * error.shape[1]
    return (error * mask).sum() / weight.clamp_min(1.0)


def region_copy_gain(output: Tensor, source: Tensor, driving: Tensor, mask: Tensor) -> Tensor:
    """1 - L1_regions(output, driving) / L1_regions(source, driving), detached; NaN when the mask is empty."""
    ours = masked_mean((output.float() - driving.float()).abs(), mask)
    copy = masked_mean((source.float() - driving.float()).abs(), mask)
    gain = 1.0 - ours / copy.clamp_min(1e-8)
    return torch.where(mask.sum() > 0, gain, torch.full_like(gain, float("nan"))).detach()
