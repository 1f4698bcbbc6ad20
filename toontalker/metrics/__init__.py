"""Evaluation metrics, one module per family; each backend says when its weights are missing.

:data:`METRICS` names every metric the bench can report, what it compares and which way is better. The
paper's metric names (``lpips``, ``fid``, ``csim``, ``akd``, ``aed``) always mean the paper's backends;
offline substitutes carry their own names (``csim-dlib``, ``aed-dlib``, ``akd-dlib``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from toontalker.metrics.base import MetricSummary, MetricUnavailable

MetricKind = Literal["reconstruction", "sharpness", "identity-source", "identity-driving", "landmarks", "distribution"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, what it compares (``kind``), its direction and one-line description."""

    name: str
    kind: MetricKind
    higher_is_better: bool
    description: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("l1", "reconstruction", False, "mean absolute error vs the ground-truth frame, [0,1] scale"),
    MetricSpec("psnr", "reconstruction", True, "peak signal-to-noise ratio vs the ground-truth frame, dB"),
    MetricSpec("ssim", "reconstruction", True, "structural similarity vs the ground-truth frame (Gaussian 11x11)"),
    MetricSpec("lpips", "reconstruction", False, "LPIPS v0.1 AlexNet vs the ground-truth frame"),
    MetricSpec("cpbd", "sharpness", True, "cumulative probability of blur detection of the output (grayscale)"),
    MetricSpec("fid", "distribution", False, "Frechet Inception distance, outputs vs reference frames"),
    MetricSpec("csim", "identity-source", True, "ArcFace cosine similarity, source vs output"),
    MetricSpec("csim-dlib", "identity-source", True, "dlib ResNet cosine similarity, source vs output (offline)"),
    MetricSpec("aed", "identity-driving", False, "ArcFace identity-embedding distance, output vs ground truth"),
    MetricSpec("aed-dlib", "identity-driving", False, "dlib identity-embedding distance, output vs ground truth"),
    MetricSpec("akd", "landmarks", False, "FAN 68-landmark distance (px), output vs driving"),
    MetricSpec("akd-dlib", "landmarks", False, "dlib 68-landmark distance (px), output vs driving (offline)"),
)


def metric_spec(name: str) -> MetricSpec:
    for spec in METRICS:
        if spec.name == name:
            return spec
    raise KeyError(name)


__all__ = ["METRICS", "MetricKind", "MetricSpec", "MetricSummary", "MetricUnavailable", "metric_spec"]
