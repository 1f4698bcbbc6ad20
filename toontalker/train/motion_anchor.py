"""The motion anchor: the cartoon motion path keeps moving with faces it is not trained on.

Not in the paper. Stage 2 trains the cartoon Em and p on one cartoon style (THA2 renders), and a cartoon motion
path trained so forgets other faces: on real frames its codes barely move between two frames of a clip
(docs/training.md, "The cartoon side on the E2 weights"), and drivers of other drawing styles barely move the
output. ``lambda_motion_anchor`` adds, on each batch's real pairs (x_s, x_d),

    L_anchor = || (w^C_{r->d} - w^C_{r->s}) - sg(w^R_{r->d} - w^R_{r->s}) ||_1      (mean over B, K, d)

with w^D_{r->x} = T_{r->d}(Em^D(x), p^D) (Eq. 2 with each domain's Em and p) and sg the stop-gradient: the cartoon
path's motion between two real frames stays the real path's. Differences, not codes: animation uses a driver's
codes relative to its first frame (Eq. 5), so an offset between the two domains' codes costs nothing.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor

from toontalker.model.toontalker import ToonTalker


def motion_anchor(model: ToonTalker, source: Tensor, driving: Tensor) -> Tensor:
    """source, driving (B, 3, H, W) real frames in [-1, 1] -> the 0-d anchor term (gradient to the cartoon
    motion path only; the real path is the detached teacher)."""
    B = source.shape[0]
    frames = torch.cat([source, driving])
    with torch.no_grad():  # the teacher: no graph is recorded for it, whether or not the real side trains
        w_real = rearrange(model.encode_driving(frames, "real"), "(two b) k d -> two b k d", two=2, b=B)
    w_cartoon = rearrange(model.encode_driving(frames, "cartoon"), "(two b) k d -> two b k d", two=2, b=B)
    motion_real = w_real[1] - w_real[0]
    motion_cartoon = w_cartoon[1] - w_cartoon[0]
    return (motion_cartoon.float() - motion_real.float()).abs().mean()
