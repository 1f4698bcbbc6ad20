"""The release-style export written with every checkpoint: ``model.safetensors`` + ``config.json``.

It holds the ToonTalker generator side only (no discriminators, no optimiser state), in the layout of
:func:`toontalker.hub.save_pretrained`, so ``toontalker weights convert`` and ``from_pretrained`` read it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def export_release(model: nn.Module, folder: Path, dtype: str = "fp32") -> Path:
    """Write ``model``'s weights (cast to ``dtype``) and config into ``folder``."""
    from toontalker.hub import save_pretrained

    save_pretrained(model, folder, dtype=_DTYPES[dtype])
    return folder
