"""Reference points for the quality bench: methods that do no reenactment at all.

``copy-source`` returns the source image unchanged for every driving frame. In same-identity
reconstruction (Table 2) it scores what a model gets by ignoring the driver: a trained model must beat it on
L1/PSNR/SSIM/LPIPS/AKD to show it learned motion. It also sets the floor for the paired cartoon benchmark.
A baseline implements the bench's :class:`~toontalker.animation.core.Reenactor` protocol, so it runs through
exactly the same reading, batching and scoring as a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from toontalker.errors import UsageError

BASELINES = ("copy-source",)


@dataclass(frozen=True)
class BaselineConfig:
    """The only model attribute the bench reads: the square image size frames are resized to."""

    image_size: int = 256

    def __post_init__(self) -> None:
        if self.image_size < 8:
            raise UsageError(f"baseline image size must be at least 8, not {self.image_size}")


class CopySource:
    """Output = source: ``render`` repeats the ``(1, 3, H, W)`` source once per driving frame."""

    def __init__(self, config: BaselineConfig = BaselineConfig()) -> None:
        self.config = config

    def encode_source(self, image: torch.Tensor, domain: str) -> torch.Tensor:
        B, C, H, W = image.shape
        return image

    def encode_driving(self, frames: torch.Tensor, domain: str) -> torch.Tensor:
        """One empty motion code per frame: ``(N, 0)``."""
        N = frames.shape[0]
        return frames.new_zeros(N, 0)

    def relative_motion(
        self, src: torch.Tensor, w_r2d: torch.Tensor, w_r2start: torch.Tensor, gain: float = 1.0
    ) -> torch.Tensor:
        return w_r2d

    def absolute_motion(self, src: torch.Tensor, w_r2d: torch.Tensor) -> torch.Tensor:
        return w_r2d

    def render(self, src: torch.Tensor, w_s2d: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)``: the source, once per motion code."""
        N = w_s2d.shape[0]
        return src.expand(N, -1, -1, -1).clone()


def make_baseline(name: str, image_size: int = 256) -> CopySource:
    """The baseline called ``name`` (one of :data:`BASELINES`) working at ``image_size``."""
    if name == "copy-source":
        return CopySource(BaselineConfig(image_size))
    raise UsageError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")


BASELINE_LABELS = {"copy-source": "Copy source (baseline)"}
