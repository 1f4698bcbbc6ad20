"""Training: both stages of the paper (Sec. 3.3), losses (Eq. 6-12), checkpoints, DDP, logging."""

from toontalker.train.loop import TrainResult, train
from toontalker.train.recipe import TrainRecipe
from toontalker.train.start import recipe_for_run

__all__ = ["TrainRecipe", "TrainResult", "recipe_for_run", "train"]
