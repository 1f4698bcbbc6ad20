"""The Trainer: models, optimisers, DDP wrappers and one optimisation step (G then D) of either stage.

Used by the training loop (:mod:`toontalker.train.loop`) and by the step benchmark
(:mod:`toontalker.train.bench_step`), so both time and run exactly the same step.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from toontalker.conventions import DOMAINS, Domain
from toontalker.devices import resolve_dtype
from toontalker.errors import ConfigError, NonFiniteLossError, TrainingError
from toontalker.model import Discriminator, ModelConfig, ToonTalker
from toontalker.train.checkpoint import load_discriminators
from toontalker.train.distributed import DistInfo, any_rank_true
from toontalker.train.ema import GeneratorAverage
from toontalker.train.feature_matching import DiscriminatorFeatureMatching
from toontalker.train.objectives import DiscriminatorObjective, GeneratorObjective, PerceptualFn
from toontalker.train.perceptual import VGG19Features, VGGPerceptualLoss, vgg19_features
from toontalker.train.recipe import TrainRecipe
from toontalker.train.stream import TrainBatch


def resolve_autocast(recipe: TrainRecipe, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: bf16 for ``precision=bf16`` (or ``auto`` on CUDA), None (fp32) otherwise.

    The "auto" rule is :func:`~toontalker.devices.resolve_dtype`'s, without its fp16 fallback (training in
    fp16 would need loss scaling) and without bf16 on CPUs (training there stays fp32)."""
    dtype = resolve_dtype(recipe.precision, device, fp16_fallback=False, cpu_bf16=False)
    return None if dtype == torch.float32 else dtype


def _ddp(module: nn.Module, device: torch.device) -> DistributedDataParallel:
    """DDP without per-forward buffer broadcasts (the model's buffers are constants); the keyword was
    renamed in recent torch releases."""
    ids = [device.index] if device.type == "cuda" else None
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters:
        return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)
    return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)


def model_config_for(recipe: TrainRecipe) -> ModelConfig:
    return ModelConfig.from_name(recipe.model).with_overrides(recipe.model_overrides)


def domains_for(stage: int) -> tuple[Domain, ...]:
    return ("real",) if stage == 1 else DOMAINS


@dataclass(frozen=True)
class StepResult:
    """Named loss terms of one optimisation step (0-d tensors on the device, not yet synced)."""

    terms: dict[str, Tensor]
    images: dict[str, Tensor]


