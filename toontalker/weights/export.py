"""Release exports: a training checkpoint folder converted into release weights, and the export written with
every checkpoint (``model.safetensors`` + ``config.json`` + card).

The export holds the ToonTalker model only (both domains + shared transformers; no discriminators, no
optimiser state), written by :func:`toontalker.weights.save_pretrained`, so ``toontalker weights convert``,
``from_pretrained`` and ``toontalker animate --weights`` read a checkpoint folder directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from toontalker.errors import InputError
from toontalker.model.toontalker import ToonTalker
from toontalker.weights.card import CardInfo
from toontalker.weights.layout import CONFIG_NAME, WEIGHTS_NAME
from toontalker.weights.load import load_folder
from toontalker.weights.save import save_pretrained

if TYPE_CHECKING:
    from toontalker.train.recipe import TrainRecipe


def convert_checkpoint(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    dtype: str | torch.dtype | None = None,
    card: CardInfo | None = None,
    max_shard_size: int | str = "2GB",
) -> Path:
    """A training checkpoint folder (model.safetensors + config.json) -> a release weights folder."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_dir():
        raise InputError(f"{checkpoint}: a training checkpoint is a folder with {WEIGHTS_NAME} and {CONFIG_NAME}")
    model = load_folder(checkpoint)
    return save_pretrained(model, out_dir, card=card, dtype=dtype, max_shard_size=max_shard_size)


def export_release(model: ToonTalker, folder: Path, recipe: TrainRecipe, step: int, data_note: str) -> Path:
    """Write ``model``'s weights (``recipe.export_dtype``, sharded above ``recipe.export_max_shard``)."""
    card = CardInfo(
        preset=recipe.model,
        training_data=data_note,
        notes=f"toontalker train stage {recipe.stage}, step {step} of {recipe.iterations} "
        f"(batch {recipe.batch_size}, lr {recipe.lr}, lambda_per {recipe.lambda_per}, "
        f"lambda_m {recipe.lambda_m}, analogy {'on' if recipe.analogy else 'off'}, perceptual {recipe.perceptual})",
    )
    dtype = None if recipe.export_dtype == "fp32" else recipe.export_dtype
    return save_pretrained(model, folder, card=card, dtype=dtype, max_shard_size=recipe.export_max_shard)
