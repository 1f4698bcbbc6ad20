"""The two-domain ToonTalker model (Sec. 3, Fig. 3) and its typed inputs/outputs.

Per domain ("real", "cartoon"): Ea, Em, motion base p, T_B, G. Shared: T_{s->r}, T_{r->d}.

    S = Ea(x_s), F_s = Em(x_s), F_d = Em(x_d)                           (Eq. 1-2)
    w_{s->r} = T_{s->r}(F_s, p), w_{r->d} = T_{r->d}(F_d, p)             (Eq. 3)
    w_{s->d} = w_{s->r} + w_{r->d}                                        (Eq. 3, absolute)
    w_{s->d} = (w_{s->r} + w_{r->s}) + (w_{r->d} - w_{r->1})              (Eq. 5, relative)
    x_{s->d} = G(T_B(w_{s->d}, S), S)

The source is encoded once (``encode_source``: S, w_{s->r}, w_{r->s} and T_B's keys/values) and reused for
every driving frame; a batch-1 source broadcasts over a batch of B motion codes without being copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from toontalker.conventions import DOMAINS, Domain, check_domain
from toontalker.errors import InputError, UsageError
from toontalker.model.appearance_encoder import AppearanceEncoder
from toontalker.model.attention import KeyValue
from toontalker.model.backward_transformer import build_backward_transformer
from toontalker.model.config import ModelConfig
from toontalker.model.generator import Generator
from toontalker.model.motion_encoder import MotionEncoder
from toontalker.model.query_transformer import MotionBase, build_query_transformer

if TYPE_CHECKING:
    from toontalker.weights.card import CardInfo

DOMAIN_COMPONENTS: tuple[str, ...] = (
    "appearance_encoder",
    "motion_encoder",
    "motion_base",
    "backward_transformer",
    "generator",
)
SHARED_COMPONENTS: tuple[str, ...] = ("source_query", "driving_query")
# the motion path: each domain's Em and p (with the shared T_{s->r}, T_{r->d}) make every code w (Eq. 1-5);
# the rest of a domain (Ea, T_B, G) renders it
MOTION_COMPONENTS: tuple[str, ...] = ("motion_encoder", "motion_base")
RENDERER_COMPONENTS: tuple[str, ...] = tuple(c for c in DOMAIN_COMPONENTS if c not in MOTION_COMPONENTS)


def part_components(part: str) -> tuple[str, ...]:
    """The module paths of a training part: ``real`` / ``cartoon`` (that domain's Ea, Em, p, T_B, G), ``shared``
    (T_{s->r}, T_{r->d}), ``motion`` (both domains' Em and p with T_{s->r}, T_{r->d}: everything that makes
    the codes w of Eq. 1-5, so with it fixed only the renderers Ea, T_B, G change) or ``renderer`` (both
    domains' Ea, T_B, G: the complement of ``motion``); () for an unknown part."""
    if part in DOMAINS:
        return tuple(f"domains.{part}.{c}" for c in DOMAIN_COMPONENTS)
    if part == "shared":
        return SHARED_COMPONENTS
    if part == "motion":
        return tuple(f"domains.{d}.{c}" for d in DOMAINS for c in MOTION_COMPONENTS) + SHARED_COMPONENTS
    if part == "renderer":
        return tuple(f"domains.{d}.{c}" for d in DOMAINS for c in RENDERER_COMPONENTS)
    return ()


@dataclass(frozen=True, eq=False)
class SourceEncoding:
    """A source image encoded once: S (low -> high res), w_{s->r}, w_{r->s} (B, K, d), T_B keys/values."""

    features: tuple[Tensor, ...]
    w_s2r: Tensor
    w_r2s: Tensor
    domain: Domain
    memory: tuple[KeyValue, ...] = ()

    @property
    def batch_size(self) -> int:
        return self.w_s2r.shape[0]

    @property
    def w_s2s(self) -> Tensor:
        """The source's own motion code in the canonical space, w_{s->r} + w_{r->s} (first term of Eq. 5)."""
        return self.w_s2r + self.w_r2s


@dataclass(frozen=True, eq=False)
class Reenactment:
    """Output of ``ToonTalker.forward``: the rendered image (B, 3, H, W) and the code w_{s->d} (B, K, d)."""

    image: Tensor
    w_s2d: Tensor


@dataclass(frozen=True, eq=False)
class Analogy:
    """Output of ``ToonTalker.analogy`` (Eq. 6-9): the synthetic face x_g ``(B, 3, H, W)`` in the source's
    domain and the four canonical codes ``(B, K, d)``; ``motion_loss()`` is Eq. 9 (training's L_motion)."""

    image: Tensor
    w_r2s: Tensor
    w_r2a: Tensor
    w_r2b: Tensor
    w_r2g: Tensor

    @property
    def relative_generated(self) -> Tensor:
        """w_{r->g} - w_{r->s}: motion from the source to the synthetic face (fp32)."""
        return self.w_r2g.float() - self.w_r2s.float()

    @property
    def relative_driving(self) -> Tensor:
        """w_{r->b} - w_{r->a}: motion between the two driving faces (fp32)."""
        return self.w_r2b.float() - self.w_r2a.float()

    def motion_loss(self) -> Tensor:
        """Eq. 9: mean over the batch of the L1 norm of the difference, divided by K*d (a mean abs error);
        a scalar in fp32, also under autocast."""
        return (self.relative_generated - self.relative_driving).abs().mean()


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts of one domain's components, of the shared transformers, and of the whole model."""

    appearance_encoder: int
    motion_encoder: int
    motion_base: int
    backward_transformer: int
    generator: int
    per_domain: int
    shared: int
    total: int


class DomainModel(nn.Module):
    """The domain-specific components of one domain: Ea, Em, p, T_B, G."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.appearance_encoder = AppearanceEncoder(config)
        self.motion_encoder = MotionEncoder(config)
        self.motion_base = MotionBase(config)
        self.backward_transformer = build_backward_transformer(config)
        self.generator = Generator(config)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class ToonTalker(nn.Module):
    """Two-domain ToonTalker: ``domains["real"|"cartoon"]`` hold Ea, Em, p, T_B, G; T_{s->r}, T_{r->d} shared."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.domains = nn.ModuleDict({name: DomainModel(config) for name in DOMAINS})
        self.source_query = build_query_transformer(config)  # T_{s->r}
        self.driving_query = build_query_transformer(config)  # T_{r->d}

    # -- checks ------------------------------------------------------------------------------------------
    def _domain(self, domain: Domain | str) -> DomainModel:
        return self.domains[check_domain(domain)]  # type: ignore[return-value]  # ModuleDict items are nn.Module

    def _check_images(self, images: Tensor, what: str) -> None:
        size = self.config.image_size
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != size or images.shape[3] != size:
            raise InputError(f"{what}: expected a (B, 3, {size}, {size}) tensor, got {tuple(images.shape)}")

    # -- the typed API -----------------------------------------------------------------------------------
    def encode_source(self, image: Tensor, domain: Domain) -> SourceEncoding:
        """image (B, 3, H, W) in [-1, 1] -> SourceEncoding: S = Ea(x_s), w_{s->r}, w_{r->s}, T_B keys/values."""
        self._check_images(image, "source image")
        parts = self._domain(domain)
        features = parts.appearance_encoder(image)
        descriptor = parts.motion_encoder(image)
        base = parts.motion_base()
        return SourceEncoding(
            features=features,
            w_s2r=self.source_query(descriptor, base),
            w_r2s=self.driving_query(descriptor, base),
            domain=domain,
            memory=parts.backward_transformer.memory(features),
        )

    def encode_driving(self, frames: Tensor, domain: Domain) -> Tensor:
        """frames (B, 3, H, W) -> w_{r->d} = T_{r->d}(Em(x_d), p) of shape (B, K, d)."""
        self._check_images(frames, "driving frames")
        parts = self._domain(domain)
        return self.driving_query(parts.motion_encoder(frames), parts.motion_base())

    def relative_motion(self, source: SourceEncoding, w_r2d: Tensor, w_r2start: Tensor, gain: float = 1.0) -> Tensor:
        """Eq. 5: (w_{s->r} + w_{r->s}) + (w_{r->d} - w_{r->1}); w_r2start (1 or B, K, d). -> (B, K, d)

        ``gain`` (ours, 1 = the paper) scales the driver's motion relative to its start frame:
        w_{s->s} + gain (w_{r->d} - w_{r->1}).
        """
        if gain == 1.0:
            return source.w_s2s + (w_r2d - w_r2start)
        return source.w_s2s + gain * (w_r2d - w_r2start)

    def absolute_motion(self, source: SourceEncoding, w_r2d: Tensor) -> Tensor:
        """Eq. 3: w_{s->r} + w_{r->d}. -> (B, K, d)"""
        return source.w_s2r + w_r2d

    def render(self, source: SourceEncoding, w_s2d: Tensor) -> Tensor:
        """x = G(T_B(w_{s->d}, S), S) in the source's domain: (B, 3, H, W). A batch-1 source serves any B."""
        return self.render_with_flow(source, w_s2d)[0]

    def render_with_flow(self, source: SourceEncoding, w_s2d: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`render` plus G's last flow (B, 2, H, W): where each output pixel samples the source, as an
        offset in normalised [-1, 1] coordinates (x, y) (for training's landmark flow term, ours)."""
        B, K, d = w_s2d.shape
        if source.batch_size not in (1, B):
            raise UsageError(f"a source batch of {source.batch_size} cannot render {B} motion codes")
        parts = self._domain(source.domain)
        code = parts.backward_transformer(w_s2d, source.memory)
        return parts.generator.forward_with_flow(code, source.features)

    def forward(
        self, source: Tensor, driving: Tensor, source_domain: str, driving_domain: str | None = None
    ) -> Reenactment:
        """Reenact ``source`` with ``driving`` by absolute motion (Eq. 3); the training reconstruction pass."""
        encoded = self.encode_source(source, check_domain(source_domain))
        w_r2d = self.encode_driving(driving, check_domain(driving_domain or source_domain))
        w_s2d = self.absolute_motion(encoded, w_r2d)
        return Reenactment(image=self.render(encoded, w_s2d), w_s2d=w_s2d)

    def analogy(self, source: SourceEncoding, w_r2a: Tensor, w_r2b: Tensor) -> Analogy:
        """The analogy pass (Eq. 6-8) on encodings the caller already has (training reuses its reconstruction's).

        ``source``: x_s of one domain (its ``w_r2s`` is T_{r->d}(E_m(x_s), p), Eq. 7); ``w_r2a``, ``w_r2b``:
        ``(B, K, d)`` driving codes of two faces a, b of the other domain (Eq. 7). The relative motion a -> b
        drives x_s (Eq. 6 = Eq. 5 with '1' = a, d = b); the synthetic face x_g is re-encoded (Eq. 8).
        """
        image = self.render(source, self.relative_motion(source, w_r2b, w_r2a))
        w_r2g = self.encode_driving(image, source.domain)
        return Analogy(image=image, w_r2s=source.w_r2s, w_r2a=w_r2a, w_r2b=w_r2b, w_r2g=w_r2g)

    # -- stage 2 and parameter groups ----------------------------------------------------------------------
    @torch.no_grad()
    def copy_domain(self, source: str, target: str) -> None:
        """Sec. 3.3: initialise ``target``'s domain-specific components with a copy of ``source``'s."""
        if source == target:
            raise UsageError(f"copy_domain: source and target are both {source!r}")
        self._domain(target).load_state_dict(self._domain(source).state_dict())

    def named_domain_parameters(self, domain: str) -> Iterator[tuple[str, nn.Parameter]]:
        prefix = f"domains.{domain}."
        for name, param in self._domain(domain).named_parameters():
            yield prefix + name, param

    def domain_parameters(self, domain: str) -> Iterator[nn.Parameter]:
        return (p for _, p in self.named_domain_parameters(domain))

    def named_shared_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        for component in SHARED_COMPONENTS:
            for name, param in getattr(self, component).named_parameters():
                yield f"{component}.{name}", param

    def part_parameters(self, part: str) -> Iterator[nn.Parameter]:
        """A training part's parameters (:func:`part_components`)."""
        return (p for _, p in self.named_part_parameters(part))

    def named_part_parameters(self, part: str) -> Iterator[tuple[str, nn.Parameter]]:
        for path in part_components(part):
            for name, param in self.get_submodule(path).named_parameters():
                yield f"{path}.{name}", param

    def parameter_counts(self) -> ParameterCounts:
        parts = self.domains["real"]
        counts = {name: _count(getattr(parts, name)) for name in DOMAIN_COMPONENTS}
        shared = sum(_count(getattr(self, name)) for name in SHARED_COMPONENTS)
        return ParameterCounts(**counts, per_domain=_count(parts), shared=shared, total=_count(self))

    # -- weights: huggingface_hub's method names; the code lives in toontalker.weights -----------------------
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | Path,
        *,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        device: str | torch.device = "cpu",
        dtype: str | torch.dtype | None = None,
    ) -> ToonTalker:
        """A weights folder or hub id ``owner/name[@revision]``, loaded strictly, in eval mode
        (:func:`toontalker.weights.from_pretrained`)."""
        from toontalker.weights import from_pretrained

        return from_pretrained(pretrained_model_name_or_path, revision, device=device, dtype=dtype, cache_dir=cache_dir)

    def save_pretrained(
        self,
        save_directory: str | Path,
        *,
        card: CardInfo | None = None,
        dtype: str | torch.dtype | None = None,
        max_shard_size: int | str = "2GB",
    ) -> Path:
        """config.json, (sharded) safetensors and the model card in ``save_directory``
        (:func:`toontalker.weights.save_pretrained`)."""
        from toontalker.weights import save_pretrained

        return save_pretrained(self, save_directory, card=card, dtype=dtype, max_shard_size=max_shard_size)

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str = "Upload ToonTalker weights",
        private: bool = False,
        token: str | None = None,
        branch: str | None = None,
        card: CardInfo | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> str:
        """Save to a temporary folder and upload it to hub repo ``repo_id``; -> the commit URL
        (:func:`toontalker.weights.push_model`)."""
        from toontalker.weights import push_model

        return push_model(
            self,
            repo_id,
            card=card,
            dtype=dtype,
            revision=branch,
            private=private,
            commit_message=commit_message,
            token=token,
        )
