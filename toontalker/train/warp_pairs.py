"""Self-supervised warp pairs: a driving frame made by warping the source frame with a random affine map.

Not in the paper. Talking-head clips move little inside a face crop, so copying the source is a strong
local optimum of the reconstruction loss (docs/results.md). Replacing a fraction of each batch's pairs by
(source, affine(source)) gives pairs whose motion is large, global and known, and which the model can only
reconstruct by warping. ``TrainRecipe.warp_pairs`` sets the fraction (0 = the paper's recipe).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class WarpRange:
    """Largest rotation (degrees), relative scale change and translation (fraction of the half-width)."""

    degrees: float = 12.0
    scale: float = 0.10
    translate: float = 0.12


def random_affine(images: Tensor, warp: WarpRange = WarpRange()) -> Tensor:
    """(B, 3, H, W) -> (B, 3, H, W): each image rotated, scaled and shifted by its own random amounts.

    Uses the global torch RNG on the images' device (seeded by the trainer), borders replicate the edge.
    """
    B, C, H, W = images.shape
    device = images.device

    def uniform() -> Tensor:
        return torch.rand(B, device=device, dtype=torch.float32) * 2.0 - 1.0

    angle = uniform() * math.radians(warp.degrees)
    scale = 1.0 + uniform() * warp.scale
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        (
            torch.stack((cos, -sin, uniform() * warp.translate), dim=1),
            torch.stack((sin, cos, uniform() * warp.translate), dim=1),
        ),
        dim=1,
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, [B, C, H, W], align_corners=False)
    out = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    channels_last = images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous()
    return out.to(images.dtype).contiguous(
        memory_format=torch.channels_last if channels_last else torch.contiguous_format
    )


def warp_count(batch_size: int, fraction: float) -> int:
    """How many of a micro-batch's pairs become warp pairs: round(fraction * B), at least 1 if fraction > 0."""
    if fraction <= 0.0:
        return 0
    return min(batch_size, max(1, round(fraction * batch_size)))


def with_warp_pairs(source: Tensor, driving: Tensor, fraction: float) -> tuple[Tensor, int]:
    """Replace the first ``warp_count`` driving frames by random affine warps of their source frames.

    -> (driving (B, 3, H, W), n): the new driving batch and how many of its leading pairs are warp pairs.
    """
    B = source.shape[0]
    n = warp_count(B, fraction)
    if n == 0:
        return driving, 0
    return torch.cat((random_affine(source[:n]), driving[n:])), n
