"""ArcFace IR-SE50 identity embeddings for ``csim`` / ``aed`` (the network most reenactment papers use).

Pure torch, in the key layout of the widely used ``model_ir_se50.pth`` checkpoint (TreB1eN's
InsightFace_Pytorch, also used by pixel2style2pixel's identity loss): ``input_layer`` (3x3 conv, BN, PReLU),
``body`` of 24 SE bottlenecks (3, 4, 14, 3 units at 64, 128, 256, 512 channels; the first unit of each
stage has stride 2), ``output_layer`` (BN, dropout, flatten, linear 512*7*7 -> 512, BN1d).

Preprocessing (pixel2style2pixel's convention for 256x256 face crops): crop rows 35:223 and columns
32:220, average-pool to 112x112, keep ``[-1, 1]``. Embeddings are L2-normalised. The loader checks the
layout: a checkpoint that does not match every tensor makes the metric unavailable, never a number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from toontalker.cache import find_weights, known_weights
from toontalker.metrics.base import MetricUnavailable

STAGES: tuple[tuple[int, int, int], ...] = ((64, 64, 3), (64, 128, 4), (128, 256, 14), (256, 512, 3))
CROP_ROWS, CROP_COLS = slice(35, 223), slice(32, 220)


class SqueezeExcite(nn.Module):
    """Channel gating: global average -> 1x1 (C/16) -> ReLU -> 1x1 (C) -> sigmoid, times the input."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * gate


class BottleneckIRSE(nn.Module):
    """BN -> 3x3 -> PReLU -> 3x3 (stride) -> BN -> SE, plus a shortcut (1x1 conv + BN when channels change)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if c_in == c_out:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
            nn.PReLU(c_out),
            nn.Conv2d(c_out, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            SqueezeExcite(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class ArcFaceIRSE50(nn.Module):
    """forward: ``(B, 3, 112, 112)`` in ``[-1, 1]`` -> ``(B, 512)`` unit embeddings."""

    def __init__(self) -> None:
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        units = []
        for c_in, c_out, count in STAGES:
            units.append(BottleneckIRSE(c_in, c_out, 2))
            units += [BottleneckIRSE(c_out, c_out, 1) for _ in range(count - 1)]
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Dropout(0.6), nn.Flatten(), nn.Linear(512 * 7 * 7, 512), nn.BatchNorm1d(512)
        )
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        B, C, H, W = faces.shape
        embedding = self.output_layer(self.body(self.input_layer(faces)))
        return F.normalize(embedding, dim=1)

    def load_checkpoint(self, path: Path, metric: str) -> None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        wanted = {k: v for k, v in self.state_dict().items() if not k.endswith("num_batches_tracked")}
        bad = [k for k, v in wanted.items() if k not in state or tuple(state[k].shape) != tuple(v.shape)]
        if bad:
            raise MetricUnavailable(
                metric,
                f"{path} does not match the ArcFace IR-SE50 layout "
                f"({len(bad)} tensors missing or misshaped, e.g. {bad[0]})",
            )
        self.load_state_dict({k: state[k] for k in wanted}, strict=False)


def face_input(rgb: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 face crop -> ``(1, 3, 112, 112)`` in ``[-1, 1]`` (resize to 256, crop, pool)."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    if x.shape[-2:] != (256, 256):
        x = F.interpolate(x, size=(256, 256), mode="bilinear", align_corners=False)
    return F.adaptive_avg_pool2d(x[:, :, CROP_ROWS, CROP_COLS], (112, 112))


class ArcFaceIdentity:
    """:class:`~toontalker.metrics.identity.IdentityBackend` over :class:`ArcFaceIRSE50` (no detector: the
    inputs are face crops, as the bench's are)."""

    name = "arcface"

    def __init__(self, network: ArcFaceIRSE50, device: str) -> None:
        self.network, self.device = network.to(device), device

    def embedding(self, rgb: np.ndarray) -> np.ndarray:
        return self.network(face_input(rgb).to(self.device))[0].double().cpu().numpy()


def load_arcface(metric: str, device: str = "cpu") -> ArcFaceIdentity:
    path = find_weights("arcface-ir-se50")
    if path is None:
        raise MetricUnavailable.missing_weights(metric, known_weights("arcface-ir-se50"))
    network = ArcFaceIRSE50()
    network.load_checkpoint(path, metric)
    return ArcFaceIdentity(network, device)
