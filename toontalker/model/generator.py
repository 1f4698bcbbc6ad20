"""Generator G (Sec. 3.1 "Image Generator", Eq. 4, Appendix A / Fig. 10c-d).

A learned 4x4 constant is refined by one StyleConv per resolution block 8..image_size (six at 256^2). Each
block upsamples and convolves the previous feature map o_{i-1}, predicts a flow and a mask from it, warps the
source feature S_i by the flow (accumulated across scales), and blends the warped feature into the decoder
feature by the mask. The last ``sft_blocks`` blocks refine the warped feature by SFT (Eq. 4) before
blending. An RGB head at every block sums into the image (StyleGAN2 skip architecture).

Styles: instead of flattening the K x d code into a huge linear layer, one learned style query per block
(plus one for the 4x4 stage) attends over the K code tokens; each modulated layer of that block maps the
block's style token to its own per-channel scales.
"""

from __future__ import annotations

import torch
from einops import repeat
from torch import Tensor, nn

from toontalker.model.attention import MultiHeadAttention
from toontalker.model.config import ModelConfig
from toontalker.model.styleconv import SFT, FlowHead, StyleConv, ToRGB, warp


class StyleTokens(nn.Module):
    """Learned queries attend over the projected motion code: (B, K, d) -> (B, n, d) style tokens."""

    def __init__(self, count: int, dim: int, heads: int) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(count, dim) * 0.02)
        self.attention = MultiHeadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, code: Tensor) -> Tensor:
        B, K, d = code.shape
        queries = repeat(self.queries, "n d -> b n d", b=B)
        return self.norm(queries + self.attention(queries, memory=code))


class GeneratorBlock(nn.Module):
    """One G block at resolution r: upsample-StyleConv, StyleConv, flow + mask, warp S_r, [SFT], blend, RGB.

    forward(o_{i-1} (B, C_in, r/2, r/2), style (B, d), S_r (B|1, C, r, r), flow (B, 2, r/2, r/2) | None,
    rgb (B, 3, r/2, r/2) | None) -> (o_i (B, C, r, r), flow (B, 2, r, r), rgb (B, 3, r, r))
    """

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, sft: bool) -> None:
        super().__init__()
        self.up = StyleConv(in_ch, out_ch, style_dim, upsample=True)
        self.conv = StyleConv(out_ch, out_ch, style_dim)
        self.flow = FlowHead(out_ch, style_dim)
        self.sft = SFT(out_ch, style_dim) if sft else None
        self.to_rgb = ToRGB(out_ch, style_dim)

    def forward(
        self, x: Tensor, style: Tensor, feature: Tensor, flow: Tensor | None, rgb: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        x = self.conv(self.up(x, style), style)
        flow, mask = self.flow(x, style, flow)
        warped = warp(feature, flow)
        if self.sft is not None:
            warped = self.sft(warped, style)
        x = mask * warped.to(x.dtype) + (1.0 - mask) * x
        return x, flow, self.to_rgb(x, style, rgb)


class Generator(nn.Module):
    """G: forward(code (B, K, d) from T_B, source features S (tuple low -> high, batch B or 1)) -> (B, 3, S, S).

    The output is unbounded (StyleGAN2 convention); trained to match images in [-1, 1]. ``forward_with_flow``
    also returns the last block's accumulated flow (B, 2, S, S): the sampling offset, in normalised [-1, 1]
    coordinates (x, y), of each output pixel into the source features (training's ``lambda_flow``, ours).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.code_dim
        resolutions = config.feature_resolutions
        c4 = config.channels_at(4)
        self.constant = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.styles = StyleTokens(len(resolutions) + 1, d, config.heads)
        self.conv0 = StyleConv(c4, c4, d)
        self.to_rgb0 = ToRGB(c4, d)
        sft = set(config.sft_resolutions)
        self.blocks = nn.ModuleList(
            GeneratorBlock(config.channels_at(r // 2), config.channels_at(r), d, r in sft) for r in resolutions
        )

    def forward(self, code: Tensor, features: tuple[Tensor, ...]) -> Tensor:
        return self.forward_with_flow(code, features)[0]

    def forward_with_flow(self, code: Tensor, features: tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        B, K, d = code.shape
        styles = self.styles(code)  # (B, blocks + 1, d)
        x = self.conv0(self.constant, styles[:, 0])
        rgb = self.to_rgb0(x, styles[:, 0])
        flow = None
        for i, (block, feature) in enumerate(zip(self.blocks, features)):
            x, flow, rgb = block(x, styles[:, i + 1], feature, flow, rgb)
        assert flow is not None  # a config has at least one feature resolution
        return rgb, flow
