"""toontalker: cross-domain face reenactment (ToonTalker, ICCV 2023).

Drive a cartoon character with a real person's video, and a real face with a cartoon video. The library is
the product; the `toontalker` command is a thin layer over it.

    import toontalker
    result = toontalker.animate("character.png", "speech.mp4", "out.mp4")
    model = toontalker.from_pretrained("weights/folder-or-hub-id")

The heavy parts (torch, the model, media) load on first use, so ``import toontalker`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from toontalker.errors import ToonTalkerError  # noqa: E402

_LAZY = {
    "animate": ("toontalker.animation.api", "animate"),
    "AnimateOptions": ("toontalker.animation.api", "AnimateOptions"),
    "AnimateResult": ("toontalker.animation.api", "AnimateResult"),
    "ToonTalker": ("toontalker.model", "ToonTalker"),
    "ModelConfig": ("toontalker.model", "ModelConfig"),
    "from_pretrained": ("toontalker.weights", "from_pretrained"),
    "save_pretrained": ("toontalker.weights", "save_pretrained"),
    "default_weights": ("toontalker.weights", "default_weights"),
}

__all__ = ["ToonTalkerError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'toontalker' has no attribute {name!r}")
