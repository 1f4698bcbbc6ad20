"""How clips are stored on disk, and random access to their frames.

Formats (chosen per dataset with ``--format``; measured in docs/dataset.md):

- ``jpg`` (default): a folder of ``000000.jpg, 000001.jpg, ...`` (quality 95). Any frame decodes on its own,
  ~1 ms for 256x256, and the files are small: the best fit for training, which reads random frame pairs.
- ``png``: the same, lossless; about 4x larger and slower to decode.
- ``npy``: one ``(N, H, W, 3)`` uint8 array per clip, memory-mapped: fastest reads, ~10x the disk of jpg.
- ``mp4``: one H.264 file per clip: smallest, but reading one frame means decoding the clip up to it, so the
  reader decodes whole clips and keeps a few in memory.

Writes are atomic: a clip appears under its final name only once complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from toontalker.errors import InputError, MediaError, UsageError
from toontalker.io_utils import apply_default_mode, atomic_path, ensure_parent_writable
from toontalker.video import VideoWriter, read_frames

FORMATS = ("jpg", "png", "npy", "mp4")
FRAME_FOLDER_FORMATS = ("jpg", "png")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown clip format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def clip_relpath(clip_id: str, fmt: str) -> str:
    """Where clip ``clip_id`` lives inside a dataset folder."""
    if fmt in FRAME_FOLDER_FORMATS:
        return f"clips/{clip_id}"
    return f"clips/{clip_id}.{fmt}"


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class ClipWriter:
    """Write one clip's frames atomically in ``fmt``; use as a context manager, ``.write((N, H, W, 3))``."""

    def __init__(self, path: Path, fmt: str, fps: float, jpeg_quality: int = 95) -> None:
        self.path = Path(path)
        self.fmt = check_format(fmt)
        self.fps = fps
        self.jpeg_quality = jpeg_quality
        self.frames_written = 0
        self._tmp_dir: Path | None = None
        self._arrays: list[np.ndarray] = []
        self._video: VideoWriter | None = None

    def __enter__(self) -> ClipWriter:
        ensure_parent_writable(self.path)
        if self.fmt in FRAME_FOLDER_FORMATS:
            self._tmp_dir = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent))
            apply_default_mode(self._tmp_dir, directory=True)
        elif self.fmt == "mp4":
            self._video = VideoWriter(self.path, self.fps, crf=15).__enter__()
        return self

    def write(self, frames: np.ndarray) -> None:
        if frames.ndim == 3:
            frames = frames[None]
        if self._tmp_dir is not None:
            params = (
                [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality] if self.fmt == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
            )
            for frame in frames:
                name = self._tmp_dir / f"{self.frames_written:06d}.{self.fmt}"
                if not cv2.imwrite(str(name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
                    raise MediaError(f"{name}: cannot write frame")
                self.frames_written += 1
        elif self._video is not None:
            self._video.write(frames)
            self.frames_written += len(frames)
        else:
            self._arrays.append(np.ascontiguousarray(frames))
            self.frames_written += len(frames)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._video is not None:
            self._video.__exit__(exc_type, exc, tb)
            return
        if self._tmp_dir is not None:
            if exc_type is None and self.frames_written:
                if self.path.exists():
                    remove_path(self.path)
                os.replace(self._tmp_dir, self.path)
            else:
                shutil.rmtree(self._tmp_dir, ignore_errors=True)
            return
        if exc_type is None and self._arrays:
            with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.concatenate(self._arrays, axis=0))


class ClipReader:
    """Random access to one stored clip's frames: ``len(reader)``, ``reader.read(i) -> (H, W, 3) uint8``."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = Path(path)
        self.fmt = check_format(fmt)
        self._folder = str(self.path)
        self._names: list[str] | None = None  # frame file names, in name order
        self._array: np.ndarray | None = None
        if not self.path.exists():
            raise InputError(f"{self.path}: clip not found")
        if fmt in FRAME_FOLDER_FORMATS:
            if not self.path.is_dir():
                raise InputError(f"{self.path}: expected a folder of .{fmt} frames")
            # plain strings, joined to the folder only when read: sorting Path objects made listing a 150-frame
            # clip ~1 ms, a third of a training pair, and joining every name ~0.2 ms
            suffix = f".{fmt}"
            self._names = sorted(e.name for e in os.scandir(self._folder) if e.name.lower().endswith(suffix))
            if not self._names:
                raise InputError(f"{self.path}: no .{fmt} frames in the clip folder")
        elif fmt == "npy":
            try:
                self._array = np.load(self.path, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise InputError(f"{self.path}: not a readable .npy clip ({exc})") from exc
            if self._array.ndim != 4 or self._array.shape[-1] != 3 or self._array.dtype != np.uint8:
                raise InputError(f"{self.path}: expected (N, H, W, 3) uint8, got {self._array.shape}")
        else:
            self._array = read_frames(self.path)

    def __len__(self) -> int:
        return len(self._names) if self._names is not None else len(self._array)  # type: ignore[arg-type]

    def read(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.path}: frame {index} out of range (clip has {len(self)})")
        if self._names is not None:
            file = os.path.join(self._folder, self._names[index])
            bgr = cv2.imread(file, cv2.IMREAD_COLOR)
            if bgr is None:
                raise InputError(f"{file}: cannot decode frame")
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        # a copy: a frame of a memory-mapped npy clip is read-only (torch.from_numpy warns on it)
        return np.array(self._array[index])  # type: ignore[index]


class ClipCache:
    """Keeps the most recently opened :class:`ClipReader` objects (decoded mp4 clips are large)."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._readers: OrderedDict[str, ClipReader] = OrderedDict()

    def get(self, path: Path, fmt: str) -> ClipReader:
        key = str(path)
        reader = self._readers.get(key)
        if reader is None:
            reader = ClipReader(path, fmt)
            self._readers[key] = reader
            if len(self._readers) > self.capacity:
                self._readers.popitem(last=False)
        else:
            self._readers.move_to_end(key)
        return reader
