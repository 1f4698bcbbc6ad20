"""The two training objectives as modules that DistributedDataParallel can wrap.

* :class:`GeneratorObjective` -- stage 1: L_rec^R (Eq. 11: L1 + lambda_per L_per + L_adv with D_R);
  stage 2: Eq. 12, L_rec^R + L_rec^C + lambda_m (L_motion^{R->C} + L_motion^{C->R}) + L_adv^C + L_adv^R,
  the adversarial terms on the synthetic faces of the analogy constraint (plus, ours, the motion anchor of
  train/motion_anchor.py).
* :class:`DiscriminatorObjective` -- the non-saturating loss of D_R (and D_C) on real frames vs the
  generator's outputs (reconstructions and synthetic faces), plus optional R1.

The generator objective holds the discriminators and the perceptual network *unregistered*, so DDP syncs
only the generator's gradients through it; the discriminators are trained through their own objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from toontalker.conventions import Domain
from toontalker.model.toontalker import SourceEncoding, ToonTalker
from toontalker.train.edges import image_gradient_l1
from toontalker.train.flow_landmarks import flow_landmark_terms
from toontalker.train.gan import discriminator_loss, generator_adv_loss, r1_penalty
from toontalker.train.motion_anchor import motion_anchor
from toontalker.train.recipe import TrainRecipe
from toontalker.train.regions import masked_mean, region_copy_gain, region_mask
from toontalker.train.stream import FramePairs, TrainBatch
from toontalker.train.warp_pairs import with_warp_pairs

PerceptualFn = Callable[[Tensor, Tensor, str], Tensor]  # (output, target, domain) -> scalar


@dataclass(frozen=True)
class GeneratorStepOutput:
    """``loss``: the scalar to minimise; ``terms``: its named parts (detached, for logs); ``real``/``fake``:
    per domain, the images D sees as real and as fake; ``images``: named ``(B, 3, H, W)`` for image grids."""

    loss: Tensor
    terms: dict[str, Tensor]
    real: dict[str, Tensor]
    fake: dict[str, Tensor]
    images: dict[str, Tensor] = field(default_factory=dict)


def copy_gain(error: Tensor, source: Tensor, driving: Tensor) -> Tensor:
    """1 - L1(output, driving) / L1(source, driving) on the natural (not warp) pairs, detached.

    > 0: the reconstruction beats copying the source; <= 0: the model is (at best) a source copy, the motion
    collapse of docs/results.md. NaN when the batch holds no natural pair.
    """
    if error.shape[0] == 0:
        return error.new_full((), float("nan"))
    copy = (source.float() - driving.float()).abs().mean().clamp_min(1e-8)
    return (1.0 - error.mean() / copy).detach()


def _autocast(device: torch.device, dtype: torch.dtype | None) -> Any:
    return torch.autocast(device_type=device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


class GeneratorObjective(nn.Module):
    """The generator side of Eq. 11 (stage 1) or Eq. 12 (stage 2) for one micro-batch."""

    def __init__(
        self,
        model: ToonTalker,
        discriminators: nn.ModuleDict,
        perceptual: PerceptualFn,
        recipe: TrainRecipe,
        autocast_dtype: torch.dtype | None,
    ) -> None:
        super().__init__()
        self.model = model
        self._discriminators = (discriminators,)  # a tuple: not registered, so DDP leaves D alone here
        self._perceptual = perceptual
        self.recipe = recipe
        self.autocast_dtype = autocast_dtype

    def _d(self, domain: str) -> nn.Module:
        return self._discriminators[0][domain]

    def _reconstruction(
        self, pair: FramePairs, domain: Domain, terms: dict[str, Tensor]
    ) -> tuple[Tensor, Tensor, Any, Tensor]:
        """Eq. 11 for one domain: returns (loss, output, source encoding, driving code)."""
        r, model = self.recipe, self.model
        driving, warped = with_warp_pairs(pair.source, pair.driving, r.warp_pairs)
        source = model.encode_source(pair.source, domain)
        w_r2d = model.encode_driving(driving, domain)
        w_s2d = model.absolute_motion(source, w_r2d)  # Eq. 3
        output, flow = model.render_with_flow(source, w_s2d)
        error = (output.float() - driving.float()).abs()
        l1 = error.mean()
        per = self._perceptual(output, driving, domain) if r.lambda_per > 0 else l1.new_zeros(())
        adv = generator_adv_loss(self._d(domain)(output)) if r.lambda_adv > 0 else l1.new_zeros(())
        prefix = "" if r.stage == 1 else f"{domain}_"
        terms.update(
            {
                f"{prefix}l1": l1.detach(),
                f"{prefix}perceptual": per.detach(),
                f"{prefix}adv": adv.detach(),
                f"{prefix}copy_gain": copy_gain(error[warped:], pair.source[warped:], pair.driving[warped:]),
            }
        )
        loss = r.lambda_l1 * l1 + r.lambda_per * per + r.lambda_adv * adv
        if r.lambda_edge > 0:
            edge = image_gradient_l1(output, driving)
            terms[f"{prefix}edge"] = edge.detach()
            loss = loss + r.lambda_edge * edge
        if pair.points is not None:  # logged whenever known; warp pairs have no landmarks: dropped here too
            flow_term, shape_term = flow_landmark_terms(flow[warped:], pair.points[warped:])
            terms[f"{prefix}flow"] = flow_term.detach()
            terms[f"{prefix}flow_shape"] = shape_term.detach()
            if r.lambda_flow > 0:
                loss = loss + r.lambda_flow * flow_term
            if r.lambda_flow_shape > 0:
                loss = loss + r.lambda_flow_shape * shape_term
        if pair.regions is not None:  # warp pairs have no landmarks: their boxes are dropped
            mask = region_mask(pair.regions[warped:], output.shape[-2], output.shape[-1])
            terms[f"{prefix}region_copy_gain"] = region_copy_gain(
                output[warped:], pair.source[warped:], pair.driving[warped:], mask
            )
            if r.lambda_region > 0:
                region = masked_mean(error[warped:], mask)
                terms[f"{prefix}region_l1"] = region.detach()
                loss = loss + r.lambda_region * region
        return loss, output, source, w_r2d

    def forward(self, batch: TrainBatch, want_images: bool = False) -> GeneratorStepOutput:
        device = batch.real.source.device
        terms: dict[str, Tensor] = {}
        with _autocast(device, self.autocast_dtype):
            loss, out_r, src_r, w_r2b = self._reconstruction(batch.real, "real", terms)
            real = {"real": batch.real.driving}
            fake = {"real": out_r}
            images = (
                {"source": batch.real.source, "driving": batch.real.driving, "output": out_r} if want_images else {}
            )
            if self.recipe.stage == 2:
                if batch.cartoon is None:
                    raise ValueError("a stage-2 batch needs cartoon pairs")
                rec_c, out_c, src_c, w_r2d_c = self._reconstruction(batch.cartoon, "cartoon", terms)
                loss = loss + rec_c
                real["cartoon"], fake["cartoon"] = batch.cartoon.driving, out_c
                if want_images:
                    images.update(
                        {
                            "cartoon_source": batch.cartoon.source,
                            "cartoon_driving": batch.cartoon.driving,
                            "cartoon_output": out_c,
                        }
                    )
                if self.recipe.lambda_motion_anchor > 0:
                    anchor = motion_anchor(self.model, batch.real.source, batch.real.driving)
                    terms["motion_anchor"] = anchor.detach()
                    loss = loss + self.recipe.lambda_motion_anchor * anchor
                if self.recipe.analogy:
                    loss = loss + self._analogy(
                        src_r, w_r2b, src_c, w_r2d_c, terms=terms, fake=fake, images=images, want_images=want_images
                    )
        terms["total"] = loss.detach()
        return GeneratorStepOutput(loss=loss, terms=terms, real=real, fake=fake, images=images)

    def _analogy(
        self,
        src_r: SourceEncoding,
        w_r2b: Tensor,
        src_c: SourceEncoding,
        w_r2d_c: Tensor,
        *,
        terms: dict[str, Tensor],
        fake: dict[str, Tensor],
        images: dict[str, Tensor],
        want_images: bool,
    ) -> Tensor:
        """lambda_m (L^{R->C} + L^{C->R}) + L_adv^C + L_adv^R on the synthetic faces (Eq. 9, 10, 12).

        R->C: the real pair (a = real source, b = real driving) animates the cartoon source; C->R: the
        cartoon pair animates the real source. w_{r->a} is the real source's own w_{r->s} (Eq. 7). The pass
        itself is the model's (:meth:`~toontalker.model.ToonTalker.analogy`).
        """
        r = self.recipe
        r2c = self.model.analogy(src_c, w_r2a=src_r.w_r2s, w_r2b=w_r2b)
        c2r = self.model.analogy(src_r, w_r2a=src_c.w_r2s, w_r2b=w_r2d_c)
        loss_r2c, loss_c2r = r2c.motion_loss(), c2r.motion_loss()
        adv_c = generator_adv_loss(self._d("cartoon")(r2c.image))
        adv_r = generator_adv_loss(self._d("real")(c2r.image))
        terms.update(
            {
                "analogy_r2c": loss_r2c.detach(),
                "analogy_c2r": loss_c2r.detach(),
                "synthetic_adv_cartoon": adv_c.detach(),
                "synthetic_adv_real": adv_r.detach(),
            }
        )
        fake["cartoon"] = torch.cat([fake["cartoon"], r2c.image])
        fake["real"] = torch.cat([fake["real"], c2r.image])
        if want_images:
            images.update({"synthetic_cartoon": r2c.image, "synthetic_real": c2r.image})
        return r.lambda_m * (loss_r2c + loss_c2r) + r.lambda_adv * (adv_c + adv_r)


@dataclass(frozen=True)
class DiscriminatorStepOutput:
    loss: Tensor
    terms: dict[str, Tensor]


class DiscriminatorObjective(nn.Module):
    """Non-saturating D loss per domain (real frames vs detached generator outputs) + optional R1."""

    def __init__(self, discriminators: nn.ModuleDict, recipe: TrainRecipe, autocast_dtype: torch.dtype | None) -> None:
        super().__init__()
        self.discriminators = discriminators
        self.recipe = recipe
        self.autocast_dtype = autocast_dtype

    def forward(
        self, real: dict[str, Tensor], fake: dict[str, Tensor], with_r1: bool = False
    ) -> DiscriminatorStepOutput:
        terms: dict[str, Tensor] = {}
        total: Tensor | None = None
        for domain, real_images in real.items():
            d = self.discriminators[domain]
            with _autocast(real_images.device, self.autocast_dtype):
                # two calls, not one concatenated batch: D's minibatch-stddev must not mix real and fake
                real_logits = d(real_images.detach())
                fake_logits = d(fake[domain].detach())
            loss = discriminator_loss(real_logits, fake_logits)
            terms[f"d_{domain}"] = loss.detach()
            if with_r1 and self.recipe.r1_gamma > 0:
                r1 = r1_penalty(d, real_images)  # fp32: the gradient penalty is sensitive to rounding
                terms[f"r1_{domain}"] = r1.detach()
                # lazy regularisation: every r1_every steps, scaled up to keep the same average strength
                loss = loss + 0.5 * self.recipe.r1_gamma * self.recipe.r1_every * r1
            total = loss if total is None else total + loss
        assert total is not None
        return DiscriminatorStepOutput(loss=total, terms=terms)
