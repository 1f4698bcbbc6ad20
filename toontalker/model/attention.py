"""Multi-head attention and the post-norm (DETR-style) decoder layer the motion transformers are built from.

Keys/values of a memory can be projected once and reused (``project_memory``): the backward transformer
T_B projects the source features in ``encode_source`` and every driving frame reuses them. A memory of
batch 1 serves a query batch of any size without copying: the queries of all B samples are concatenated
along the sequence axis (attention is independent per query, so this is exact).
"""

from __future__ import annotations

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

KeyValue = tuple[Tensor, Tensor]  # (B or 1, heads, N, head_dim) each


class MultiHeadAttention(nn.Module):
    """Multi-head attention: queries (B, Q, dim) over a memory (B or 1, N, kv_dim) -> (B, Q, dim)."""

    def __init__(self, dim: int, heads: int, kv_dim: int | None = None) -> None:
        super().__init__()
        kv_dim = dim if kv_dim is None else kv_dim
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(kv_dim, dim)
        self.v_proj = nn.Linear(kv_dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def project_memory(self, memory: Tensor, key_offset: Tensor | None = None) -> KeyValue:
        """(B, N, kv_dim) -> keys, values (B, heads, N, head_dim); ``key_offset`` (N, dim) e.g. positions."""
        keys = self.k_proj(memory)
        if key_offset is not None:
            keys = keys + key_offset.to(keys.dtype)
        values = self.v_proj(memory)
        split = "b n (h d) -> b h n d"
        return rearrange(keys, split, h=self.heads), rearrange(values, split, h=self.heads)

    def forward(self, queries: Tensor, memory: Tensor | None = None, kv: KeyValue | None = None) -> Tensor:
        B, Q, _ = queries.shape
        keys, values = kv if kv is not None else self.project_memory(queries if memory is None else memory)
        q = rearrange(self.q_proj(queries), "b q (h d) -> b h q d", h=self.heads)
        if keys.shape[0] == B:
            out = F.scaled_dot_product_attention(q, keys, values)
        elif keys.shape[0] == 1:
            folded = rearrange(q, "b h q d -> 1 h (b q) d")
            out = rearrange(F.scaled_dot_product_attention(folded, keys, values), "1 h (b q) d -> b h q d", b=B)
        else:
            raise ValueError(f"memory batch {keys.shape[0]} cannot serve {B} query sets")
        return self.out_proj(rearrange(out, "b h q d -> b q (h d)"))


class DecoderLayer(nn.Module):
    """Post-norm transformer decoder layer: self-attention, cross-attention over a memory, feed-forward.

    forward(x (B, Q, dim), memory (B|1, N, kv_dim) or kv=precomputed keys/values) -> (B, Q, dim)
    """

    def __init__(self, dim: int, heads: int, ffn_dim: int, kv_dim: int | None = None) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(dim, heads)
        self.cross_attn = MultiHeadAttention(dim, heads, kv_dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(), nn.Linear(ffn_dim, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: Tensor, memory: Tensor | None = None, kv: KeyValue | None = None) -> Tensor:
        x = self.norm1(x + self.self_attn(x))
        x = self.norm2(x + self.cross_attn(x, memory=memory, kv=kv))
        return self.norm3(x + self.ffn(x))
