"""Motion base p and the query transformers T_{s->r}, T_{r->d} (Sec. 3.1, Eq. 3; Table 7 "mlp" ablation).

w_{s->r} = T_{s->r}(F_s, p) and w_{r->d} = T_{r->d}(F_d, p): the K embeddings of the (domain-specific)
motion base p are linearly projected to queries; the motion descriptor F is linearly projected to
``descriptor_tokens`` key/value tokens; decoder layers turn the queries into K motion codes of width d in the
canonical motion space. The two query transformers are shared by both domains.

With ``motion_skip`` (default; not in the paper) a linear projection of F is added to the codes and the
transformer's output projection starts near zero (x 0.01): at initialisation w ~ Linear(F), so the codes
depend on the frame as strongly as F does, and the transformer learns a correction. Without it the post-norm decoder layers
pass on ~1 % of F's frame-to-frame variation and training collapses to copying the source (docs/model.md).
"""

from __future__ import annotations

import torch
from einops import rearrange, repeat
from torch import Tensor, nn

from toontalker.model.attention import DecoderLayer
from toontalker.model.config import ModelConfig

SKIP_INIT = 0.01  # initial scale of the transformer's contribution when ``motion_skip`` is on


class MotionBase(nn.Module):
    """p = {p_k}, k = 1..K, p_k in R^d: learnable embeddings memorising typical motions of one domain."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.embeddings = nn.Parameter(torch.randn(config.num_motions, config.code_dim))

    def forward(self) -> Tensor:
        """-> (K, d)"""
        return self.embeddings


class QueryTransformer(nn.Module):
    """T_{s->r} / T_{r->d}: forward(F (B, motion_dim), p (K, d)) -> motion codes w (B, K, d)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.code_dim
        self.tokens = config.descriptor_tokens
        self.query_proj = nn.Linear(d, d)
        self.descriptor_proj = nn.Linear(config.motion_dim, config.descriptor_tokens * d)
        self.layers = nn.ModuleList(DecoderLayer(d, config.heads, config.ffn_dim) for _ in range(config.query_layers))
        self.out_proj = nn.Linear(d, d)
        self.num_motions = config.num_motions
        self.skip: nn.Linear | None = None
        if config.motion_skip:
            self.skip = nn.Linear(config.motion_dim, config.num_motions * d)
            with torch.no_grad():  # start near zero (not at zero: every parameter keeps a gradient)
                self.out_proj.weight.mul_(SKIP_INIT)
                self.out_proj.bias.zero_()

    def forward(self, descriptor: Tensor, base: Tensor) -> Tensor:
        B, _ = descriptor.shape
        memory = rearrange(self.descriptor_proj(descriptor), "b (n d) -> b n d", n=self.tokens)
        x = repeat(self.query_proj(base), "k d -> b k d", b=B)
        for layer in self.layers:
            x = layer(x, memory=memory)
        codes = self.out_proj(x)
        if self.skip is not None:
            codes = codes + rearrange(self.skip(descriptor), "b (k d) -> b k d", k=self.num_motions)
        return codes


class QueryMLP(nn.Module):
    """Ablation "mlp" (Table 7): w_k = MLP([proj(F); proj(p_k)]) instead of the query transformer.

    forward(F (B, motion_dim), p (K, d)) -> (B, K, d)
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.code_dim
        self.query_proj = nn.Linear(d, d)
        self.descriptor_proj = nn.Linear(config.motion_dim, d)
        self.mlp = nn.Sequential(nn.Linear(2 * d, config.ffn_dim), nn.GELU(), nn.Linear(config.ffn_dim, d))

    def forward(self, descriptor: Tensor, base: Tensor) -> Tensor:
        B, _ = descriptor.shape
        K, _ = base.shape
        f = repeat(self.descriptor_proj(descriptor), "b d -> b k d", k=K)
        q = repeat(self.query_proj(base), "k d -> b k d", b=B)
        return self.mlp(torch.cat((f, q), dim=-1))


def build_query_transformer(config: ModelConfig) -> QueryMLP | QueryTransformer:
    return QueryMLP(config) if config.query_transformer == "mlp" else QueryTransformer(config)
