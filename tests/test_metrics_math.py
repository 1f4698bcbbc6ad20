"""Metric math against independent references: skimage (PSNR/SSIM), scipy (Frechet), hand-made landmarks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toontalker.metrics.base import MetricSummary
from toontalker.metrics.fid import FeatureStats, fid_from_features, frechet_distance
from toontalker.metrics.keypoints import keypoint_distance
from toontalker.metrics.pixel import l1_distance, psnr, ssim


def _pair(seed: int, shape=(3, 3, 40, 56)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(shape, generator=g) * 2 - 1
    b = (a + 0.25 * torch.randn(shape, generator=g)).clamp(-1, 1)
    return a, b


def _hwc01(x: torch.Tensor) -> np.ndarray:
    return ((x.double() + 1) / 2).permute(0, 2, 3, 1).numpy()


def test_psnr_and_ssim_match_skimage():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a, b = _pair(0)
    ours_psnr, ours_ssim = psnr(a, b).numpy(), ssim(a, b).numpy()
    ua, ub = _hwc01(a), _hwc01(b)
    for i in range(a.shape[0]):
        assert ours_psnr[i] == pytest.approx(peak_signal_noise_ratio(ua[i], ub[i], data_range=1.0), rel=1e-9)
        ref = structural_similarity(
            ua[i], ub[i], channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
        assert ours_ssim[i] == pytest.approx(ref, abs=1e-7)


def test_l1_and_identical_images():
    a, b = _pair(1)
    expected = (((a + 1) / 2).double() - ((b + 1) / 2).double()).abs().mean(dim=(1, 2, 3))
    torch.testing.assert_close(l1_distance(a, b), expected)
    assert torch.all(ssim(a, a) > 1 - 1e-9)
    assert torch.all(torch.isinf(psnr(a, a)))
    with pytest.raises(ValueError, match="ssim"):
        ssim(a, b[:, :, :20])


def test_frechet_distance_matches_scipy_sqrtm():
    from scipy import linalg

    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 32))
    b = rng.normal(0.5, 1.0, size=(300, 32)) @ rng.normal(size=(32, 32)) * 0.3
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    reference = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    assert fid_from_features(a, b) == pytest.approx(reference, rel=1e-8)
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_shifted_gaussians_is_squared_shift():
    stats = FeatureStats(np.zeros(4), np.eye(4), 10)
    shifted = FeatureStats(np.full(4, 2.0), np.eye(4), 10)
    assert frechet_distance(stats, shifted) == pytest.approx(16.0)
    with pytest.raises(ValueError):
        FeatureStats.from_features(np.zeros((1, 4)))


def test_akd_on_hand_made_landmarks():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 256, size=(3, 68, 2))
    shifted = base + np.array([3.0, 4.0])  # every point moves by 5 px
    result = keypoint_distance(shifted, base)
    np.testing.assert_allclose(result.per_frame, [5.0, 5.0, 5.0])
    half = base.copy()
    half[1, :34] += np.array([6.0, 8.0])  # half the points move 10 px -> mean 5
    missing = base.copy()
    missing[2] = np.nan  # no face in frame 2 of the output
    result = keypoint_distance(np.stack([base[0], half[1], missing[2]]), base)
    np.testing.assert_allclose(result.per_frame[:2], [0.0, 5.0])
    assert result.scored == 2 and result.skipped == 1
    summary = MetricSummary.from_values("akd", result.per_frame)
    assert summary.value == pytest.approx(2.5) and summary.skipped == 1 and summary.text == "2.500"


def test_ssim_cpu_filter_equals_the_conv_filter():
    from toontalker.metrics.pixel import _filter_valid, gaussian_window

    x = torch.rand(5, 1, 40, 33, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    window = gaussian_window(1.5)
    conv = torch.nn.functional.conv2d(
        torch.nn.functional.conv2d(x, window.view(1, 1, 1, -1)), window.view(1, 1, -1, 1)
    )  # the GPU path's formula
    fast = _filter_valid(x, window)
    assert fast.shape == conv.shape == (5, 1, 30, 23)
    torch.testing.assert_close(fast, conv, rtol=0, atol=1e-13)
