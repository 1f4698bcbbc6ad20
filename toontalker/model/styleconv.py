"""Modulated convolutions (StyleConv), the RGB and flow heads, and feature warping.

Modulation is implemented the batch-friendly way (StyleGAN2, Karras et al. 2020, Sec. B): instead of a
per-sample weight tensor (a grouped convolution), the input activations are scaled by the style, one dense
convolution with the shared weight runs over the whole batch, and the output is scaled by the per-sample
demodulation factor ``1/sqrt(sum_{i,k} (w_{o,i,k} s_i)^2 + eps)``. Same function, dense tensor-core convs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from toontalker.model.layers import SQRT2, EqualLinear, FoldedWeightCache, blur_conv_weight, blur_kernel


class ModulatedConv2d(nn.Module):
    """Modulated (and optionally demodulated) k x k conv; ``upsample`` = stride-2 transposed conv + blur.

    forward(x (B or 1, in_ch, H, W), style (B, style_dim)) -> (B, out_ch, H', W'), H' = 2H when upsampling.
    ``weight_gain`` scales the N(0, 1) initial weights (small for heads that should start near zero).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        weight_gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel) * weight_gain)
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel // 2
        self.folded = FoldedWeightCache()  # the upsampling filters with the blur folded in (inference)
        self.blur: Tensor | None
        self.register_buffer("blur", blur_kernel(gain=4.0) if upsample else None, persistent=False)

    def demodulation(self, styles: Tensor, weight: Tensor) -> Tensor:
        """(B, in_ch) styles -> (B, out_ch) factors, computed in fp32 even under autocast."""
        with torch.autocast(device_type=styles.device.type, enabled=False):
            w_sq = weight.float().square().sum(dim=(2, 3))  # (out, in)
            return torch.rsqrt(styles.float().square() @ w_sq.t() + 1e-8)

    def forward(self, x: Tensor, style: Tensor, bias: Tensor | None = None, activate: bool = False) -> Tensor:
        """Modulated conv, then (fused) demodulation, ``bias`` (1, out, 1, 1) and scaled leaky ReLU if ``activate``.

        The upsampling path is a stride-2 transposed conv whose filters have the [1, 3, 3, 1] blur (gain 4)
        folded in (:func:`blur_conv_weight`): transposed conv then blur, as one op. Demodulation, bias and the
        activation gain are applied in one fused multiply-add; the leaky ReLU runs in place.
        """
        styles = self.modulation(style)  # (B, in_ch)
        weight = self.weight * self.scale
        x = x * rearrange(styles, "b c -> b c 1 1").to(x.dtype)
        if self.blur is not None:
            blur = self.blur
            fused = self.folded.get(self.weight, lambda: blur_conv_weight(weight, blur)).to(x.dtype)
            out = F.conv_transpose2d(x, fused.transpose(0, 1), stride=2, padding=2)
        else:
            out = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        gain = SQRT2 if activate else 1.0
        if self.demodulate:
            factor = rearrange(self.demodulation(styles, weight) * gain, "b c -> b c 1 1").to(out.dtype)
            out = torch.addcmul((bias * gain).to(out.dtype), out, factor) if bias is not None else out * factor
        elif bias is not None:
            out = out * gain + (bias * gain).to(out.dtype) if activate else out + bias.to(out.dtype)
        elif activate:
            out = out * gain
        return F.leaky_relu_(out, 0.2) if activate else out


class StyleConv(nn.Module):
    """StyleConv: modulated/demodulated 3x3 conv + bias + scaled leaky ReLU. (B, in, H, W) -> (B, out, H', W')."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample)
        self.bias = nn.Parameter(torch.zeros(1, out_ch, 1, 1))

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        return self.conv(x, style, bias=self.bias, activate=True)


class ToRGB(nn.Module):
    """Modulated 1x1 conv (no demodulation) to RGB; adds the upsampled skip (StyleGAN2 skip generator)."""

    def __init__(self, in_ch: int, style_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.conv(x, style, bias=self.bias)
        if skip is not None:
            out = out + F.interpolate(skip, scale_factor=2.0, mode="bilinear", align_corners=False)
        return out


class FlowHead(nn.Module):
    """Modulated 1x1 conv -> 2-channel flow (tanh, normalised coordinates) and 1-channel mask (sigmoid).

    forward(x (B, C, H, W), style, previous flow (B, 2, H/2, W/2) | None) -> (flow (B, 2, H, W), mask (B, 1, H, W));
    the flow is accumulated across scales: this level's tanh offsets plus the upsampled previous flow.
    """

    def __init__(self, in_ch: int, style_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False, weight_gain=0.1)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: Tensor, style: Tensor, previous: Tensor | None) -> tuple[Tensor, Tensor]:
        out = self.conv(x, style, bias=self.bias)
        flow = torch.tanh(out[:, :2])
        mask = torch.sigmoid(out[:, 2:3])
        if previous is not None:
            flow = flow + F.interpolate(previous, scale_factor=2.0, mode="bilinear", align_corners=False)
        return flow, mask


class SFT(nn.Module):
    """Spatial feature transform, Eq. 4: o = alpha * f_w + beta with alpha, beta = StyleConv(f_w, w_{s->d}).

    alpha and beta are the two halves of one modulated 3x3 conv (no demodulation, small initial weights) and
    alpha is parametrised as 1 + a so the block starts near the identity. (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, style_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(channels, 2 * channels, 3, style_dim, demodulate=False, weight_gain=0.1)
        self.bias = nn.Parameter(torch.zeros(1, 2 * channels, 1, 1))

    def forward(self, warped: Tensor, style: Tensor) -> Tensor:
        scale, shift = self.conv(warped, style, bias=self.bias).chunk(2, dim=1)
        return (1.0 + scale) * warped + shift


def identity_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """(1, H, W, 2) sampling grid of pixel centres in [-1, 1] (x, y), for align_corners=False."""
    ys = torch.linspace(-1.0 + 1.0 / height, 1.0 - 1.0 / height, height, device=device, dtype=dtype)
    xs = torch.linspace(-1.0 + 1.0 / width, 1.0 - 1.0 / width, width, device=device, dtype=dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x, grid_y), dim=-1)[None]


def warp(feature: Tensor, flow: Tensor) -> Tensor:
    """Warp source features (Bs, C, H, W) by flow offsets (B, 2, H, W) -> (B, C, H, W).

    A batch-1 source is sampled by all B flows at once (the grids are stacked along the height axis), so the
    source features are never copied B times.
    """
    Bs, C, H, W = feature.shape
    B = flow.shape[0]
    # sampling positions in fp32: bf16 cannot address 256 pixels in [-1, 1]
    grid = identity_grid(H, W, flow.device, torch.float32) + rearrange(flow.float(), "b t h w -> b h w t")
    source = feature.float()
    if Bs == B:
        out = F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return out.to(feature.dtype)
    if Bs != 1:
        raise ValueError(f"source batch {Bs} cannot be broadcast over {B} flows")
    stacked = rearrange(grid, "b h w t -> 1 (b h) w t")
    out = F.grid_sample(source, stacked, mode="bilinear", padding_mode="border", align_corners=False)
    return rearrange(out.to(feature.dtype), "1 c (b h) w -> b c h w", b=B)
