"""ModelConfig: sizes of every ToonTalker component, presets, and the ablation switches of Tables 5/7."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from toontalker.config import ConfigBase

_PAPER_CHANNELS = (512, 512, 512, 512, 256, 128, 64)  # resolutions 4, 8, 16, 32, 64, 128, 256


@dataclass(frozen=True)
class ModelConfig(ConfigBase):
    """Sizes of the two-domain ToonTalker model.

    ``channels[i]`` is the feature width at resolution ``4 * 2**i`` (4x4 up to ``image_size``). The
    appearance encoder Ea keeps features at 8..image_size, the generator G has one StyleConv block per
    resolution 8..image_size (six at 256^2, as in the paper), the last ``sft_blocks`` of them refine by SFT.
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {
            "image_size": 64,
            "channels": (32, 32, 24, 16, 16),
            "motion_dim": 32,
            "num_motions": 4,
            "code_dim": 32,
            "heads": 4,
            "ffn_dim": 64,
            "descriptor_tokens": 2,
            "backward_resolutions": (8, 16, 32),
        },
        "small-256": {
            "image_size": 256,
            "channels": (256, 256, 192, 128, 64, 32, 16),
            "motion_dim": 256,
            "num_motions": 20,
            "code_dim": 256,
            "heads": 8,
            "ffn_dim": 512,
            "descriptor_tokens": 4,
            "backward_resolutions": (16, 32, 64),
        },
        "paper-256": {
            "image_size": 256,
            "channels": _PAPER_CHANNELS,
            "motion_dim": 512,
            "num_motions": 20,
            "code_dim": 512,
            "heads": 8,
            "ffn_dim": 512,
            "descriptor_tokens": 4,
            "backward_resolutions": (16, 32, 64),
        },
    }

    image_size: int = 256
    channels: tuple[int, ...] = _PAPER_CHANNELS
    motion_dim: int = 512  # F = Em(x) in R^motion_dim (Eq. 2)
    num_motions: int = 20  # K, size of the motion base p
    code_dim: int = 512  # d, width of motion codes and of p_k
    heads: int = 8
    ffn_dim: int = 512
    descriptor_tokens: int = 4  # F is projected to this many key/value tokens in the query transformers
    query_layers: int = 1  # decoder layers in each of T_{s->r}, T_{r->d}
    # not in the paper (docs/model.md "motion skip"): a linear path F -> codes in T_{s->r}, T_{r->d} (their
    # transformer output starts near zero) and T_B as a residual refinement that starts near the identity.
    # Without it the motion path is so ill-conditioned at initialisation that training collapses to a source copy.
    motion_skip: bool = True
    backward_resolutions: tuple[int, ...] = (16, 32, 64)  # T_B blocks, one per source feature resolution
    sft_blocks: int = 3  # last generator blocks that refine by SFT (Eq. 4)
    # ablations (Table 7): "mlp" replaces the query transformers; False drops T_B / SFT
    query_transformer: Literal["transformer", "mlp"] = "transformer"
    backward_transformer: bool = True
    sft: bool = True

    def __post_init__(self) -> None:
        size = self.image_size
        self._check(size >= 16 and size & (size - 1) == 0, f"image_size must be a power of two >= 16, got {size}")
        levels = int(math.log2(size)) - 1
        self._check(
            len(self.channels) == levels,
            f"channels needs {levels} entries (resolutions 4..{size}), got {len(self.channels)}",
        )
        self._check(all(c >= 4 for c in self.channels), f"channels must all be >= 4, got {self.channels}")
        for name in ("motion_dim", "num_motions", "code_dim", "heads", "ffn_dim", "descriptor_tokens", "query_layers"):
            self._check(getattr(self, name) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        self._check(
            self.code_dim % self.heads == 0, f"code_dim {self.code_dim} must be divisible by heads {self.heads}"
        )
        self._check(len(self.backward_resolutions) >= 1, "backward_resolutions must name at least one resolution")
        for res in self.backward_resolutions:
            self._check(
                res in self.feature_resolutions,
                f"backward resolution {res} is not a source feature resolution {self.feature_resolutions}",
            )
        self._check(
            0 <= self.sft_blocks <= len(self.feature_resolutions),
            f"sft_blocks must be in 0..{len(self.feature_resolutions)}, got {self.sft_blocks}",
        )

    @property
    def feature_resolutions(self) -> tuple[int, ...]:
        """Resolutions of Ea's features S (low -> high), also G's block resolutions: 8..image_size."""
        return tuple(4 * 2**i for i in range(1, len(self.channels)))

    def channels_at(self, resolution: int) -> int:
        return self.channels[int(math.log2(resolution)) - 2]

    @property
    def sft_resolutions(self) -> tuple[int, ...]:
        if not self.sft or self.sft_blocks == 0:
            return ()
        return self.feature_resolutions[-self.sft_blocks :]
