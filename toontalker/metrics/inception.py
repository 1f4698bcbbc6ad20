"""The FID Inception v3 feature extractor (pool3, 2048-d) with pytorch-fid's converted TF 2015-12-05 weights.

Not part of this build yet: FID reports ``unavailable`` (the file missing, or the network not implemented)
rather than a number from an unverified network. The Frechet distance itself is :mod:`toontalker.metrics.fid`.
"""

from __future__ import annotations

from toontalker.cache import find_weights, known_weights
from toontalker.metrics.base import MetricUnavailable


def load_fid_inception(device: str = "cpu"):
    if find_weights("inception-fid") is None:
        raise MetricUnavailable.missing_weights("fid", known_weights("inception-fid"))
    raise MetricUnavailable("fid", "pt_inception-2015-12-05-6726825d.pth is cached but the FID Inception v3 "
                            "network is not implemented in this build")
