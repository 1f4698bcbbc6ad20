"""Typed metric results, and the rule that a metric without its weights reports *why*, never a number.

Every metric in :mod:`toontalker.metrics` is addressed by a stable name (``"lpips"``, ``"csim-dlib"``...).
A backend that cannot run (its weights are not in the standard cache, an optional package is missing)
raises :class:`MetricUnavailable` when it is built; the bench turns that into a
:class:`MetricSummary` whose ``unavailable`` text replaces the number in every table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from toontalker.cache import KnownWeights
from toontalker.errors import BackendUnavailableError


class MetricUnavailable(BackendUnavailableError):
    """A metric backend cannot run here; ``str(error)`` is the text its column shows."""

    def __init__(self, metric: str, reason: str) -> None:
        super().__init__(f"unavailable: {reason}")
        self.metric = metric
        self.reason = reason

    @classmethod
    def missing_weights(cls, metric: str, weights: KnownWeights) -> MetricUnavailable:
        return cls(metric, f"{weights.filename} missing ({weights.how_to_get()})")


@dataclass(frozen=True)
class MetricSummary:
    """One metric over a set of images: the mean, or the reason it could not be computed.

    ``count`` images were scored; ``skipped`` were left out (e.g. no face detected). ``higher_is_better``
    drives the arrows in reports.
    """

    name: str
    value: float | None
    count: int = 0
    skipped: int = 0
    unavailable: str | None = None
    higher_is_better: bool = False

    def __post_init__(self) -> None:
        if self.value is not None and self.unavailable is not None:
            raise ValueError(f"MetricSummary {self.name}: a value and an unavailable reason at once")

    @property
    def text(self) -> str:
        """The table cell: the number, or ``unavailable: ...`` / ``no frames scored``."""
        if self.unavailable is not None:
            return self.unavailable
        if self.value is None:
            return f"no frames scored ({self.skipped} skipped)"
        return format_metric(self.value)

    @property
    def short_text(self) -> str:
        """:attr:`text` without the how-to-get hint (tables put the full reason in a footnote)."""
        if self.unavailable is not None:
            return self.unavailable.split(" (", 1)[0]
        return self.text

    @classmethod
    def from_values(cls, name: str, values: np.ndarray, higher_is_better: bool = False) -> MetricSummary:
        """Mean over the finite entries of ``values``; NaN entries count as skipped."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = values[np.isfinite(values)]
        skipped = int(values.size - finite.size)
        if finite.size == 0:
            return cls(name, None, 0, skipped, None, higher_is_better)
        return cls(name, float(finite.mean()), int(finite.size), skipped, None, higher_is_better)

    @classmethod
    def from_unavailable(cls, error: MetricUnavailable, higher_is_better: bool = False) -> MetricSummary:
        return cls(error.metric, None, 0, 0, str(error), higher_is_better)


def format_metric(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.2f}"
    if magnitude >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` in ``[-1, 1]`` -> ``[0, 1]`` float32 (clamped)."""
    return ((images.float() + 1.0) * 0.5).clamp(0.0, 1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` in ``[-1, 1]`` -> ``(B, H, W, 3)`` uint8 RGB arrays."""
    unit = to_unit_range(images.detach().cpu())
    return (unit * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def check_pair(generated: torch.Tensor, target: torch.Tensor, metric: str) -> None:
    if generated.shape != target.shape or generated.dim() != 4 or generated.shape[1] != 3:
        raise ValueError(
            f"{metric}: expected two (B, 3, H, W) batches of one shape, got {tuple(generated.shape)} "
            f"and {tuple(target.shape)}"
        )
