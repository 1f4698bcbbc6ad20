"""LPIPS (Zhang et al. 2018, "v0.1", AlexNet backbone): the perceptual distance of paper Table 2.

Pure torch: :class:`AlexNetFeatures` has the layer layout of torchvision's ``alexnet().features`` so the
standard ImageNet checkpoint ``alexnet-owt-7be5be79.pth`` (torch hub cache) loads by key; the five learned
channel weightings ``lin0..lin4`` are the ``lpips/weights/v0.1/alex.pth`` file that the ``lpips`` package
ships (found through importlib, loaded with ``weights_only=True``; the package itself is never imported,
since it needs torchvision).

Distance per image: scale the ``[-1, 1]`` input by the fixed ImageNet shift/scale, take the five ReLU
outputs, unit-normalise each along channels, square the difference, weight channels by ``lin_k``, average
over space, sum over the five layers.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import torch
from torch import nn

from toontalker.cache import find_weights, known_weights, packaged_model
from toontalker.metrics.base import MetricUnavailable, check_pair

# The five feature taps: (end index in `features`, channels) -- after the ReLUs at 1, 4, 7, 9, 11.
ALEXNET_TAPS: tuple[tuple[int, int], ...] = ((2, 64), (5, 192), (8, 384), (10, 256), (12, 256))
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)


class AlexNetFeatures(nn.Module):
    """The convolutional part of AlexNet (one-weird-trick variant), keys ``features.{0,3,6,8,10}``.

    forward: ``(B, 3, H, W)`` ImageNet-normalised -> the five ReLU maps, channels 64, 192, 384, 256, 256.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        start = 0
        for end, _ in ALEXNET_TAPS:
            for layer in list(self.features)[start:end]:
                x = layer(x)
            taps.append(x)
            start = end
        return taps

    def load_imagenet(self, path: Path) -> None:
        """Load the ``features.*`` entries of a torchvision AlexNet checkpoint (classifier ignored)."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        features = {k: v for k, v in state.items() if k.startswith("features.")}
        self.load_state_dict(features, strict=True)


class LPIPS(nn.Module):
    """LPIPS v0.1 over AlexNet. forward: two ``(B, 3, H, W)`` batches in ``[-1, 1]`` -> ``(B,)`` distances."""

    shift: torch.Tensor  # (1, 3, 1, 1) buffers, registered in __init__
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.backbone = AlexNetFeatures()
        self.lins = nn.ModuleList(nn.Conv2d(ch, 1, kernel_size=1, bias=False) for _, ch in ALEXNET_TAPS)
        self.register_buffer("shift", torch.tensor(LPIPS_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(LPIPS_SCALE).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def load_lin_weights(self, path: Path) -> None:
        """Load ``lin{k}.model.1.weight`` from the lpips package's ``alex.pth``."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            for k, lin in enumerate(self.lins):
                cast(nn.Conv2d, lin).weight.copy_(state[f"lin{k}.model.1.weight"])
        except (KeyError, RuntimeError) as exc:
            raise MetricUnavailable("lpips", f"{path} is not an LPIPS v0.1 AlexNet head ({exc})") from exc

    @staticmethod
    def _unit_normalise(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
        return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)

    @torch.no_grad()
    def forward(self, generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_pair(generated, target, "lpips")
        feats_g = self.backbone((generated - self.shift) / self.scale)
        feats_t = self.backbone((target - self.shift) / self.scale)
        total = torch.zeros(generated.shape[0], device=generated.device, dtype=generated.dtype)
        for lin, fg, ft in zip(self.lins, feats_g, feats_t):
            diff = (self._unit_normalise(fg) - self._unit_normalise(ft)).pow(2)
            total = total + lin(diff).mean(dim=(1, 2, 3))
        return total


def lpips_head_path() -> Path | None:
    """``lpips/weights/v0.1/alex.pth`` inside the installed lpips package, or None."""
    return packaged_model("lpips-alex-head").path


def load_lpips(device: torch.device | str = "cpu") -> LPIPS:
    """LPIPS with the standard weights, or :class:`MetricUnavailable` naming what is missing."""
    backbone = find_weights("alexnet")
    if backbone is None:
        raise MetricUnavailable.missing_weights("lpips", known_weights("alexnet"))
    head = lpips_head_path()
    if head is None:
        raise MetricUnavailable("lpips", packaged_model("lpips-alex-head").how_to_get())
    model = LPIPS()
    model.backbone.load_imagenet(backbone)
    model.load_lin_weights(head)
    return model.to(device)
