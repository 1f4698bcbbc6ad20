"""Where animated frames go: a video (mp4/mov/mkv/webm, audio muxed), a gif, a PNG sequence folder, or one
image. Every sink is atomic: the target appears complete, or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np

from toontalker.errors import OutputError, UsageError
from toontalker.io_utils import apply_default_mode, ensure_parent_writable, remove_stale_temps, temp_prefix
from toontalker.video import IMAGE_SUFFIXES, VideoWriter, write_image

OutputKind = Literal["video", "gif", "png-sequence", "image"]
VIDEO_OUT_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm")


def output_kind(path: Path) -> OutputKind:
    """What ``path`` asks for, by its suffix: a video, a gif, one image, or (no suffix) a PNG sequence folder."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_OUT_SUFFIXES:
        return "video"
    if suffix == ".gif":
        return "gif"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix == "" or path.is_dir():
        return "png-sequence"
    raise UsageError(
        f"{path}: unknown output type {suffix!r} (use .mp4/.mov/.mkv/.webm, .gif, an image suffix, "
        "or a folder name for a PNG sequence)"
    )


class FrameSink:
    """Context manager with ``write(frames (N, H, W, 3) uint8)``; commits the output on a clean exit."""

    frames_written: int = 0

    def write(self, frames: np.ndarray) -> None:
        raise NotImplementedError

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raise NotImplementedError


class VideoSink(FrameSink):
    """mp4/mov/mkv/webm/gif through :class:`toontalker.video.VideoWriter` (audio muxed when given)."""

    def __init__(self, path: Path, fps: float, audio_from: Path | None) -> None:
        self._writer = VideoWriter(path, fps, audio_from=audio_from)

    @property
    def frames_written(self) -> int:  # type: ignore[override]  # a read-only property over the base's field
        return self._writer.frames_written

    def write(self, frames: np.ndarray) -> None:
        self._writer.write(frames)

    def __enter__(self) -> VideoSink:
        self._writer.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._writer.__exit__(exc_type, exc, tb)


class PngSequenceSink(FrameSink):
    """``DIR/000000.png ...`` written into a hidden temporary folder beside DIR, renamed onto DIR at the end.

    An existing DIR is replaced only after the new sequence is complete.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path}: exists and is not a folder (a PNG sequence is written as a folder)")
        ensure_parent_writable(path)
        self._tmp: Path | None = None
        self.frames_written = 0

    def __enter__(self) -> PngSequenceSink:
        self._tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(self.path), suffix=".partial", dir=self.path.parent))
        apply_default_mode(self._tmp, directory=True)
        return self

    def write(self, frames: np.ndarray) -> None:
        assert self._tmp is not None, "use PngSequenceSink as a context manager"
        for frame in frames:
            write_image(self._tmp / f"{self.frames_written:06d}.png", frame)
            self.frames_written += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._tmp is not None
        if exc_type is not None or self.frames_written == 0:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if exc_type is None:
                raise OutputError(f"{self.path}: no frames were written")
            return
        old = None
        if self.path.exists():
            old = Path(tempfile.mkdtemp(prefix=temp_prefix(self.path), suffix=".old", dir=self.path.parent))
            os.replace(self.path, old / "previous")
        os.replace(self._tmp, self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


class ImageSink(FrameSink):
    """A single image (a driving image gives one frame); written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_parent_writable(path)
        self._frame: np.ndarray | None = None
        self.frames_written = 0

    def __enter__(self) -> ImageSink:
        return self

    def write(self, frames: np.ndarray) -> None:
        if self.frames_written + len(frames) > 1:
            raise UsageError(
                f"{self.path}: an image output holds one frame, but the driver has more "
                "(use .mp4/.gif, or a folder name for a PNG sequence)"
            )
        self._frame = frames[0]
        self.frames_written += len(frames)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            if self._frame is None:
                raise OutputError(f"{self.path}: no frames were written")
            frame = self._frame
            if self.path.suffix.lower() in (".jpg", ".jpeg") and frame.shape[-1] == 4:
                frame = frame[..., :3]
            write_image(self.path, frame)


def open_sink(path: Path, fps: float, audio_from: Path | None) -> FrameSink:
    """The sink for ``path``'s kind; first removes what killed runs left beside ``path``."""
    kind = output_kind(path)
    remove_stale_temps(path)
    if kind in ("video", "gif"):
        return VideoSink(path, fps, audio_from if kind == "video" else None)
    if kind == "png-sequence":
        return PngSequenceSink(path)
    return ImageSink(path)
