"""FID (Heusel et al. 2017): the realism metric of paper Tables 1, 3-7.

The Frechet distance between two Gaussians fitted to image features,
``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. The trace of the matrix square root is computed as the
sum of square roots of the eigenvalues of the symmetric PSD matrix ``S1^(1/2) S2 S1^(1/2)`` (same
spectrum as ``S1 S2``), which needs no complex ``sqrtm`` and stays real for rank-deficient covariances.

Features: the pool3 (2048-d) output of the FID Inception v3 with the TF 2015-12-05 weights as pytorch-fid
ships them (``pt_inception-2015-12-05-6726825d.pth``), see :mod:`toontalker.metrics.inception`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FeatureStats:
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``count`` feature vectors."""

    mean: np.ndarray
    cov: np.ndarray
    count: int

    @classmethod
    def from_features(cls, features: np.ndarray) -> FeatureStats:
        """``(N, D)`` features (N >= 2) -> their mean and unbiased covariance."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"FID needs (N >= 2, D) features, got shape {features.shape}")
        return cls(features.mean(axis=0), np.cov(features, rowvar=False), int(features.shape[0]))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (negative round-off eigenvalues clipped)."""
    eigvals, eigvecs = np.linalg.eigh((matrix + matrix.T) * 0.5)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """The Frechet distance between the Gaussians ``a`` and ``b``."""
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"FID: feature sizes differ ({a.mean.shape[0]} vs {b.mean.shape[0]})")
    root_a = _sqrt_psd(a.cov)
    middle = root_a @ b.cov @ root_a
    eig = np.linalg.eigvalsh((middle + middle.T) * 0.5)
    trace_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = a.mean - b.mean
    return float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2.0 * trace_sqrt)


def fid_from_features(generated: np.ndarray, reference: np.ndarray) -> float:
    """FID between two ``(N, D)`` feature sets."""
    return frechet_distance(FeatureStats.from_features(generated), FeatureStats.from_features(reference))
