"""Backward transformer T_B (Sec. 3.1): projects w_{s->d} from the canonical space back to the source domain.

A stack of blocks, one per source feature resolution (16, 32, 64 in the paper): the first queries are a
linear projection of w_{s->d}; each block's queries come from the previous block, its keys/values from the
source features S_r (flattened to r*r tokens, with 2-D sine positions added to the keys). The key/value
projections depend on the source only, so ``memory`` computes them once per source image.

With ``motion_skip`` (default; not in the paper) T_B is a residual refinement, w + g * blocks(w), with the
scalar gain g starting at 0.01: the generator first sees the canonical code itself (docs/model.md "motion skip").
"""

from __future__ import annotations

import math
from typing import cast

import torch
from einops import rearrange
from torch import Tensor, nn

from toontalker.model.attention import DecoderLayer, KeyValue
from toontalker.model.config import ModelConfig
from toontalker.model.query_transformer import SKIP_INIT


def sine_positions(height: int, width: int, dim: int, device: torch.device) -> Tensor:
    """(H*W, dim) 2-D sine/cosine position codes (half the channels for y, half for x)."""
    quarter = max(dim // 4, 1)
    freqs = torch.exp(-math.log(10000.0) * torch.arange(quarter, device=device) / quarter)
    ys = torch.arange(height, device=device, dtype=torch.float32)[:, None] * freqs  # (H, q)
    xs = torch.arange(width, device=device, dtype=torch.float32)[:, None] * freqs  # (W, q)
    y_code = torch.cat((ys.sin(), ys.cos()), dim=-1)[:, None, :].expand(height, width, -1)
    x_code = torch.cat((xs.sin(), xs.cos()), dim=-1)[None, :, :].expand(height, width, -1)
    code = torch.cat((y_code, x_code), dim=-1).reshape(height * width, -1)
    if code.shape[1] < dim:
        code = torch.nn.functional.pad(code, (0, dim - code.shape[1]))
    return code[:, :dim]


class BackwardTransformer(nn.Module):
    """T_B: forward(w_{s->d} (B, K, d), memory from ``memory(S)``) -> projected code (B, K, d)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.code_dim
        self.resolutions = config.backward_resolutions
        self.feature_index = tuple(config.feature_resolutions.index(r) for r in self.resolutions)
        self.in_proj = nn.Linear(d, d)
        self.blocks = nn.ModuleList(
            DecoderLayer(d, config.heads, config.ffn_dim, kv_dim=config.channels_at(r)) for r in self.resolutions
        )
        self.residual_gain = nn.Parameter(torch.tensor(SKIP_INIT)) if config.motion_skip else None

    def memory(self, features: tuple[Tensor, ...]) -> tuple[KeyValue, ...]:
        """Source-only keys/values, one (keys, values) pair per block."""
        out = []
        for block, index in zip(self.blocks, self.feature_index):
            feature = features[index]
            B, C, H, W = feature.shape
            tokens = rearrange(feature, "b c h w -> b (h w) c")
            attention = cast(DecoderLayer, block).cross_attn  # a ModuleList's items are typed nn.Module
            positions = sine_positions(H, W, attention.q_proj.out_features, feature.device)
            out.append(attention.project_memory(tokens, key_offset=positions))
        return tuple(out)

    def forward(self, code: Tensor, memory: tuple[KeyValue, ...]) -> Tensor:
        B, K, d = code.shape
        x = self.in_proj(code)
        for block, kv in zip(self.blocks, memory):
            x = block(x, kv=kv)
        if self.residual_gain is not None:
            return code + self.residual_gain.to(x.dtype) * x
        return x


class NoBackwardTransformer(nn.Module):
    """Ablation "w/o back" (Table 7): the canonical code goes to the generator unchanged."""

    def memory(self, features: tuple[Tensor, ...]) -> tuple[KeyValue, ...]:
        return ()

    def forward(self, code: Tensor, memory: tuple[KeyValue, ...]) -> Tensor:
        return code


def build_backward_transformer(config: ModelConfig) -> BackwardTransformer | NoBackwardTransformer:
    return BackwardTransformer(config) if config.backward_transformer else NoBackwardTransformer()
