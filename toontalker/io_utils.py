"""Atomic file writes: write to a temporary file beside the target, then rename.

Nothing the project writes is ever left half-written: a crash leaves either the old file or none.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from toontalker.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def apply_default_mode(path: Path, directory: bool = False) -> None:
    """Give a temporary file/folder (created 0600/0700 by tempfile) the mode a plain open() would give."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def ensure_parent_writable(path: Path) -> None:
    """Create ``path``'s folder; raise :class:`OutputError` naming the path if it cannot be written."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create folder {parent}: {exc.strerror}") from exc
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{path}: folder {parent} is not writable")


# the disk or the file system refused the write: one line naming the output, not a traceback
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def is_write_refused(exc: OSError) -> bool:
    """Whether ``exc`` is the disk or file system refusing a write (full, quota, read-only, I/O error)."""
    return exc.errno in WRITE_ERRNOS


def write_refused(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}")


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def temp_prefix(path: Path) -> str:
    """``.NAME.tt-HOST-PID-``: a temporary sibling of ``path`` that says which process made it, so a later run
    can remove what a killed one (SIGKILL, power loss) left behind (:func:`remove_stale_temps`)."""
    return f".{path.name}.tt-{_host_tag()}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove temporary siblings of ``path`` (files or folders) left by processes of this host that are gone."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.tt-{_host_tag()}-(\d+)-")
    removed: list[Path] = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in siblings:
        match = pattern.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def folders_removed_on_error(path: str | Path) -> Iterator[None]:
    """The missing folders above ``path`` that the block creates are removed again (while empty) if it fails,
    so a failed command leaves no empty output folders behind."""
    missing = []
    parent = Path(path).absolute().parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    try:
        yield
    except BaseException:
        for folder in missing:  # deepest first
            try:
                folder.rmdir()
            except OSError:  # not empty (or never created): keep it and what is above it
                break
        raise


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    ``suffix`` defaults to the target's suffix, so tools that pick a format by extension (ffmpeg) still do.
    """
    path = Path(path)
    ensure_parent_writable(path)
    tmp_suffix = path.suffix if suffix is None else suffix
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=tmp_suffix, dir=path.parent)
    except OSError as exc:
        if is_write_refused(exc):
            raise write_refused(path, exc) from exc
        raise
    os.close(fd)
    tmp = Path(tmp_name)
    apply_default_mode(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_write_refused(exc):
            raise write_refused(path, exc) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
