"""Adversarial losses (Eq. 10, the L_adv of Eq. 11): non-saturating GAN with discriminators D_R and D_C.

D outputs one logit per image; D(x) in Eq. 10 is its sigmoid, so -log D(x) = softplus(-logit).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def generator_adv_loss(fake_logits: Tensor) -> Tensor:
    """Eq. 10: E[-log D(x_fake)] = mean softplus(-logit)."""
    return F.softplus(-fake_logits.float()).mean()


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[-log D(x_real)] + E[-log(1 - D(x_fake))]."""
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def r1_penalty(discriminator: nn.Module, real: Tensor) -> Tensor:
    """R1 regulariser: mean over the batch of ||grad_x D(x)||^2 on real images (multiply by gamma / 2)."""
    real = real.detach().requires_grad_(True)
    logits = discriminator(real)
    (grad,) = torch.autograd.grad(logits.float().sum(), real, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()
