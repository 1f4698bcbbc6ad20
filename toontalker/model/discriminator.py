"""Discriminator D (Eq. 10-11): one per domain, StyleGAN2-style residual discriminator, held by the trainer."""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import Tensor, nn

from toontalker.model.config import ModelConfig
from toontalker.model.layers import ConvLayer, EqualLinear, ResDownBlock


def minibatch_stddev(x: Tensor, group: int = 4) -> Tensor:
    """Append one channel: the std over a group of samples, averaged over channels and pixels."""
    B, C, H, W = x.shape
    group = min(group, B)
    while B % group:
        group -= 1
    y = rearrange(x, "(g m) c h w -> g m c h w", g=group)
    std = torch.sqrt(y.float().var(dim=0, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))  # (m,)
    std = std.to(x.dtype)[None, :, None, None, None].expand(group, -1, 1, H, W)
    return torch.cat((x, rearrange(std, "g m c h w -> (g m) c h w")), dim=1)


class Discriminator(nn.Module):
    """D: forward(image (B, 3, S, S)) -> realness logits (B,)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        size = config.image_size
        resolutions = [size // 2**i for i in range(int(math.log2(size)) - 1)]  # size .. 4
        self.stem = ConvLayer(3, config.channels_at(size), 1)
        self.blocks = nn.Sequential(
            *(ResDownBlock(config.channels_at(r), config.channels_at(r // 2)) for r in resolutions[:-1])
        )
        c4 = config.channels_at(4)
        self.final_conv = ConvLayer(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4, activate=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, image: Tensor) -> Tensor:
        B, C, H, W = image.shape
        x = self.final_conv(minibatch_stddev(self.blocks(self.stem(image))))
        return self.out(self.fc(rearrange(x, "b c h w -> b (c h w)")))[:, 0]
