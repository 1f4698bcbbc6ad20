"""Identity metrics from face-recognition embeddings: CSIM (paper Tables 1, 3) and AED (Table 2).

* CSIM: cosine similarity between the embeddings of the source image and the generated frame (higher =
  identity better kept). The paper uses ArcFace.
* AED: in this project AED is the *identity-embedding* sense (FOMM/DaGAN, which the paper follows):
  the Euclidean distance between the embeddings of the generated frame and the driving (ground-truth)
  frame in same-identity reconstruction. (The other sense in the literature, 3DMM expression-coefficient
  distance, is not implemented.) Embeddings are L2-normalised first, so values are in ``[0, 2]``.

Backends: ``arcface`` (IR-SE50, ``model_ir_se50.pth`` in the torch hub cache; no detector, it takes the
bench's face crops with pixel2style2pixel's fixed crop, see :mod:`toontalker.metrics.arcface`) for
``csim``/``aed``; and the offline ``dlib`` ResNet (128-d after HOG detection and 5-point alignment, shipped
by face-recognition-models) for ``csim-dlib``/``aed-dlib``, whose numbers are not comparable with ArcFace
ones. With dlib, frames without a detected face are skipped and counted.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from toontalker.cache import find_weights, known_weights, packaged_model
from toontalker.metrics.base import MetricUnavailable
from toontalker.metrics.keypoints import DlibFaceFinder


class IdentityBackend(Protocol):
    name: str

    def embedding(self, rgb: np.ndarray) -> np.ndarray | None:
        """``(H, W, 3)`` uint8 -> ``(D,)`` unit-norm embedding of the most prominent face, or None."""


def embed_all(backend: IdentityBackend, frames: np.ndarray) -> list[np.ndarray | None]:
    return [backend.embedding(frame) for frame in frames]


def cosine_similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Cosine of two embeddings; NaN when either face was not found."""
    if a is None or b is None:
        return float("nan")
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def embedding_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Euclidean distance of the L2-normalised embeddings; NaN when either face was not found."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(a / np.linalg.norm(a) - b / np.linalg.norm(b)))


class DlibIdentity:
    """dlib's face-recognition ResNet (128-d) after 5-point alignment: the offline ``*-dlib`` metrics."""

    name = "dlib"

    def __init__(self, metric: str = "csim-dlib") -> None:
        self._faces = DlibFaceFinder(metric)
        self._predictor = self._faces.shape_predictor("dlib-landmarks-5", metric)
        model = packaged_model("dlib-face-recognition")
        if model.path is None:
            raise MetricUnavailable(metric, model.how_to_get())
        self._encoder = self._faces.dlib.face_recognition_model_v1(str(model.path))

    def embedding(self, rgb: np.ndarray) -> np.ndarray | None:
        rgb = np.ascontiguousarray(rgb)
        face = self._faces.largest_face(rgb)
        if face is None:
            return None
        shape = self._predictor(rgb, face)
        vector = np.asarray(self._encoder.compute_face_descriptor(rgb, shape), dtype=np.float64)
        return vector / np.linalg.norm(vector)


def load_identity_backend(metric: str, device: str = "cpu") -> IdentityBackend:
    """The embedding backend for ``csim``/``aed`` (ArcFace) or ``csim-dlib``/``aed-dlib``."""
    if metric.endswith("-dlib"):
        return DlibIdentity(metric)
    if metric in ("csim", "aed"):
        if find_weights("arcface-ir-se50") is None:
            raise MetricUnavailable.missing_weights(metric, known_weights("arcface-ir-se50"))
        from toontalker.metrics.arcface import load_arcface

        return load_arcface(metric, device)
    raise ValueError(f"unknown identity metric {metric!r}")
