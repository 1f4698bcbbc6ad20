"""Run by tests/train/test_train_ddp.py under torchrun (CPU processes, gloo): a few tiny steps.

Arguments: OUT STAGE RECIPE_JSON [INIT | --resume]."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_clips import SyntheticPairs  # noqa: E402
from toontalker.train import TrainRecipe, train  # noqa: E402


def main() -> None:
    out, stage = Path(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    recipe = TrainRecipe.from_dict(__import__("json").loads(sys.argv[3]))
    extra = sys.argv[4] if len(sys.argv) > 4 else None
    resume = extra == "--resume"
    init = Path(extra) if extra is not None and not resume else None
    cartoon = SyntheticPairs(3, seed=5) if stage == 2 else None
    train(
        recipe,
        real=SyntheticPairs(4),
        cartoon=cartoon,
        out=out,
        init=init,
        resume=resume,
        device="cpu",
        show_progress=False,
    )


if __name__ == "__main__":
    main()
