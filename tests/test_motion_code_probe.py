"""scripts/motion_code_probe.py: the leave-one-person-out (kernel) ridge probe finds what is there and only that."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "motion_code_probe.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("motion_code_probe", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clips(rng: np.random.Generator, people: int = 6, per_person: int = 2, frames: int = 30, dim: int = 40):
    """Features per clip with a person-specific offset (removed by the per-clip centring) and two signals:
    one linear in the features, one a pure noise column."""
    xs, ys, who = [], [], []
    weights = rng.normal(size=dim)
    for p in range(people):
        offset = rng.normal(scale=5.0, size=dim)
        for _ in range(per_person):
            x = rng.normal(size=(frames, dim))
            ys.append(np.column_stack([x @ weights + 0.1 * rng.normal(size=frames), rng.normal(size=frames)]))
            xs.append(x + offset)
            who.append(f"p{p}")
    return xs, ys, who


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_probe_reads_a_present_signal_and_not_noise(probe, kernel: str) -> None:
    xs, ys, who = _clips(np.random.default_rng(0))
    r2 = np.stack([probe.ridge_r2(xs, ys, who, alpha, kernel) for alpha in probe.RIDGE]).max(0)
    assert r2.shape == (2,)
    assert r2[0] > (0.95 if kernel == "linear" else 0.8), r2  # the signal that is in the features
    assert r2[1] < 0.1, r2  # noise: nothing to read, whatever the ridge
