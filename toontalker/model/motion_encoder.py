"""Motion encoder Em (Eq. 2, Appendix A / Fig. 10b): F = Em(x), a latent motion descriptor in R^motion_dim."""

from __future__ import annotations

from einops import rearrange
from torch import Tensor, nn

from toontalker.model.config import ModelConfig
from toontalker.model.layers import ConvLayer, EqualConv2d, ResDownBlock


class MotionEncoder(nn.Module):
    """Em: 1x1 stem, residual down-blocks to 4x4, then a 4x4 valid conv to the descriptor.

    forward(x (B, 3, S, S)) -> F (B, motion_dim). At 256^2: stem + 6 down-blocks (the paper's "seven
    ResBlocks" counts the stem) + the 4x4 conv.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        resolutions = (4, *config.feature_resolutions)[::-1]  # image_size .. 4
        self.stem = ConvLayer(3, config.channels_at(resolutions[0]), 1)
        self.blocks = nn.Sequential(
            *(ResDownBlock(config.channels_at(r), config.channels_at(r // 2)) for r in resolutions[:-1])
        )
        self.head = EqualConv2d(config.channels_at(4), config.motion_dim, 4, padding=0, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        B, C, H, W = x.shape
        out = self.head(self.blocks(self.stem(x)))  # (B, motion_dim, 1, 1)
        return rearrange(out, "b c 1 1 -> b c")