class Trainer:
    """Holds G (ToonTalker), the discriminators, the perceptual loss and both Adam optimisers."""

    def __init__(self, recipe: TrainRecipe, dist_info: DistInfo, vgg: VGG19Features | None = None) -> None:
        self.recipe = recipe
        self.dist = dist_info
        self.device = dist_info.device
        self.autocast_dtype = resolve_autocast(recipe, self.device)
        self.model_config = model_config_for(recipe)
        torch.manual_seed(recipe.seed)  # identical initial weights on every rank (DDP also broadcasts them)
        self.model = ToonTalker(self.model_config)
        self.discriminators = nn.ModuleDict({d: Discriminator(self.model_config) for d in domains_for(recipe.stage)})
        # Stage 1 trains the real domain only (Sec. 3.3): the cartoon components, initialised from it at stage 2,
        # are frozen here. frozen_parts (ours) keeps more parts at their loaded values. Frozen parameters are
        # left out of DDP and Adam.
        frozen = set(recipe.frozen_parts) | ({"cartoon"} if recipe.stage == 1 else set())
        for part in sorted(frozen):
            for p in self.model.part_parameters(part):
                p.requires_grad_(False)
        self.perceptual = self._build_perceptual(vgg)
        self._optimizers_built = False

    # -- construction --------------------------------------------------------------------------------------
    def _build_perceptual(self, vgg: VGG19Features | None) -> PerceptualFn:
        r = self.recipe
        if r.lambda_per == 0:
            return lambda output, target, domain: output.new_zeros((), dtype=torch.float32)
        if r.perceptual == "dfm":
            return DiscriminatorFeatureMatching(self.discriminators)
        coarsest = self.model_config.image_size // 2 ** (r.perceptual_scales - 1)
        if coarsest < 16:
            raise ConfigError(
                f"perceptual_scales={r.perceptual_scales} at {self.model_config.image_size} px gives a {coarsest} px "
                "level; VGG19 needs >= 16 px: lower perceptual_scales"
            )
        features = vgg if vgg is not None else vgg19_features()
        if self.autocast_dtype is not None:
            # frozen, so its filters are held in the autocast dtype once: autocast would cast its 13 convs' weights
            # and biases again on each of the pyramid's 2 x scales passes (the same values; the input
            # normalisation keeps its fp32 buffers). A copy: the caller's module may serve other recipes.
            features = copy.deepcopy(features)
            features.features.to(self.autocast_dtype)
        module = VGGPerceptualLoss(features, scales=r.perceptual_scales)
        self._vgg_loss = module.to(self.device)
        if r.channels_last:
            module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # memory_format: accepted, not in torch's stubs
        return lambda output, target, domain: module(output, target)

    def load_stage1(self, state: dict[str, Any]) -> None:
        """Stage-2 initialisation (Sec. 3.3): the stage-1 weights, then real -> cartoon copies of every
        domain-specific component (Ea, Em, p, T_B, G, and D)."""
        if self.recipe.stage != 2:
            raise ConfigError("a stage-1 initialisation (init) applies to stage 2 only")
        if state["recipe"]["stage"] != 1:
            raise TrainingError(f"init must point at a stage-1 run, got a stage-{state['recipe']['stage']} checkpoint")
        self.model.load_state_dict(state["model"])
        self.model.copy_domain("real", "cartoon")
        self.discriminators["real"].load_state_dict(state["discriminators"]["real"])
        self.discriminators["cartoon"].load_state_dict(state["discriminators"]["real"])

    def load_weights(self, name_or_path: str) -> None:
        """Fine-tuning start: the model weights of a weights folder or hub id (strict, same model config);
        the discriminators keep their fresh initialisation."""
        from toontalker.weights import from_pretrained

        model = from_pretrained(name_or_path)
        if model.config.to_dict() != self.model_config.to_dict():
            raise ConfigError(
                f"init_weights {name_or_path}: its model config differs from the recipe's "
                f"(model {self.recipe.model!r} with overrides {list(self.recipe.model_overrides)})"
            )
        self.model.load_state_dict(model.state_dict())

    def load_discriminators(self, folder: str) -> None:
        """Fine-tuning start for D: the checkpoint folder's discriminator files (see train/checkpoint.py)."""
        load_discriminators(self.discriminators, Path(folder))

    def prepare(self) -> None:
        """Move to the device, channels_last, wrap in DDP, compile, and build the optimisers."""
        r, device = self.recipe, self.device
        fmt = torch.channels_last if r.channels_last else torch.contiguous_format
        self.model.to(device, memory_format=fmt)  # type: ignore[call-overload]  # memory_format: accepted, not in torch's stubs
        self.discriminators.to(device, memory_format=fmt)  # type: ignore[call-overload]  # memory_format: accepted, not in torch's stubs
        # ema_decay (ours): an averaged copy of G, updated after each G step and exported (train/ema.py)
        self.ema = GeneratorAverage(self.model, r.ema_decay) if r.ema_decay > 0 else None
        g_obj: nn.Module = GeneratorObjective(self.model, self.discriminators, self.perceptual, r, self.autocast_dtype)
        d_obj: nn.Module = DiscriminatorObjective(self.discriminators, r, self.autocast_dtype)
        if self.dist.enabled:
            g_obj, d_obj = _ddp(g_obj, device), _ddp(d_obj, device)
        self.g_wrapped: nn.Module = g_obj
        self.d_wrapped: nn.Module = d_obj
        self.g_step = torch.compile(g_obj, mode=r.compile_mode) if r.compile else g_obj
        self.d_step = torch.compile(d_obj, mode=r.compile_mode) if r.compile else d_obj
        # CUDA graphs replay into the same memory: each step is marked, and what outlives a graph's next replay
        # (the outputs D trains on, the logged images) is copied out of it
        self._graphed = r.compile and r.compile_mode == "reduce-overhead" and device.type == "cuda"
        g_params = [p for p in self.model.parameters() if p.requires_grad]
        # fused Adam on CUDA: one kernel per parameter group instead of a for-each loop of launches (the step is
        # launch-bound: docs/benchmarks.md); the same update rule, state dict and resume format
        fused = True if device.type == "cuda" else None
        self.opt_g = torch.optim.Adam(g_params, lr=r.lr, betas=r.betas, fused=fused)
        self.opt_d = torch.optim.Adam(
            self.discriminators.parameters(), lr=r.discriminator_lr, betas=r.betas, fused=fused
        )
        self._optimizers_built = True

    # -- one step --------------------------------------------------------------------------------------------
    def _no_sync(self, wrapped: nn.Module, last: bool) -> contextlib.AbstractContextManager[Any]:
        if isinstance(wrapped, DistributedDataParallel) and not last:
            return wrapped.no_sync()
        return contextlib.nullcontext()

    def _guard(self, loss: Tensor, terms: dict[str, Tensor], step_index: int) -> None:
        """NaN/Inf guard, before backward: nothing non-finite ever reaches the gradients or the weights
        (and grid_sample's CPU backward crashes on NaN). All ranks agree before any of them raises."""
        if any_rank_true(~torch.isfinite(loss.detach()), self.dist):
            bad = [k for k, v in terms.items() if not torch.isfinite(v)] or ["(on another process)"]
            raise NonFiniteLossError(
                f"non-finite loss at step {step_index + 1} ({', '.join(bad)}); the step was not applied"
            )

    def step(self, micro_batches: list[TrainBatch], step_index: int, want_images: bool = False) -> StepResult:
        """One optimiser step of G then D over ``grad_accum`` micro-batches (already on the device)."""
        accum = len(micro_batches)
        sums: dict[str, Tensor] = {}
        images: dict[str, Tensor] = {}
        kept: list[tuple[dict[str, Tensor], dict[str, Tensor]]] = []

        if self._graphed:
            torch.compiler.cudagraph_mark_step_begin()
        keep = (lambda t: t.detach().clone()) if self._graphed else (lambda t: t.detach())
        self.discriminators.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        for m, batch in enumerate(micro_batches):
            with self._no_sync(self.g_wrapped, m == accum - 1):
                out = self.g_step(batch, want_images and m == 0)
                self._guard(out.loss, out.terms, step_index)
                (out.loss / accum).backward()
            kept.append(({k: keep(v) for k, v in out.real.items()}, {k: keep(v) for k, v in out.fake.items()}))
            for k, v in out.terms.items():
                sums[k] = sums.get(k, 0) + v / accum
            if out.images:
                images = {k: keep(v) for k, v in out.images.items()}
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(self.model)

        self.discriminators.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with_r1 = self.recipe.r1_gamma > 0 and step_index % self.recipe.r1_every == 0
        for m, (real, fake) in enumerate(kept):
            with self._no_sync(self.d_wrapped, m == accum - 1):
                d_out = self.d_step(real, fake, with_r1)
                self._guard(d_out.loss, d_out.terms, step_index)
                (d_out.loss / accum).backward()
            for k, v in d_out.terms.items():
                sums[k] = sums.get(k, 0) + v / accum
        self.opt_d.step()
        return StepResult(terms=sums, images=images)

    # -- state -------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "discriminators": {
                d: {k: v.detach().cpu() for k, v in m.state_dict().items()} for d, m in self.discriminators.items()
            },
            "optimizer_g": self.opt_g.state_dict(),
            "optimizer_d": self.opt_d.state_dict(),
            "model_config": self.model_config.to_dict(),
            **({"model_ema": {k: v.detach().cpu() for k, v in self.ema.state_dict().items()}} if self.ema else {}),
        }

    @property
    def export_model(self) -> ToonTalker:
        """The weights a checkpoint exports: the moving average of G with ``ema_decay``, else G itself."""
        return self.model if self.ema is None else self.ema.module

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint of this same recipe (call after :meth:`prepare`)."""
        if state["model_config"] != self.model_config.to_dict():
            raise TrainingError("the checkpoint's model config differs from the recipe's")
        self.model.load_state_dict(state["model"])
        for d, m in self.discriminators.items():
            m.load_state_dict(state["discriminators"][d])
        self.opt_g.load_state_dict(state["optimizer_g"])
        self.opt_d.load_state_dict(state["optimizer_d"])
        if self.ema is not None:
            if "model_ema" not in state:
                raise TrainingError("the checkpoint holds no moving average of G (ema_decay was 0 when it was saved)")
            self.ema.load_state_dict(state["model_ema"])
