"""Finding the input videos of a raw folder, their stable keys, and the identity each belongs to."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toontalker.errors import InputError, UsageError
from toontalker.video import is_video_path

IDENTITY_SOURCES = ("stem", "parent", "pattern")


@dataclass(frozen=True)
class SourceVideo:
    """One input video: its path, its path relative to the raw folder, its key (clip id prefix), identity."""

    path: Path
    rel: str
    key: str
    identity: str


@dataclass(frozen=True)
class SourceScan:
    videos: tuple[SourceVideo, ...]
    ignored: tuple[str, ...]  # files that are not videos by their suffix (relative paths)
    unreadable: tuple[str, ...]  # folders that could not be listed, with the reason


def _list_dir(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as entries:
        return list(entries)


def video_key(rel: str, namespace: str = "") -> str:
    """A file-name-safe, stable key for a source path: its stem plus a short hash of ``namespace/rel``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(rel).stem).strip("_") or "video"
    digest = hashlib.sha1(f"{namespace}/{rel}".encode()).hexdigest()[:6]
    return f"{stem[:60]}-{digest}"


def identity_of(rel: str, source: str, pattern: str) -> str:
    """The identity of the video at ``rel``: its file stem, its parent folder's name, or a regex's group 1."""
    path = Path(rel)
    if source == "stem":
        return path.stem
    if source == "parent":
        return path.parent.name or path.stem
    match = re.search(pattern, path.stem)
    if match is None:
        return path.stem
    return match.group(1) if match.groups() else match.group(0)


def check_identity_options(source: str, pattern: str) -> None:
    if source not in IDENTITY_SOURCES:
        raise UsageError(f"identity_from {source!r}: expected one of {', '.join(IDENTITY_SOURCES)}")
    if source == "pattern":
        if not pattern:
            raise UsageError("identity_from 'pattern' needs an identity_pattern (a regular expression)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"identity_pattern {pattern!r}: not a valid regular expression ({exc})") from exc


def scan_sources(
    raw_dir: Path,
    identity_from: str = "stem",
    identity_pattern: str = "",
    namespace: str = "",
    accept: Callable[[Path, bool], bool] | None = None,
) -> SourceScan:
    """Every video under ``raw_dir`` (recursively, sorted); non-videos and unreadable folders are reported.

    ``namespace`` (e.g. the domain) enters the keys, so two builds into one folder never collide.
    ``accept(path, is_dir)``, when given, replaces the video test (``dataset import`` also takes frame folders;
    an accepted folder is not descended into).
    """
    check_identity_options(identity_from, identity_pattern)
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: not a folder")
    videos: list[SourceVideo] = []
    ignored: list[str] = []
    unreadable: list[str] = []
    pending = [raw_dir]
    while pending:
        folder = pending.pop()
        try:
            entries = _list_dir(folder)
        except OSError as exc:
            if folder == raw_dir:
                raise InputError(f"{raw_dir}: cannot list folder ({exc.strerror or exc})") from exc
            unreadable.append(f"{folder.relative_to(raw_dir)}: cannot list folder ({exc.strerror or exc})")
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel = path.relative_to(raw_dir).as_posix()
            is_dir = entry.is_dir()
            wanted = accept(path, is_dir) if accept is not None else (not is_dir and is_video_path(path))
            if wanted:
                videos.append(
                    SourceVideo(path, rel, video_key(rel, namespace), identity_of(rel, identity_from, identity_pattern))
                )
            elif is_dir:
                pending.append(path)
            else:
                ignored.append(rel)
    return SourceScan(tuple(sorted(videos, key=lambda v: v.rel)), tuple(sorted(ignored)), tuple(sorted(unreadable)))
