"""Building one dataset on many machines: ``dataset build --shard K/N`` takes a fixed part of the videos.

A video belongs to shard ``sha1(path relative to RAW_DIR) mod N``: the partition depends only on each
video's own path, so it is the same on every machine and every rerun, whatever else the raw folder holds,
and the N shards together cover every video exactly once. Each shard is built into its own folder (resumable
like any build); ``dataset merge`` (:mod:`toontalker.dataset.merge`) joins them into one dataset.

A sharded build folder records its shard in ``shard-<domain>.json``; a rerun with another shard (or none)
into it is refused, so two parts of the partition never mix in one folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from toontalker.errors import InputError, UsageError
from toontalker.io_utils import atomic_write_text, ensure_parent_writable

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise UsageError(f"shard {self.index}/{self.count}: expected K/N with N >= 1 and 0 <= K < N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"3/8"`` -> Shard(3, 8)."""
        match = _SHARD.match(text)
        if match is None:
            raise UsageError(f"shard {text!r}: expected K/N, e.g. 0/8 (K from 0 to N-1)")
        return cls(int(match.group(1)), int(match.group(2)))

    def holds(self, rel: str) -> bool:
        """Whether the video at ``rel`` (path relative to the raw folder, POSIX) is in this shard."""
        digest = hashlib.sha1(rel.encode("utf-8")).hexdigest()
        return int(digest[:16], 16) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_file(out_dir: Path, domain: str) -> Path:
    return Path(out_dir) / f"shard-{domain}.json"


def read_shard(out_dir: Path, domain: str) -> Shard | None:
    """The shard a build folder holds for ``domain`` (None: an unsharded build or no build)."""
    file = shard_file(out_dir, domain)
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return Shard(int(data["index"]), int(data["count"]))
    except (OSError, ValueError, KeyError, TypeError, UsageError) as exc:
        raise InputError(f"{file}: unreadable shard record ({exc})") from exc


def claim_shard(out_dir: Path, domain: str, shard: Shard | None, overwrite: bool) -> None:
    """Record ``shard`` in ``out_dir`` for ``domain``; refuse a folder that holds another part of a build."""
    file = shard_file(out_dir, domain)
    if overwrite:  # the folder is started again: any part may go into it
        file.unlink(missing_ok=True)
    previous = read_shard(out_dir, domain)
    settings = Path(out_dir) / f"build-{domain}.json"
    if not overwrite and previous != shard and (previous is not None or settings.is_file()):
        held = f"shard {previous}" if previous is not None else "an unsharded build"
        wanted = f"shard {shard}" if shard is not None else "an unsharded build"
        raise UsageError(
            f"{out_dir} holds {held} of the {domain} videos, not {wanted}; build each shard into "
            "its own folder (then dataset merge), or start again with --overwrite"
        )
    if shard is not None and previous is None:
        ensure_parent_writable(file)
        atomic_write_text(file, json.dumps({"index": shard.index, "count": shard.count}) + "\n")
