"""Which weights animate runs on: a folder or hub id, the project's shipped default, or (say so loudly)
a randomly initialised preset for testing the pipeline.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from toontalker.errors import UsageError, WeightsError

RANDOM_WEIGHTS_WARNING = (
    "RANDOM WEIGHTS: the model is randomly initialised ({preset}); the output exercises the pipeline "
    "but its pictures are meaningless"
)


def default_weights() -> Path | None:
    """The weights shipped with the package (``toontalker/weights/default/``: safetensors + config.json).

    Returns the folder, or ``None`` while the package ships none (then animate needs ``weights`` or
    ``random_weights=True``).
    """
    try:
        folder = importlib.resources.files("toontalker") / "weights" / "default"
    except ModuleNotFoundError:
        return None
    path = Path(str(folder))
    return path if (path / "config.json").is_file() else None


@dataclass(frozen=True)
class WeightsChoice:
    """What the model was loaded from: ``source`` is a folder/hub id, ``"default"`` or ``"random:<preset>"``."""

    source: str
    preset: str | None
    random: bool

    @property
    def warning(self) -> str | None:
        return RANDOM_WEIGHTS_WARNING.format(preset=self.preset) if self.random else None


def load_model(weights: str | Path | None, preset: str | None, random_weights: bool, seed: int = 0):
    """The ToonTalker model (eval mode, CPU, fp32) and where its weights came from.

    ``weights`` (a folder or hub id) wins; else the shipped default; ``random_weights`` with ``preset``
    builds an untrained model instead (for pipeline tests and speed benchmarks only).
    """
    import torch

    from toontalker.model import ModelConfig, ToonTalker

    if random_weights:
        if weights is not None:
            raise UsageError("--random-weights and --weights exclude each other")
        name = preset or "tiny"
        config = ModelConfig.from_name(name)
        generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            model = ToonTalker(config)
        return model.eval(), WeightsChoice(f"random:{name}", name, True)
    if preset is not None and weights is None and default_weights() is None:
        raise UsageError(
            f"--preset {preset} names an architecture, not trained weights; add --random-weights to run it "
            "untrained (meaningless output), or give --weights DIR_OR_HUB_ID"
        )
    source: str | Path | None = weights if weights is not None else default_weights()
    if source is None:
        raise WeightsError(
            "no weights: this install ships no default weights yet; pass --weights DIR_OR_HUB_ID, "
            "or --preset tiny --random-weights to test the pipeline (meaningless output)"
        )
    from toontalker.hub import from_pretrained

    model = from_pretrained(str(source))
    config_name = preset
    return model.eval(), WeightsChoice("default" if weights is None else str(source), config_name, False)
