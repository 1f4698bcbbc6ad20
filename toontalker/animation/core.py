"""The per-batch animate step, one home: :class:`CoreRunner` (eager, ``torch.compile``, onnxruntime).

The source is encoded once; what runs for every batch of driving crops is

    w_{r->d} = T_{r->d}(Em(x_d), p)                (encode_driving)
    w_{s->d} = offset + w_{r->d}                   (Eq. 5 or Eq. 3, see :func:`motion_offset`)
    x        = G(T_B(w_{s->d}, S), S)              (render)

``CoreRunner(model, src, driving_domain, ...)(frames)`` is that step for ``animate``, ``bench quality`` /
``bench motion`` (:func:`toontalker.bench.quality.reenact_clip`), ``bench speed`` (which times exactly it) and
the tests. Any :class:`Reenactor` runs through it (the bench's no-reenactment baselines too).
:class:`FrameCore` is the same computation with the encoded source flattened to plain tensors
(:func:`flatten_source`): S (one tensor per resolution, low -> high) and T_B's keys/values, so the whole
thing can be traced (ONNX) or compiled without the :class:`~toontalker.model.toontalker.SourceEncoding`
dataclass in its signature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import torch
from torch import Tensor, nn

from toontalker.animation.options import Backend
from toontalker.conventions import Domain
from toontalker.errors import UsageError
from toontalker.model.toontalker import SourceEncoding, ToonTalker

Motion = Literal["relative", "absolute"]


class Reenactor(Protocol):
    """What the per-batch step needs of a model: :class:`toontalker.model.ToonTalker`'s typed API
    (docs/architecture.md); the bench's baselines implement it too."""

    def encode_source(self, image: Tensor, domain: Domain) -> Any: ...
    def encode_driving(self, frames: Tensor, domain: Domain) -> Tensor: ...
    def relative_motion(self, src: Any, w_r2d: Tensor, w_r2start: Tensor, gain: float = 1.0) -> Tensor: ...
    def absolute_motion(self, src: Any, w_r2d: Tensor) -> Tensor: ...
    def render(self, src: Any, w_s2d: Tensor) -> Tensor: ...


def motion_offset(src: SourceEncoding, motion: Motion, reference: Tensor | None = None, gain: float = 1.0) -> Tensor:
    """The frame-independent part of w_{s->d}: (1, K, d).

    Relative (Eq. 5): (w_{s->r} + w_{r->s}) - gain w_{r->1}; absolute (Eq. 3): w_{s->r}. Then
    w_{s->d} = offset + gain w_{r->d} (``gain``: ours, relative motion only; 1 = the paper).
    """
    if motion == "absolute":
        return src.w_s2r
    if reference is None:
        raise ValueError("relative motion needs the reference frame's code w_{r->1}")
    return src.w_s2s - reference if gain == 1.0 else src.w_s2s - gain * reference


def flatten_source(src: SourceEncoding) -> tuple[Tensor, ...]:
    """S_1..S_n (low -> high resolution), then keys_1, values_1, ..., keys_m, values_m of T_B."""
    return (*src.features, *(t for kv in src.memory for t in kv))


class FrameCore(nn.Module):
    """forward(frames (B, 3, H, W) in [-1, 1], offset (1, K, d), *flatten_source(src)) -> images (B, 3, H, W).

    The source tensors have batch 1 and broadcast over the B driving frames.
    """

    def __init__(
        self, model: ToonTalker, source_domain: Domain, driving_domain: Domain, num_features: int, gain: float = 1.0
    ) -> None:
        super().__init__()
        self.model = model
        self.source_domain = source_domain
        self.driving_domain = driving_domain
        self.num_features = num_features
        self.gain = gain  # relative motion's gain (motion_offset); 1: the graph is exactly Eq. 5's

    def forward(self, frames: Tensor, offset: Tensor, *source: Tensor) -> Tensor:
        features = tuple(source[: self.num_features])
        flat = source[self.num_features :]
        memory = tuple((flat[i], flat[i + 1]) for i in range(0, len(flat), 2))
        src = SourceEncoding(features=features, w_s2r=offset, w_r2s=offset, domain=self.source_domain, memory=memory)
        w_r2d = self.model.encode_driving(frames, self.driving_domain)
        return self.model.render(src, offset + (w_r2d if self.gain == 1.0 else self.gain * w_r2d))


