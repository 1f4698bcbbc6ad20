"""StyleGAN2-style building blocks, in pure PyTorch: equalized layers, blur, residual down-blocks.

Equalized learning rate: weights are stored N(0, 1) and multiplied by ``1/sqrt(fan_in)`` at run time.
Activations are leaky ReLU (slope 0.2) scaled by ``sqrt(2)`` to keep unit variance. Every stride-2
convolution is preceded by a [1, 3, 3, 1] blur (anti-aliasing).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from einops import rearrange
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


def blur_conv_weight(weight: Tensor, kernel: Tensor) -> Tensor:
    """Fold the [1, 3, 3, 1] blur ``kernel`` (4, 4) into conv filters: (O, I, k, k) -> (O, I, k + 3, k + 3).

    Blur and convolution are both linear, so "blur, then conv" (and "transposed conv, then blur") equal one
    convolution whose filters are the full 2-D convolution of each filter with the blur kernel. One dense
    tensor-core conv replaces a depthwise blur pass over the (large) feature map, which is memory-bound and
    slow on GPUs. The kernel is symmetric, so correlation and convolution coincide. ``kernel`` comes from
    :func:`blur_kernel` and lives on the module's device as a buffer: a kernel built here from Python numbers
    would be a host-to-device copy, which waits for the GPU, on every training forward.
    """
    out_ch, in_ch, k, _ = weight.shape
    fused = F.conv_transpose2d(rearrange(weight, "o i kh kw -> (o i) 1 kh kw"), kernel.to(weight.dtype)[None, None])
    return rearrange(fused, "(o i) 1 kh kw -> o i kh kw", o=out_ch, i=in_ch)


class FoldedWeightCache:
    """The blur-folded filters of a layer, kept between calls under ``torch.inference_mode()`` (animate, live,
    the speed benches).

    Folding (:func:`blur_conv_weight`) costs a transposed conv over every filter on each call: on a CPU about a
    fifth of the whole model's time at batch 16. Inside inference mode the folded tensor is reused until the
    parameter changes: the key is its version counter (in-place updates and ``load_state_dict`` bump it),
    storage, dtype and device, and the autocast dtype in force (a bf16 fold must not serve an fp32 call).
    Everywhere else (training, compilation, and plain ``torch.no_grad()`` such as the held-out scoring during
    training) the filters are recomputed, so outputs are those of the plain formula. The version counter is
    not bumped by fused optimiser steps (``torch.optim.Adam(fused=True)``, what training on CUDA uses): a
    cache outside inference mode served filters folded before the step, so held-out scores taken during a
    run saw stale filters. A fused step between two inference-mode calls would still go unseen (nothing in the
    toolkit trains a model between two of them). Ours, not in the paper (a pure speed change: outputs are
    bit-identical).
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.value: Tensor | None = None

    def get(self, weight: Tensor, fold: Callable[[], Tensor]) -> Tensor:
        # is_compiling first: torch.compile cannot trace is_inference_mode_enabled (a graph break in every layer)
        if torch.compiler.is_compiling() or torch.jit.is_tracing() or not torch.is_inference_mode_enabled():
            return fold()
        device_type = weight.device.type
        autocast_dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None
        key = (weight._version, weight.data_ptr(), weight.dtype, weight.device, autocast_dtype)
        if key != self.key or self.value is None:
            self.key, self.value = key, fold()
        return self.value


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
    """[blur ->] equalized conv (stride 2 when ``downsample``) [-> bias + scaled leaky ReLU].

    The blur of a downsampling layer is folded into the conv weights (:func:`blur_conv_weight`): one
    (k+3) x (k+3) stride-2 conv. ``out_gain`` scales the output (folded into weight and bias; ResDownBlock
    uses it for its 1/sqrt(2)). The activation gain sqrt(2) is folded the same way (leaky ReLU is positively
    homogeneous), so the whole layer is one conv and one in-place activation.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        downsample: bool = False,
        activate: bool = True,
        bias: bool = True,
        out_gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.downsample = downsample
        self.padding = ((len(BLUR_TAPS) - 2) + (kernel - 1) + 1) // 2 if downsample else kernel // 2
        self.activate = activate
        self.gain = out_gain * (SQRT2 if activate else 1.0)
        self.folded = FoldedWeightCache()
        self.blur: Tensor | None
        self.register_buffer("blur", blur_kernel() if downsample else None, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.blur is not None:
            blur = self.blur
            weight = self.folded.get(
                self.weight, lambda: blur_conv_weight(self.weight * (self.scale * self.gain), blur)
            )
        else:
            weight = self.weight * (self.scale * self.gain)
        bias = self.bias * self.gain if self.bias is not None else None
        out = F.conv2d(x, weight, bias, stride=2 if self.downsample else 1, padding=self.padding)
        return F.leaky_relu_(out, 0.2) if self.activate else out


class ResDownBlock(nn.Module):
    """Residual down-block: conv3x3, blur + conv3x3 stride 2, plus a blurred 1x1 stride-2 skip; sum / sqrt 2.

    (B, in_ch, H, W) -> (B, out_ch, H/2, W/2). The 1/sqrt(2) is folded into both branches' weights.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True, out_gain=1.0 / SQRT2)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False, bias=False, out_gain=1.0 / SQRT2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(self.conv1(x)) + self.skip(x)
