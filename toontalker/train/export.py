"""The release-style export written with every checkpoint: ``model.safetensors`` + ``config.json`` + card.

It holds the ToonTalker model only (both domains + shared transformers; no discriminators, no optimiser
state), written by :func:`toontalker.hub.save_pretrained`, so ``toontalker weights convert``,
``from_pretrained`` and ``toontalker animate --weights`` read a checkpoint folder directly.
"""

from __future__ import annotations

from pathlib import Path

from toontalker.hub import save_pretrained
from toontalker.model import ToonTalker
from toontalker.model_card import ModelCard
from toontalker.train.recipe import TrainRecipe


def export_release(model: ToonTalker, folder: Path, recipe: TrainRecipe, step: int, data_note: str) -> Path:
    """Write ``model``'s weights (``recipe.export_dtype``, sharded above ``recipe.export_max_shard``)."""
    card = ModelCard(
        preset=recipe.model,
        training_data=data_note,
        notes=f"toontalker train stage {recipe.stage}, step {step} of {recipe.iterations} "
              f"(batch {recipe.batch_size}, lr {recipe.lr}, lambda_per {recipe.lambda_per}, "
              f"lambda_m {recipe.lambda_m}, analogy {'on' if recipe.analogy else 'off'}, perceptual {recipe.perceptual})",
    )
    dtype = None if recipe.export_dtype == "fp32" else recipe.export_dtype
    return save_pretrained(model, folder, card=card, dtype=dtype, max_shard_size=recipe.export_max_shard)