def pad_batch(frames: Tensor, size: int) -> Tensor:
    """(n, 3, H, W) -> (size, 3, H, W), the last frame repeated: a compiled core then sees one shape only."""
    n = frames.shape[0]
    if n >= size:
        return frames
    return torch.cat((frames, frames[-1:].expand(size - n, -1, -1, -1)), dim=0)


class CoreRunner:
    """The per-batch animate step for one encoded source: torch eager, ``torch.compile``d, or onnxruntime.

    ``runner(frames (B, 3, H, W)) -> images (B, 3, H, W)``. Relative motion uses ``reference`` (w_{r->1},
    (1, K, d)), or the first frame it is given when that is None. The eager path calls the model's public API
    (encode_driving, relative/absolute_motion, render); the compiled and ONNX paths run :class:`FrameCore`,
    the compiled one on batches padded to ``batch_size`` (one compilation, not one per batch shape).
    """

    def __init__(
        self,
        model: Reenactor,
        src: SourceEncoding,
        driving_domain: Domain,
        *,
        motion: Motion = "relative",
        reference: Tensor | None = None,
        backend: Backend = "torch",
        compile_mode: str | None = None,
        batch_size: int = 16,
        onnx_path: str | Path | None = None,
        motion_gain: float = 1.0,
    ) -> None:
        if motion_gain != 1.0 and (backend == "onnx" or motion == "absolute"):
            raise UsageError(
                f"motion_gain {motion_gain:g} applies to relative motion on the torch backend "
                f"(asked: {motion} motion, {backend} backend)"
            )
        self.model, self.src, self.driving_domain = model, src, driving_domain
        self.motion, self.reference, self.gain = motion, reference, motion_gain
        self.batch_size = batch_size
        self.core: Callable[..., Tensor] | None = None
        self.onnx = None
        if backend == "onnx":
            from toontalker.animation.onnx_core import OnnxFrameCore, cached_export

            path = onnx_path if onnx_path is not None else cached_export(model, src.domain, driving_domain)
            self.onnx = OnnxFrameCore(path)
            self.onnx.set_source(flatten_source(src))
        elif compile_mode is not None:
            core = FrameCore(model, src.domain, driving_domain, len(src.features), gain=motion_gain).eval()  # type: ignore[arg-type]  # compiling needs the ToonTalker
            self.core = torch.compile(core, mode=compile_mode, dynamic=False)

    def __call__(self, frames: Tensor) -> Tensor:
        if self.onnx is None and self.core is None:
            n = frames.shape[0]
            if frames.device.type == "cuda" and n < self.batch_size:
                # one batch shape on CUDA: cuDNN autotunes each new shape again (seconds to tens of seconds)
                return self._eager(pad_batch(frames, self.batch_size))[:n]
            return self._eager(frames)
        if self.motion == "relative" and self.reference is None:
            self.reference = self.model.encode_driving(frames[:1], self.driving_domain)
        offset = motion_offset(self.src, self.motion, self.reference, gain=self.gain)
        if self.onnx is not None:
            return self.onnx(frames, offset)
        assert self.core is not None  # neither eager nor onnx: compiled
        n = frames.shape[0]
        # one memory layout too (a padded batch is NCHW, a streamed one channels_last): else a recompilation
        padded = pad_batch(frames, self.batch_size).contiguous(memory_format=torch.channels_last)
        return self.core(padded, offset, *flatten_source(self.src))[:n]

    def _eager(self, frames: Tensor) -> Tensor:
        w_r2d = self.model.encode_driving(frames, self.driving_domain)
        if self.motion == "absolute":
            return self.model.render(self.src, self.model.absolute_motion(self.src, w_r2d))
        if self.reference is None:  # the first frame of the stream is the reference
            self.reference = w_r2d[:1]
        w_s2d = self.model.relative_motion(self.src, w_r2d, self.reference.expand_as(w_r2d), gain=self.gain)
        return self.model.render(self.src, w_s2d)
