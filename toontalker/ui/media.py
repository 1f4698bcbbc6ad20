"""Uploads and example media for the web UI: readable one-line errors for bad files, the examples list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toontalker.errors import InputError, ToonTalkerError
from toontalker.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_image_path, is_video_path, probe, read_image

UploadKind = Literal["source", "driving"]


def check_upload(path: str | Path, kind: UploadKind, max_mb: float) -> Path:
    """``path`` if it is a usable source image (``kind="source"``) or driving video/image, else InputError.

    The message names the file by its own name (uploads sit in temporary folders) and says what is wrong:
    too large (over ``max_mb`` MiB), not an image / not a video, or a file that does not decode.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError(f"{name}: the upload is missing (upload it again)")
    size_mb = path.stat().st_size / 2**20
    if size_mb > max_mb:
        raise InputError(f"{name}: {size_mb:.1f} MB is over the {max_mb:g} MB upload limit")
    if kind == "source" and not is_image_path(path):
        what = "a video" if is_video_path(path) else "not an image"
        raise InputError(f"{name}: the source must be an image ({', '.join(IMAGE_SUFFIXES)}), this is {what}")
    if kind == "driving" and not (is_image_path(path) or is_video_path(path)):
        raise InputError(f"{name}: the driver must be a video ({', '.join(VIDEO_SUFFIXES)}) or an image")
    try:
        if is_image_path(path):
            read_image(path)
        else:
            probe(path)
    except ToonTalkerError as error:
        raise InputError(f"{name}: {_strip_path(str(error), path)}") from error
    return path


def _strip_path(message: str, path: Path) -> str:
    """The library's message without the temporary folder's path in front."""
    return message.replace(f"{path}: ", "").replace(str(path), path.name)


@dataclass(frozen=True)
class ExampleMedia:
    """The example files offered in the page: source images and driving videos (absolute paths)."""

    folder: Path | None
    sources: tuple[Path, ...]
    drivers: tuple[Path, ...]


def example_folder() -> Path | None:
    """The repository's ``examples/`` folder (next to the package in a checkout), or None where absent."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "examples", package.parent / "examples"):
        if folder.is_dir():
            return folder
    return None


def find_examples(folder: str | Path | None = None) -> ExampleMedia:
    """Images and videos in ``folder`` (default :func:`example_folder`), recursively, sorted by path.

    A missing folder gives an empty list (the page then offers uploads only). Images become sources;
    videos become drivers.
    """
    root = Path(folder) if folder is not None else example_folder()
    if root is None or not root.is_dir():
        return ExampleMedia(None, (), ())
    files = sorted(p.absolute() for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    sources = tuple(p for p in files if is_image_path(p))
    drivers = tuple(p for p in files if is_video_path(p))
    return ExampleMedia(root.absolute(), sources, drivers)
