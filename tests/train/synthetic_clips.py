"""Small synthetic face-like clips for training tests: a moving, blinking bright ellipse on a gradient."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def make_clip(frames: int, size: int, seed: int) -> Tensor:
    """``(T, 3, size, size)`` in [-1, 1]: a head (ellipse) that drifts and an 'eye' that closes over time."""
    g = torch.Generator().manual_seed(seed)
    colour = torch.rand(3, generator=g) * 1.6 - 0.8
    background = torch.rand(3, generator=g) * 1.6 - 0.8
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    out = []
    for t in range(frames):
        phase = 2 * math.pi * t / max(frames, 1)
        cx, cy = 0.25 * math.sin(phase), 0.15 * math.cos(phase)
        head = (((xs - cx) / 0.5) ** 2 + ((ys - cy) / 0.65) ** 2) < 1
        eye_h = 0.02 + 0.08 * (1 + math.cos(phase)) / 2
        eye = (((xs - cx - 0.2) / 0.12) ** 2 + ((ys - cy + 0.2) / eye_h) ** 2) < 1
        img = background[:, None, None] * (1 + 0.3 * ys)[None] * torch.ones(3, size, size)
        img = torch.where(head[None], colour[:, None, None].expand(3, size, size), img)
        img = torch.where(eye[None], torch.full((3, size, size), -1.0), img)
        out.append(img.clamp(-1, 1))
    return torch.stack(out)


class SyntheticPairs:
    """A PairDataset: ``n`` clips; item i -> two frames of clip i drawn with torch's global RNG."""

    def __init__(self, n: int, frames: int = 6, size: int = 64, seed: int = 0, fixed_pair: bool = False) -> None:
        self.clips = [make_clip(frames, size, seed * 1000 + i) for i in range(n)]
        self.fixed_pair = fixed_pair

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        clip = self.clips[index % len(self.clips)]
        if self.fixed_pair:
            return clip[0], clip[clip.shape[0] // 2]
        a, b = torch.randint(0, clip.shape[0], (2,)).tolist()
        return clip[a], clip[b]
