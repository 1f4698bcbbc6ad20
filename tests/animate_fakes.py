"""A stand-in with the ToonTalker model's animate-facing API (architecture.md contract), for unit tests of
the animate pipeline's mechanics. End-to-end tests use the real model (tiny preset, random weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class FakeConfig:
    image_size: int = 64


@dataclass
class FakeSourceEncoding:
    features: tuple[torch.Tensor, ...]
    w_s2r: torch.Tensor
    w_r2s: torch.Tensor


class FakeToonTalker(nn.Module):
    """Motion code = a linear map of the mean colour; render = the source brightened by the code's mean."""

    def __init__(self, image_size: int = 64, num_motions: int = 4, code_dim: int = 8) -> None:
        super().__init__()
        self.config = FakeConfig(image_size)
        self.K, self.d = num_motions, code_dim
        self.proj = nn.Linear(3, num_motions * code_dim)
        self.calls = {"encode_source": 0, "encode_driving": 0, "render": 0}

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        assert (C, H, W) == (3, self.config.image_size, self.config.image_size), x.shape
        return self.proj(x.mean((2, 3))).view(B, self.K, self.d)

    def encode_source(self, image: torch.Tensor, domain: str) -> FakeSourceEncoding:
        assert domain in ("real", "cartoon")
        self.calls["encode_source"] += 1
        w = self._code(image)
        return FakeSourceEncoding((image,), 0.5 * w, w)  # w_{r->s}: the source's own code

    def encode_driving(self, frames: torch.Tensor, domain: str) -> torch.Tensor:
        assert domain in ("real", "cartoon")
        self.calls["encode_driving"] += 1
        return self._code(frames)

    def relative_motion(
        self, src: FakeSourceEncoding, w_r2d: torch.Tensor, w_r2start: torch.Tensor, gain: float = 1.0
    ) -> torch.Tensor:
        return (src.w_s2r + src.w_r2s) + gain * (w_r2d - w_r2start)

    def absolute_motion(self, src: FakeSourceEncoding, w_r2d: torch.Tensor) -> torch.Tensor:
        return src.w_s2r + w_r2d

    def render(self, src: FakeSourceEncoding, w_s2d: torch.Tensor) -> torch.Tensor:
        self.calls["render"] += 1
        B = w_s2d.shape[0]
        image = src.features[0].expand(B, -1, -1, -1)
        return (image + 0.1 * w_s2d.mean((1, 2)).view(B, 1, 1, 1)).clamp(-1, 1)
