"""toontalker: cross-domain face reenactment (ToonTalker, ICCV 2023).

Drive a cartoon character with a real person's video, and a real face with a cartoon video. The library is
the product; the `toontalker` command is a thin layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from toontalker.errors import ToonTalkerError  # noqa: E402

__all__ = ["ToonTalkerError", "__version__"]
