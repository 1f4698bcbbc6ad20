"""Live animate (the webcam path): one driving frame in, one animated face out, at batch 1.

:class:`LiveAnimator` encodes the source once; each call crops the driving face, runs the per-frame core
(Em + T_{r->d}, Eq. 5 relative to the first frame, T_B + G: :class:`~toontalker.animation.core.CoreRunner`) and
returns the uint8 face. The face box comes from a detector that runs **beside** the frames (``detection="async"``,
the default): the newest frame is handed to it whenever it is free and its answer moves the box for the frames
after, so a call costs crop + model + copy back, never a detection (the first call waits for one, so the
reference frame is cropped on the face). ``detection="sync"`` detects every ``detect_every``-th frame inline
instead (reproducible, for tests and offline use). No look-ahead smoothing: an exponential moving average of
the box (``smoothing``) steadies it without waiting for future frames. ``compile_mode="reduce-overhead"`` runs
the core as CUDA graphs (one compilation, a minute or two, on the first call).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import numpy as np
import torch

from toontalker.animation.compose import PendingFrames, to_model_tensor
from toontalker.animation.core import CoreRunner
from toontalker.animation.source import SourceFace
from toontalker.conventions import CROP_SCALE, Domain
from toontalker.devices import autocast
from toontalker.faces import Box, FaceDetector, crop_resize, square_box
from toontalker.faces.tracking import CausalBoxSmoother, FaceTrackState
from toontalker.model.toontalker import ToonTalker

Detection = Literal["async", "sync"]


@dataclass(frozen=True)
class LiveOptions:
    """How :class:`LiveAnimator` tracks the driving face and runs the core."""

    driving_domain: Domain = "real"
    detection: Detection = "async"
    detect_every: int = 1  # detect every N-th frame at most (async: when the detector is free too)
    smoothing: float = 0.5  # weight of the newest detection in the box's moving average (1: no smoothing)
    crop_scale: float = CROP_SCALE
    compile_mode: str | None = None  # e.g. "reduce-overhead" (CUDA graphs) for the lowest latency on a GPU
    motion_gain: float = 1.0  # ours, as AnimateOptions.motion_gain

    def __post_init__(self) -> None:
        if self.detection not in ("async", "sync"):
            raise ValueError(f"detection must be 'async' or 'sync', got {self.detection!r}")
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}")
        if self.crop_scale <= 0:
            raise ValueError(f"crop_scale must be positive, got {self.crop_scale}")


@dataclass(frozen=True)
class LiveFrame:
    """One animated frame: the face ``(S, S, 3)`` uint8, the driving crop box used, whether the face was lost."""

    image: np.ndarray
    box: Box
    lost: bool


class LiveAnimator:
    """``animator(frame (H, W, 3) uint8) -> LiveFrame``; a context manager (stops the detector thread)."""

    def __init__(
        self,
        model: ToonTalker,
        source: SourceFace,
        *,
        detector: FaceDetector,
        device: torch.device,
        dtype: torch.dtype,
        source_domain: Domain,
        options: LiveOptions = LiveOptions(),
    ) -> None:
        self.options, self.device, self.dtype = options, device, dtype
        self.size = model.config.image_size
        self.detector = detector
        with torch.inference_mode(), autocast(device, dtype):
            src = model.encode_source(to_model_tensor(source.crop[None], device), source_domain)
        self.runner = CoreRunner(
            model,
            src,
            options.driving_domain,
            compile_mode=options.compile_mode,
            batch_size=1,
            motion_gain=options.motion_gain,
        )  # relative motion: the first frame is the reference
        self.track = FaceTrackState()
        self.smoother = CausalBoxSmoother(options.smoothing)
        self.box: Box | None = None  # the smoothed face box
        self.frames = 0
        self._lost = False
        self._pending: Future[list[Box]] | None = None
        self._submitted = 0  # the frame last handed to the detector
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toontalker-live-detect")

    def _take(self, faces: list[Box]) -> None:
        face, self._lost = self.track.update(faces)
        if face is not None:
            self.box = self.smoother.push(face)

    def _update_box(self, frame: np.ndarray) -> None:
        if self.options.detection == "sync" or self.frames == 0:
            if self.frames % self.options.detect_every == 0:
                self._take(self.detector.detect(frame))
            return
        if self._pending is not None and self._pending.done():
            self._take(self._pending.result())
            self._pending = None
        if self._pending is None and self.frames - self._submitted >= self.options.detect_every:
            self._pending = self._thread.submit(self.detector.detect, frame.copy())
            self._submitted = self.frames

    def __call__(self, frame: np.ndarray) -> LiveFrame:
        H, W = frame.shape[:2]
        self._update_box(frame)
        face = self.box if self.box is not None else Box(0.0, 0.0, float(W), float(H))
        box = square_box(face, self.options.crop_scale if self.box is not None else 1.0, W, H, keep_inside=False)
        crop = crop_resize(frame, box, self.size)
        with torch.inference_mode(), autocast(self.device, self.dtype):
            image = PendingFrames(self.runner(to_model_tensor(crop[None], self.device))).result()[0]
        self.frames += 1
        return LiveFrame(image=image, box=box, lost=self._lost or self.box is None)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LiveAnimator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
