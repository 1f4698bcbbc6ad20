"""Scoring reenacted clips with a set of metrics; backends that cannot run are recorded, never guessed.

:class:`MetricSuite` builds each requested metric's backend once. A metric whose backend raises
:class:`~toontalker.metrics.MetricUnavailable` is kept in :attr:`MetricSuite.unavailable` and reported as
``unavailable: ...`` in every table. :meth:`MetricSuite.score_clip` returns per-frame values (NaN where a
face was not found); distribution metrics (FID) collect features across clips and are summarised once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from toontalker.errors import UsageError
from toontalker.metrics import METRICS, MetricSummary, MetricUnavailable, metric_spec
from toontalker.metrics.cpbd import cpbd_batch
from toontalker.metrics.fid import fid_from_features
from toontalker.metrics.identity import cosine_similarity, embed_all, embedding_distance, load_identity_backend
from toontalker.metrics.keypoints import detect_all, keypoint_distance, load_landmark_backend
from toontalker.metrics.lpips import load_lpips
from toontalker.metrics.pixel import l1_distance, psnr, ssim

FeatureExtractor = Callable[[torch.Tensor], np.ndarray]  # (B, 3, H, W) in [-1, 1] -> (B, D)


def load_fid_extractor(device: str) -> FeatureExtractor:
    from toontalker.metrics.inception import load_fid_inception

    return load_fid_inception(device)


@dataclass(frozen=True)
class Clip:
    """One reenacted pair, all ``(N, ...)`` aligned frame by frame; ``target`` is the ground truth (or the
    driving frames when there is none) and ``source`` the single source image ``(1, ...)``."""

    generated: torch.Tensor  # (N, 3, H, W) in [-1, 1]
    generated_u8: np.ndarray  # (N, H, W, 3)
    driving_u8: np.ndarray  # (N, H, W, 3)
    source_u8: np.ndarray  # (1, H, W, 3)
    target: torch.Tensor | None = None  # (N, 3, H, W) ground truth, for reconstruction metrics
    target_u8: np.ndarray | None = None


@dataclass
class MetricSuite:
    """The backends for ``metrics`` on ``device``; see module docstring."""

    metrics: tuple[str, ...]
    device: str = "cpu"
    fid_extractor: FeatureExtractor | None = None
    backend_cache: dict[str, object] = field(default_factory=dict)  # share between suites of one run
    unavailable: dict[str, MetricUnavailable] = field(default_factory=dict)
    _backends: dict[str, Any] = field(default_factory=dict)  # per metric kind: a network, a detector, an embedder
    _features: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        known = {spec.name for spec in METRICS}
        unknown = [m for m in self.metrics if m not in known]
        if unknown:
            raise UsageError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for name in self.metrics:
            if name not in self.backend_cache:
                try:
                    self.backend_cache[name] = self._build(name)
                except MetricUnavailable as error:
                    self.backend_cache[name] = error
            built = self.backend_cache[name]
            if isinstance(built, MetricUnavailable):
                self.unavailable[name] = built
            else:
                self._backends[name] = built

    def _build(self, name: str) -> object | None:
        kind = metric_spec(name).kind
        if name == "lpips":
            return load_lpips(self.device)
        if name == "fid":
            return self.fid_extractor if self.fid_extractor is not None else load_fid_extractor(self.device)
        if kind == "landmarks":
            return load_landmark_backend(name, self.device)
        if kind in ("identity-source", "identity-driving"):
            return load_identity_backend(name, self.device)
        return None

    @property
    def active(self) -> list[str]:
        return [m for m in self.metrics if m not in self.unavailable]

    def score_clip(self, clip: Clip) -> dict[str, np.ndarray]:
        """Per-frame values ``(N,)`` of every active per-frame metric (FID features are only collected)."""
        out: dict[str, np.ndarray] = {}
        for name in self.active:
            kind = metric_spec(name).kind
            backend = self._backends[name]
            if kind == "reconstruction":
                if clip.target is None:
                    continue
                out[name] = self._reconstruction(name, backend, clip)
            elif kind == "sharpness":
                out[name] = cpbd_batch(clip.generated_u8)
            elif kind == "distribution":
                self._features.append(np.asarray(backend(clip.generated)))
            elif kind == "landmarks":
                reference = clip.target_u8 if clip.target_u8 is not None else clip.driving_u8
                out[name] = keypoint_distance(
                    detect_all(backend, clip.generated_u8), detect_all(backend, reference)
                ).per_frame
            elif kind == "identity-source":
                source = backend.embedding(clip.source_u8[0])
                out[name] = np.array([cosine_similarity(source, e) for e in embed_all(backend, clip.generated_u8)])
            elif kind == "identity-driving":
                reference = clip.target_u8 if clip.target_u8 is not None else clip.driving_u8
                pairs = zip(embed_all(backend, clip.generated_u8), embed_all(backend, reference))
                out[name] = np.array([embedding_distance(a, b) for a, b in pairs])
        return out

    def _reconstruction(self, name: str, backend: Any, clip: Clip) -> np.ndarray:
        assert clip.target is not None  # the caller skips clips without one
        generated, target = clip.generated, clip.target.to(clip.generated.device)
        if name == "lpips":
            values = backend(generated.to(self.device), target.to(self.device))
        else:
            values = {"l1": l1_distance, "psnr": psnr, "ssim": ssim}[name](generated, target)
        return values.double().cpu().numpy()

    def reference_features(self, frames: torch.Tensor) -> np.ndarray | None:
        """FID features of reference frames (None when FID is not active)."""
        if "fid" not in self.active:
            return None
        return np.asarray(self._backends["fid"](frames))

    def take_generated_features(self) -> np.ndarray | None:
        """The FID features collected since the last call, ``(N, D)`` (None when FID is not active)."""
        if "fid" not in self.active or not self._features:
            return None
        features, self._features = np.concatenate(self._features), []
        return features

    def summarise(
        self, per_frame: dict[str, list[np.ndarray]], fid_value: float | None = None, fid_count: int = 0
    ) -> dict[str, MetricSummary]:
        """Per-metric means over all frames of a run (NaNs counted as skipped)."""
        summaries: dict[str, MetricSummary] = {}
        for name in self.metrics:
            better = metric_spec(name).higher_is_better
            if name in self.unavailable:
                summaries[name] = MetricSummary.from_unavailable(self.unavailable[name], better)
            elif name == "fid":
                summaries[name] = (
                    MetricSummary(name, fid_value, fid_count, 0, None, better)
                    if fid_value is not None
                    else MetricSummary(name, None, 0, 0, "unavailable: too few frames for FID", better)
                )
            elif per_frame.get(name):
                summaries[name] = MetricSummary.from_values(name, np.concatenate(per_frame[name]), better)
        return summaries


def compute_fid(generated: np.ndarray | None, reference: np.ndarray | None) -> float | None:
    if generated is None or reference is None or len(generated) < 2 or len(reference) < 2:
        return None
    return fid_from_features(generated, reference)
