"""Appearance encoder Ea (Eq. 1, Appendix A / Fig. 10a): S = Ea(x_s), multi-scale source features."""

from __future__ import annotations

from torch import Tensor, nn

from toontalker.model.config import ModelConfig
from toontalker.model.layers import ConvLayer, ResDownBlock


class AppearanceEncoder(nn.Module):
    """Ea: a 1x1 stem at full resolution, then residual down-blocks; keeps every feature map 8..image_size.

    forward(x (B, 3, S, S)) -> S = (S_8, S_16, ..., S_S), low -> high resolution, S_r of shape
    (B, channels_at(r), r, r). At 256^2 that is the paper's six feature maps 8x8 .. 256x256.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        resolutions = config.feature_resolutions[::-1]  # high -> low
        self.stem = ConvLayer(3, config.channels_at(resolutions[0]), 1)
        self.blocks = nn.ModuleList(
            ResDownBlock(config.channels_at(r), config.channels_at(r // 2)) for r in resolutions[:-1]
        )

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        B, C, H, W = x.shape
        feature = self.stem(x)
        features = [feature]
        for block in self.blocks:
            feature = block(feature)
            features.append(feature)
        return tuple(features[::-1])
