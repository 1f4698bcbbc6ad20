"""Console output through rich, with the three output modes commands share: normal, ``--quiet``, ``--json``.

Results go to stdout (tables, or one JSON document with ``--json``); progress and messages go to stderr so
that ``--json`` output stays machine-readable.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from toontalker.config import to_jsonable  # the one serialiser; re-exported for the commands


@dataclass(frozen=True)
class OutputMode:
    quiet: bool = False
    json: bool = False

    @property
    def show_progress(self) -> bool:
        return not (self.quiet or self.json)

    @property
    def show_bars(self) -> bool:
        """Progress bars only where a person watches: stderr a terminal (not a log file or a pipe)."""
        return self.show_progress and stderr_console().is_terminal


def stdout_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)


def json_text(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2) + "\n"


def print_json(value: Any) -> None:
    sys.stdout.write(json_text(value))
    sys.stdout.flush()


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` (dataclasses allowed) as JSON to ``path``, atomically."""
    from toontalker.io_utils import atomic_write_text

    return atomic_write_text(path, json_text(value))
