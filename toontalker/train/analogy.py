"""The analogy constraint (Sec. 3.2, Eq. 6-9): relative motions of two domains agree in the canonical space.

Given two faces a, b of one domain and a source s of the other, the relative motion a -> b animates s
(Eq. 6): w_{s->g} = (w_{s->r} + w_{r->s}) + (w_{r->b} - w_{r->a}); the generator renders the synthetic
face x_g in s's domain; its driving code w_{r->g} (Eq. 8) is compared with the motion that made it (Eq. 9):

    L_motion = E[ || (w_{r->g} - w_{r->s}) - (w_{r->b} - w_{r->a}) ||_1 ].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor


@dataclass(frozen=True)
class AnalogyResult:
    """``loss``: Eq. 9 (scalar, fp32); ``synthetic``: x_g ``(B, 3, H, W)`` in the source's domain."""

    loss: Tensor
    synthetic: Tensor


def analogy_loss(
    model: Any, source: Any, source_domain: str, w_r2a: Tensor, w_r2b: Tensor
) -> AnalogyResult:
    """Eq. 6-9 for one direction.

    ``source``: the :class:`SourceEncoding` of x_s (its ``w_r2s`` is T_{r->d}(E_m(x_s), p), Eq. 7);
    ``w_r2a``, ``w_r2b``: ``(B, K, d)`` driving codes of the other domain's faces a and b (Eq. 7).
    """
    w_s2g = model.relative_motion(source, w_r2b, w_r2a)  # Eq. 6 (= Eq. 5 with '1' = a, d = b)
    synthetic = model.render(source, w_s2g)
    w_r2g = model.encode_driving(synthetic, source_domain)  # Eq. 8
    moved = w_r2g.float() - source.w_r2s.float()
    target = w_r2b.float() - w_r2a.float()
    return AnalogyResult(loss=(moved - target).abs().mean(), synthetic=synthetic)  # Eq. 9
