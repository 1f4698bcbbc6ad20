"""StyleGAN2-style building blocks, in pure PyTorch: equalized layers, blur, residual down-blocks.

Equalized learning rate: weights are stored N(0, 1) and multiplied by ``1/sqrt(fan_in)`` at run time.
Activations are leaky ReLU (slope 0.2) scaled by ``sqrt(2)`` to keep unit variance. Every stride-2
convolution is preceded by a [1, 3, 3, 1] blur (anti-aliasing).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2.0)
BLUR_TAPS = (1.0, 3.0, 3.0, 1.0)


def scaled_leaky_relu(x: Tensor) -> Tensor:
    """leaky ReLU(0.2) * sqrt(2)."""
    return F.leaky_relu(x, 0.2) * SQRT2


def blur_kernel(gain: float = 1.0) -> Tensor:
    """The separable [1, 3, 3, 1] kernel as a normalised (4, 4) tensor times ``gain``."""
    taps = torch.tensor(BLUR_TAPS)
    kernel = taps[:, None] * taps[None, :]
    return kernel / kernel.sum() * gain


class Blur(nn.Module):
    """Depthwise [1, 3, 3, 1] blur with explicit padding ``(pad0, pad1)`` on both axes.

    ``gain`` is 4 after a stride-2 transposed convolution (zero insertion quarters the mean).
    """

    def __init__(self, channels: int, pad: tuple[int, int], gain: float = 1.0) -> None:
        super().__init__()
        self.pad = pad
        self.channels = channels
        kernel = blur_kernel(gain)[None, None].repeat(channels, 1, 1, 1)
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        p0, p1 = self.pad
        x = F.pad(x, (p0, p1, p0, p1))
        return F.conv2d(x, self.kernel.to(x.dtype), groups=self.channels)


class EqualConv2d(nn.Module):
    """Conv2d with equalized learning rate (weight * 1/sqrt(fan_in) at run time)."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.stride = stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate; optional scaled leaky ReLU; ``bias_init`` (1 for styles)."""

    def __init__(
        self, in_dim: int, out_dim: int, bias_init: float = 0.0, activate: bool = False, lr_mul: float = 1.0
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: Tensor) -> Tensor:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return scaled_leaky_relu(out) if self.activate else out


class ConvLayer(nn.Module):
    """[blur ->] equalized conv (stride 2 when ``downsample``) [-> bias + scaled leaky ReLU]."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, downsample: bool = False, activate: bool = True, bias: bool = True
    ) -> None:
        super().__init__()
        if downsample:
            p = (len(BLUR_TAPS) - 2) + (kernel - 1)
            self.blur: nn.Module = Blur(in_ch, ((p + 1) // 2, p // 2))
            self.conv = EqualConv2d(in_ch, out_ch, kernel, stride=2, padding=0, bias=bias)
        else:
            self.blur = nn.Identity()
            self.conv = EqualConv2d(in_ch, out_ch, kernel, stride=1, padding=kernel // 2, bias=bias)
        self.activate = activate

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(self.blur(x))
        return scaled_leaky_relu(out) if self.activate else out


class ResDownBlock(nn.Module):
    """Residual down-block: conv3x3, blur + conv3x3 stride 2, plus a blurred 1x1 stride-2 skip; sum / sqrt 2.

    (B, in_ch, H, W) -> (B, out_ch, H/2, W/2)
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / SQRT2
