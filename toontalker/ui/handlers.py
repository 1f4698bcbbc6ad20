"""The page's actions as plain functions (no gradio here): check an upload, preview its crop, run.

Each returns what the page shows, with a one-line message instead of an exception: the page never shows
a traceback. ``OptionFields`` is the options part of the page, turned into ``AnimateOptions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toontalker.animation.api import AnimateOptions, AnimateResult, ProgressCallback
from toontalker.errors import ToonTalkerError
from toontalker.faces import Box
from toontalker.ui.jobs import Animator
from toontalker.ui.media import check_upload
from toontalker.ui.preview import CropPreview, box_text, preview_driving, preview_source

DEFAULTS = AnimateOptions()


@dataclass(frozen=True)
class OptionFields:
    """The options the page offers (the rest keep ``AnimateOptions``' defaults)."""

    source_domain: str = DEFAULTS.source_domain
    driving_domain: str = DEFAULTS.driving_domain
    source_box: str = ""  # "X0,Y0,X1,Y1" in pixels, or "" (detect)
    no_crop_source: bool = DEFAULTS.no_crop_source
    no_crop_driving: bool = DEFAULTS.no_crop_driving
    motion: str = DEFAULTS.motion
    start_frame: int | None = DEFAULTS.start_frame  # None: an emptied number field (the default)
    find_best_start: bool = DEFAULTS.find_best_start
    max_frames: int | None = 0  # 0 or None: the whole driver
    paste_back: bool = DEFAULTS.paste_back
    side_by_side: bool = DEFAULTS.side_by_side
    audio: bool = DEFAULTS.audio
    crop_scale: float | None = DEFAULTS.crop_scale
    detector: str | None = DEFAULTS.detector
    batch_size: int | None = DEFAULTS.batch_size

    def to_options(self, *, with_box: bool = True) -> AnimateOptions:
        """``AnimateOptions`` for these fields (ConfigError / UsageError naming the field when invalid)."""
        box = Box.parse(self.source_box, "face box").as_tuple() if with_box and self.source_box.strip() else None
        relative = self.motion == "relative"
        return AnimateOptions(
            source_domain=self.source_domain,  # type: ignore[arg-type]
            driving_domain=self.driving_domain,  # type: ignore[arg-type]
            detector=self.detector or DEFAULTS.detector,
            source_box=None if self.no_crop_source else box,
            no_crop_source=self.no_crop_source,
            no_crop_driving=self.no_crop_driving,
            crop_scale=DEFAULTS.crop_scale if self.crop_scale is None else float(self.crop_scale),
            motion=self.motion,  # type: ignore[arg-type]
            start_frame=int(self.start_frame or 0) if relative else 0,
            find_best_start=bool(self.find_best_start) and relative,
            max_frames=int(self.max_frames) if self.max_frames else None,
            paste_back=self.paste_back,
            side_by_side=self.side_by_side,
            audio=self.audio,
            batch_size=int(self.batch_size or DEFAULTS.batch_size),
        )


@dataclass(frozen=True)
class PreviewView:
    """A side's preview as the page shows it."""

    annotated: np.ndarray | None
    crop: np.ndarray | None
    box: str  # the face box field's text (source side)
    message: str  # "" when all is well


def error_line(error: ToonTalkerError | ValueError) -> str:
    return f"**Error:** {error}"


def _view(preview: CropPreview) -> PreviewView:
    message = f"face found by {preview.found_by}" + (f"; {preview.note}" if preview.note else "")
    return PreviewView(preview.annotated, preview.crop, box_text(preview.face_box), message)


def source_preview(path: str | None, fields: OptionFields, max_mb: float, detect: bool) -> PreviewView:
    """Check the source upload and show its crop: re-detect (``detect``) or use the box in ``fields``."""
    if not path:
        return PreviewView(None, None, "", "")
    try:
        checked = check_upload(path, "source", max_mb)
        return _view(preview_source(checked, fields.to_options(with_box=not detect)))
    except (ToonTalkerError, ValueError) as error:
        return PreviewView(None, None, "" if detect else fields.source_box, error_line(error))


def driving_preview(path: str | None, fields: OptionFields, max_mb: float) -> PreviewView:
    """Check the driving upload and show the face its first frames give."""
    if not path:
        return PreviewView(None, None, "", "")
    try:
        checked = check_upload(path, "driving", max_mb)
        return _view(preview_driving(checked, fields.to_options(with_box=False)))
    except (ToonTalkerError, ValueError) as error:
        return PreviewView(None, None, "", error_line(error))


@dataclass(frozen=True)
class RunView:
    """A run as the page shows it: the video (None on failure) and the message under it."""

    video: Path | None
    message: str


def describe_result(result: AnimateResult, weights_line: str) -> str:
    audio = ", with the driver's audio" if result.audio else ""
    ref = f", reference frame {result.reference_frame}" if result.reference_frame is not None else ""
    lines = [
        f"**Done:** {result.frames} frames, {result.width}x{result.height}, {result.fps:g} fps{audio}, in "
        f"{result.seconds:.1f} s ({result.frames_per_second:.1f} frames/s on {result.device} {result.dtype}).",
        f"Motion {result.motion}{ref}; source face by {result.source_face_found_by}; driving face lost in "
        f"{result.driving_frames_lost} frames; weights: {weights_line}.",
    ]
    lines += [f"Warning: {w}" for w in result.warnings]
    return "\n\n".join(lines)


def run_job(
    animator: Animator,
    source: str | None,
    driving: str | None,
    fields: OptionFields,
    on_progress: ProgressCallback | None = None,
) -> RunView:
    """Check both uploads and the options, then ``animator.run`` (busy, bad input: a message, no video)."""
    max_mb = animator.config.max_upload_mb
    try:
        if not source:
            return RunView(None, "**Error:** give a source image first (upload one or pick an example)")
        src = check_upload(source, "source", max_mb)
        if not driving:
            return RunView(None, "**Error:** give a driving video first (upload one or pick an example)")
        drv = check_upload(driving, "driving", max_mb)
        result = animator.run(src, drv, fields.to_options(), on_progress)
    except (ToonTalkerError, ValueError) as error:
        return RunView(None, error_line(error))
    return RunView(result.output, describe_result(result, animator.weights_line))
