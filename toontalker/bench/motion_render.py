"""How `bench motion` runs the model over a pair's driving frames: torch, or animate's ONNX per-frame core.

Both compute the same reenactment as ``bench quality`` (:func:`toontalker.bench.quality.reenact_clip`): the
source is encoded once by the torch model, the first driving frame is the reference of relative motion
(Eq. 5), and the driving frames go through in batches. ``onnx`` runs the per-frame work (motion encoder,
T_B, generator) as the exported :class:`~toontalker.animation.core.FrameCore` graph with onnxruntime, as
``toontalker animate --backend onnx`` does: on a CPU it takes under half the CPU time of eager torch (the
weights are constants there, so e.g. the blur folded into every downsampling conv is computed once). The graph
of each (source domain, driving domain) is exported once per set of weights and cached under
``$TOONTALKER_HOME/onnx``; each pair opens an onnxruntime session on it (animate's ``CoreRunner``).

Outputs agree with torch to ~1e-4 (fp32, [-1, 1]), but FaceMesh on cartoon outputs turns such one-level
pixel changes into r differences of up to 0.34 on a pair, so torch stays the default (docs/bench.md).
"""

from __future__ import annotations

from typing import Literal

import torch

from toontalker.animation.core import Reenactor
from toontalker.bench.options import MOTION_BACKENDS as BACKENDS
from toontalker.bench.quality import reenact_clip
from toontalker.conventions import Domain
from toontalker.errors import BackendUnavailableError, UsageError


def onnx_unusable(model: Reenactor, device: str) -> str | None:
    """Why the ONNX core cannot render for ``model`` on ``device`` (None: it can)."""
    from toontalker.model.toontalker import ToonTalker

    if not str(device).startswith("cpu"):
        return f"the onnx backend runs on the CPU (device is {device})"
    if not isinstance(model, ToonTalker):
        return f"the onnx backend exports a ToonTalker model, not {type(model).__name__}"
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return 'the onnx backend needs onnx and onnxruntime (pip install "toontalker[onnx]")'
    return None


def choose_backend(backend: str, model: Reenactor, device: str) -> Literal["torch", "onnx"]:
    """``auto`` -> onnx where usable (the faster on a CPU), else torch; ``onnx`` where unusable raises."""
    if backend not in BACKENDS:
        raise UsageError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    reason = onnx_unusable(model, device) if backend != "torch" else None
    if backend == "onnx" and reason is not None:
        raise BackendUnavailableError(reason)
    if backend == "auto":
        return "torch" if reason is not None else "onnx"
    return backend  # type: ignore[return-value]  # "torch" or "onnx" here: BACKENDS checked above


class ClipRenderer:
    """``renderer(source (1, 3, S, S), source_domain, driving (N, 3, S, S), driving_domain)`` -> outputs
    (N, 3, S, S) float32 on the CPU, clamped to [-1, 1] (inputs in [-1, 1]). Both backends run animate's
    per-batch step (:class:`~toontalker.animation.core.CoreRunner`, through
    :func:`~toontalker.bench.quality.reenact_clip`); onnx reuses the exported graph cached per weights and
    domain pair."""

    def __init__(
        self,
        model: Reenactor,
        backend: Literal["torch", "onnx"],
        *,
        batch_size: int = 16,
        motion: Literal["relative", "absolute"] = "relative",
        motion_gain: float = 1.0,
    ) -> None:
        self.model, self.backend, self.batch_size, self.motion = model, backend, batch_size, motion
        self.motion_gain = motion_gain

    @torch.inference_mode()
    def __call__(
        self, source: torch.Tensor, source_domain: Domain, driving: torch.Tensor, driving_domain: Domain
    ) -> torch.Tensor:
        return reenact_clip(
            self.model,
            source,
            source_domain,
            driving,
            driving_domain=driving_domain,
            batch_size=self.batch_size,
            motion=self.motion,
            backend=self.backend,
            motion_gain=self.motion_gain,
        )
