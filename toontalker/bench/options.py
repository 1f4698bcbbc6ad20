"""The options of ``bench protocol`` (:class:`ProtocolOptions`), ``bench quality`` / ``bench paired``
(:class:`QualityOptions`) and ``bench motion`` (:class:`MotionOptions`).

Light on purpose (no torch, numpy or pandas at import): the CLI takes its defaults from these dataclasses
(toontalker/cli/bench.py, bench_motion.py), so a default changed here changes the commands'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toontalker.conventions import CROP_SCALE
from toontalker.errors import UsageError

MotionBackend = Literal["auto", "torch", "onnx"]  # bench motion's model runner (bench/motion_render.py)
MOTION_BACKENDS: tuple[str, ...] = ("auto", "torch", "onnx")


@dataclass(frozen=True)
class ProtocolOptions:
    """How many pairs to draw: ``drivers`` clips per setting (None = all test clips), ``sources_per_driver``
    sources each (paper: 5), ``max_frames`` driving frames per pair (None = whole clip)."""

    drivers: int | None = None
    sources_per_driver: int = 5
    max_frames: int | None = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if self.sources_per_driver < 1:
            raise UsageError("sources_per_driver must be at least 1")
        if self.max_frames is not None and self.max_frames < 2:
            raise UsageError("max_frames must be at least 2 (frame 0 is the motion reference)")


@dataclass(frozen=True)
class QualityOptions:
    """``metrics`` None = each setting's defaults (:data:`DEFAULT_METRICS`); ``max_pairs`` caps each
    protocol; ``fid_reference_frames`` caps the reference set; ``samples`` rows in each contact sheet."""

    device: str = "cpu"
    batch_size: int = 16
    metrics: tuple[str, ...] | None = None
    max_pairs: int | None = None
    motion: Literal["relative", "absolute"] = "relative"
    fid_reference_frames: int = 2000
    samples: int = 4
    resume: bool = True
    motion_table: bool = True  # bench motion's signals for the settings of MOTION_SETTINGS (FaceMesh, offline)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError("batch size must be at least 1")
        if self.motion not in ("relative", "absolute"):
            raise UsageError(f"motion must be 'relative' or 'absolute', not {self.motion!r}")


@dataclass(frozen=True)
class MotionOptions:
    """``max_frames`` driving frames per pair (from the first); ``plots``: a figure and a contact sheet per
    pair; ``crop_scale`` as animate's (for pairs read with crop 'animate'). ``cache_dir``: where each pair's
    cropped frames and driver landmarks are kept (they do not depend on the model), so that evaluating
    other weights on the same pairs only runs the model and the output's landmarks; None = no cache.
    ``backend``: how the model runs (:mod:`toontalker.bench.motion_render`): ``torch`` (the default: the
    published numbers), ``onnx`` (the ONNX core, about half the CPU time; r on cartoon outputs can move, see
    docs/bench.md) or ``auto`` (onnx where usable, else torch)."""

    max_frames: int = 100
    device: str = "cpu"
    batch_size: int = 16
    motion: Literal["relative", "absolute"] = "relative"
    motion_gain: float = 1.0  # ours, as animate's motion_gain (relative motion, torch backend)
    plots: bool = True
    crop_scale: float = CROP_SCALE
    cache_dir: Path | None = None
    backend: MotionBackend = "torch"

    def __post_init__(self) -> None:
        if not 0.0 <= self.motion_gain <= 4.0:
            raise UsageError(f"motion_gain must be in [0, 4], got {self.motion_gain}")
        if self.max_frames < 2:
            raise UsageError(f"max_frames must be at least 2 (frame 0 is the motion reference), got {self.max_frames}")
        if self.batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.motion not in ("relative", "absolute"):
            raise UsageError(f"motion must be 'relative' or 'absolute', not {self.motion!r}")
        if self.crop_scale <= 0:
            raise UsageError(f"crop_scale must be positive, got {self.crop_scale}")
        if self.backend not in MOTION_BACKENDS:
            raise UsageError(f"backend must be one of {', '.join(MOTION_BACKENDS)}, not {self.backend!r}")
