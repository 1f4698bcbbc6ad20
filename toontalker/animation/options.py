"""What ``animate`` can be told besides its paths and weights: :class:`AnimateOptions`, its one home.

Light on purpose (no torch, numpy or OpenCV at import): the CLI takes its defaults from here
(toontalker/cli/animate.py), so a default changed here changes ``toontalker animate``'s too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from toontalker.config import ConfigBase
from toontalker.conventions import CROP_SCALE, DOMAINS, Domain

Backend = Literal["torch", "onnx"]  # the per-frame core: torch, or onnxruntime (animation/onnx_core.py)


@dataclass(frozen=True)
class AnimateOptions(ConfigBase):
    """Everything ``animate`` can be told besides its three paths (and the weights)."""

    PRESETS: ClassVar[dict] = {}

    source_domain: Domain = "cartoon"
    driving_domain: Domain = "real"
    detector: str = "auto"  # faces/ backend for both sides ("auto" picks per domain)
    source_box: tuple[float, float, float, float] | None = None  # the source face, pixels X0,Y0,X1,Y1
    no_crop_source: bool = False  # the source is already a face crop
    no_crop_driving: bool = False  # the driver is already cropped to the face
    crop_scale: float = CROP_SCALE  # crop side = crop_scale x the face box's longer side
    detect_every: int = 1  # run the driving face detector every N frames (boxes held in between)
    detect_side: int = 384  # driving frames are shrunk to this longer side for detection (speed)
    smooth_frames: int = 4  # the driving box is averaged over 2 * smooth_frames + 1 frames
    motion: Literal["relative", "absolute"] = "relative"
    motion_gain: float = 1.0  # ours: relative motion scaled, w_{s->s} + gain (w_{r->d} - w_{r->1}); 1 = Eq. 5
    start_frame: int = 0  # relative motion: the driving frame whose pose maps to the source's
    find_best_start: bool = False  # relative motion: pick the reference frame nearest the source's motion
    max_frames: int | None = None  # animate only the first N driving frames
    paste_back: bool = False  # output the full source image with the animated face blended in
    feather: float = 0.12  # paste-back blend ramp, as a fraction of the crop side
    side_by_side: bool = False  # output source | driving | result
    audio: bool = True  # mux the driver's audio into video outputs
    batch_size: int = 16
    workers: int | None = None  # threads for driving-face detection + cropping; None: auto (frame_pool.auto_workers)
    backend: Backend = "torch"  # onnx: the per-frame core in onnxruntime (CPU, fp32; needs the onnx extra)
    onnx_model: str | None = None  # backend onnx: an exported graph (weights export --onnx); else cached export
    compile: bool = False  # torch.compile the per-frame core (slow start, see docs/animate.md)
    autotune: bool = False  # CUDA: cuDNN benchmarks conv algorithms per batch shape (slower end to end: benchmarks.md)
    device: str = "auto"
    dtype: str = "auto"  # auto: bf16 on GPU and on CPUs with native bf16, else fp32 (devices.resolve_dtype)
    preset: str | None = None  # with random_weights: the architecture to build; else the weights must match it
    random_weights: bool = False  # untrained model: tests the pipeline, output meaningless
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("source_domain", "driving_domain"):
            self._check(getattr(self, name) in DOMAINS, f"{name} must be one of {', '.join(DOMAINS)}")
        if self.detector != "auto":
            from toontalker.faces import BACKENDS

            self._check(
                self.detector in BACKENDS, f"detector {self.detector!r}: expected auto or one of {', '.join(BACKENDS)}"
            )
        if self.preset is not None:
            from toontalker.model import ModelConfig

            self._check(
                self.preset in ModelConfig.PRESETS,
                f"preset {self.preset!r}: expected one of {', '.join(ModelConfig.PRESETS)}",
            )
        self._check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
        self._check(self.workers is None or self.workers >= 0, f"workers must be >= 0, got {self.workers}")
        self._check(self.detect_every >= 1, f"detect_every must be >= 1, got {self.detect_every}")
        self._check(self.detect_side >= 64, f"detect_side must be >= 64, got {self.detect_side}")
        self._check(self.smooth_frames >= 0, f"smooth_frames must be >= 0, got {self.smooth_frames}")
        self._check(self.crop_scale > 0, f"crop_scale must be positive, got {self.crop_scale}")
        self._check(0.0 <= self.feather <= 0.5, f"feather must be in [0, 0.5], got {self.feather}")
        self._check(self.start_frame >= 0, f"start_frame must be >= 0, got {self.start_frame}")
        self._check(self.max_frames is None or self.max_frames >= 1, "max_frames must be >= 1")
        self._check(
            not (self.find_best_start and self.start_frame > 0), "start_frame and find_best_start exclude each other"
        )
        self._check(
            self.motion == "relative" or not (self.find_best_start or self.start_frame > 0),
            "start_frame / find_best_start only apply to relative motion",
        )
        self._check(
            not (self.source_box is not None and self.no_crop_source),
            "source_box and no_crop_source exclude each other",
        )
        self._check(0.0 <= self.motion_gain <= 4.0, f"motion_gain must be in [0, 4], got {self.motion_gain}")
        self._check(
            self.motion_gain == 1.0 or (self.motion == "relative" and self.backend == "torch"),
            "motion_gain applies to relative motion on the torch backend",
        )
        self._check(self.backend in ("torch", "onnx"), f"backend must be 'torch' or 'onnx', got {self.backend!r}")
        self._check(self.backend == "onnx" or self.onnx_model is None, "onnx_model needs backend 'onnx'")
        self._check(not (self.compile and self.backend == "onnx"), "compile applies to the torch backend only")
        if self.max_frames is not None:
            self._check(
                self.start_frame < self.max_frames,
                f"start_frame {self.start_frame} is past max_frames {self.max_frames}",
            )
