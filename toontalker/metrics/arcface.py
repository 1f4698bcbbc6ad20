"""ArcFace IR-SE50 identity embeddings for ``csim`` / ``aed``.

The network is not part of this build yet: with ``model_ir_se50.pth`` cached, the metric still reports
itself unavailable (never a number from an unverified network). Use ``csim-dlib`` / ``aed-dlib`` offline.
"""

from __future__ import annotations

from toontalker.metrics.base import MetricUnavailable


def load_arcface(metric: str, device: str = "cpu"):
    raise MetricUnavailable(metric, "model_ir_se50.pth is cached but the ArcFace IR-SE50 network is not "
                            "implemented in this build (use csim-dlib / aed-dlib)")
