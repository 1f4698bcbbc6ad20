"""The options of ``dataset build`` (:class:`BuildConfig`), ``dataset import`` (:class:`ImportOptions`) and
``dataset convert`` (:class:`ConvertOptions`).

Light on purpose (no numpy or OpenCV at import; the checks import what they need): the CLI takes its
defaults from these dataclasses (toontalker/cli/dataset.py), so a default changed here changes the command's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from toontalker.config import ConfigBase
from toontalker.conventions import CROP_SCALE, DOMAINS

if TYPE_CHECKING:
    from toontalker.faces.tracking import TrackConfig

SCENE_DETECTORS = ("content", "adaptive", "none")


@dataclass(frozen=True)
class BuildConfig(ConfigBase):
    """How ``dataset build`` turns raw videos into clips (saved as build-<domain>.json in the output folder)."""

    domain: str = "real"
    size: int = 256
    format: str = "jpg"
    detector: str = "auto"
    scale: float = CROP_SCALE
    min_frames: int = 25
    max_frames: int = 0
    min_face: int = 48
    iou_threshold: float = 0.3  # = faces.tracking.DATASET_TRACKING.min_iou (a test checks)
    max_lost: int = 5  # = DATASET_TRACKING.patience
    detect_every: int = 1
    smooth: int = 5
    scene_detector: str = "content"
    scene_threshold: float = 27.0
    no_crop: bool = False
    box: str = ""
    identity_from: str = "stem"
    identity_pattern: str = ""
    landmarks: bool = True  # FaceMesh landmarks of every clip (dataset/landmarks.py); not a clip setting

    PRESETS: ClassVar[dict[str, dict]] = {"default": {}, "cartoon": {"domain": "cartoon"}}

    def __post_init__(self) -> None:
        from toontalker.dataset.storage import FORMATS
        from toontalker.faces import Box
        from toontalker.faces.detectors import BACKENDS

        self._check(self.domain in DOMAINS, f"domain must be one of {DOMAINS}, got {self.domain!r}")
        self._check(self.size >= 16, f"size must be >= 16, got {self.size}")
        self._check(self.format in FORMATS, f"format must be one of {FORMATS}, got {self.format!r}")
        self._check(
            self.detector == "auto" or self.detector in BACKENDS,
            f"detector must be auto or one of {tuple(BACKENDS)}, got {self.detector!r}",
        )
        self._check(self.scale >= 1.0, f"scale must be >= 1, got {self.scale}")
        self._check(self.min_frames >= 1, "min_frames must be >= 1")
        self._check(
            self.max_frames == 0 or self.max_frames >= self.min_frames,
            "max_frames must be 0 (no limit) or >= min_frames",
        )
        self._check(self.min_face >= 0, "min_face must be >= 0")
        self._check(0.0 < self.iou_threshold < 1.0, "iou_threshold must be in (0, 1)")
        self._check(
            self.max_lost >= 0 and self.detect_every >= 1 and self.smooth >= 1,
            "max_lost >= 0, detect_every >= 1 and smooth >= 1 are required",
        )
        self._check(
            self.scene_detector in SCENE_DETECTORS,
            f"scene_detector must be one of {SCENE_DETECTORS}, got {self.scene_detector!r}",
        )
        self._check(not (self.no_crop and self.box), "no_crop and box exclude each other")
        if self.box:
            Box.parse(self.box)

    @property
    def tracking(self) -> TrackConfig:
        """How this build follows a face (:data:`~toontalker.faces.tracking.DATASET_TRACKING` by default)."""
        from toontalker.faces.tracking import TrackConfig

        return TrackConfig(min_iou=self.iou_threshold, nested_centres=True, patience=self.max_lost)

    @property
    def needs_detector(self) -> bool:
        return not (self.no_crop or self.box)


@dataclass(frozen=True)
class ImportOptions:
    domain: str = "real"
    size: int = 256
    format: str = "jpg"
    fps: float = 25.0  # for frame folders
    min_frames: int = 2
    identity_from: str = "parent"
    identity_pattern: str = ""
    landmarks: bool = True  # FaceMesh landmarks of every imported clip


@dataclass(frozen=True)
class ConvertOptions:
    """``format``: the new clip format (jpg, png, npy, mp4); ``jpeg_quality`` for jpg; ``overwrite``: rewrite
    clips that a previous run already converted."""

    format: str = "jpg"
    jpeg_quality: int = 95
    overwrite: bool = False

    def __post_init__(self) -> None:
        from toontalker.dataset.storage import FORMATS
        from toontalker.errors import UsageError

        if self.format not in FORMATS:
            raise UsageError(f"format must be one of {FORMATS}, got {self.format!r}")
        if not 1 <= self.jpeg_quality <= 100:
            raise UsageError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
