"""The landmark flow term (``lambda_flow``, ours, not in the paper).

G renders the output by sampling the source's features where its flow points (Sec. 3.1, the last block's
accumulated flow). For a same-identity pair both frames have FaceMesh landmarks, and landmark ``k`` is the
same point of the face in both: at the driving frame's landmark ``p_d[k]`` the flow should sample the source
at its landmark ``p_s[k]``,

    L_flow = mean_k | p_d[k] + flow(p_d[k]) - p_s[k] |_1      (coordinates normalised to [-1, 1]),

averaged once over all 468 points and once over the mouth and eye points (so lips and eyelids, a tenth of
the mesh, weigh as much as the rest of the face). Full-frame L1 barely sees a mouth that opens a few pixels;
this term names where every lip and eyelid point must come from.

The shape term (``lambda_flow_shape``, ours) keeps only what the flow gets wrong in the *shape* of the mouth
and of each eye: per group g (mouth, right eye, left eye) the error vectors
``e_k = p_d[k] + flow(p_d[k]) - p_s[k]`` minus their mean over the group,

    L_shape = mean_g mean_{k in g} | e_k - mean_{j in g} e_j |_1,

so a flow that moves the whole mouth to the right place but keeps it closed while the driver's opens is
penalised in full, while a head that is a little off (the same error for every lip point) costs nothing here.
An opening lip moves a few pixels against tens for a head turn: in the all-points term it is noise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

from toontalker.faces.landmarks import LEFT_EYE_POINTS, MOUTH_POINTS, RIGHT_EYE_POINTS

EXPRESSION_POINTS = tuple(sorted({*MOUTH_POINTS, *RIGHT_EYE_POINTS, *LEFT_EYE_POINTS}))
SHAPE_GROUPS = (MOUTH_POINTS, RIGHT_EYE_POINTS, LEFT_EYE_POINTS)


def _to_grid(points: Tensor) -> Tensor:
    """Points x, y in [0, 1] of the frame -> grid_sample coordinates in [-1, 1] (align_corners=False)."""
    return torch.nan_to_num(points.float(), nan=0.5) * 2.0 - 1.0


def _point_offsets(flow: Tensor, source_points: Tensor, driving_points: Tensor) -> tuple[Tensor, Tensor]:
    """Per-point error vectors (B, P, 2) and a validity mask (B, P) for points in [0, 1] (NaN: unknown)."""
    valid = torch.isfinite(source_points).all(-1) & torch.isfinite(driving_points).all(-1)
    grid_d, grid_s = _to_grid(driving_points), _to_grid(source_points)
    sampled = F.grid_sample(
        flow.float(), rearrange(grid_d, "b p t -> b p 1 t"), mode="bilinear", padding_mode="border", align_corners=False
    )  # (B, 2, P, 1)
    offset = rearrange(sampled, "b t p 1 -> b p t")
    return grid_d + offset - grid_s, valid


def _masked_mean(error: Tensor, valid: Tensor) -> Tensor:
    return (error * valid).sum() / valid.sum().clamp_min(1)


def _landmark_term(offsets: Tensor, valid: Tensor) -> Tensor:
    """The mean of the all-points and the mouth/eye-points L1 errors of error vectors (B, P, 2)."""
    error, expression = offsets.abs().sum(-1), list(EXPRESSION_POINTS)
    return 0.5 * (_masked_mean(error, valid) + _masked_mean(error[:, expression], valid[:, expression]))


def _shape_term(offsets: Tensor, valid: Tensor) -> Tensor:
    """The mean over :data:`SHAPE_GROUPS` of the L1 of each error vector minus its group's mean vector."""
    terms = []
    for group in SHAPE_GROUPS:
        e, v = offsets[:, list(group)], valid[:, list(group)].float()  # (B, G, 2), (B, G)
        count = v.sum(1, keepdim=True)
        centre = (e * v.unsqueeze(-1)).sum(1, keepdim=True) / count.clamp_min(1).unsqueeze(-1)
        known = v * (count >= 2)  # a group counts in a sample only with at least two known points
        terms.append(_masked_mean((e - centre).abs().sum(-1), known))
    return torch.stack(terms).mean()


def flow_landmark_loss(flow: Tensor, points: Tensor) -> Tensor:
    """flow (B, 2, H, W) offsets in [-1, 1] coordinates; points (B, 2, 468, 2): (source, driving) landmarks
    x, y in [0, 1] of the frame (NaN where FaceMesh missed). -> scalar: the mean of the all-points and the
    mouth/eye-points errors (0 when no point is known)."""
    B, two, P, t = points.shape
    return _landmark_term(*_point_offsets(flow, points[:, 0], points[:, 1]))


def flow_shape_loss(flow: Tensor, points: Tensor) -> Tensor:
    """flow (B, 2, H, W), points (B, 2, 468, 2) as for :func:`flow_landmark_loss` -> scalar: the mean over the
    mouth and the two eyes of the L1 of each point's error vector minus the group's mean error vector (0 when
    no point is known). A group counts in a sample only with at least two known points."""
    B, two, P, t = points.shape
    return _shape_term(*_point_offsets(flow, points[:, 0], points[:, 1]))


def flow_landmark_terms(flow: Tensor, points: Tensor) -> tuple[Tensor, Tensor]:
    """Both terms from one sampling of the flow: (:func:`flow_landmark_loss`, :func:`flow_shape_loss`)."""
    B, two, P, t = points.shape
    offsets, valid = _point_offsets(flow, points[:, 0], points[:, 1])
    return _landmark_term(offsets, valid), _shape_term(offsets, valid)
