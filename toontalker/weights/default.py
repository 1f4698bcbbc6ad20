"""The default weights shipped in ``toontalker/weights/default/``, and which weights animate (and the UI, the
ONNX export) runs on: a folder or hub id, the shipped default, or (say so loudly) a randomly initialised
preset for testing the pipeline.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toontalker.errors import UsageError, WeightsError

if TYPE_CHECKING:
    from toontalker.model import ToonTalker

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


def _random_model(preset: str | None, seed: int) -> tuple[ToonTalker, WeightsChoice]:
    import torch

    from toontalker.model import ModelConfig, ToonTalker

    name = preset or "tiny"
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        model = ToonTalker(ModelConfig.from_name(name))
    return model.eval(), WeightsChoice(f"random:{name}", name, True)


def check_preset(preset: str, folder: Path, label: str) -> None:
    """UsageError unless the weights in ``folder`` (called ``label``) have the architecture of ``preset``."""
    from toontalker.weights.card import matching_preset
    from toontalker.weights.layout import CONFIG_NAME, read_config

    found = matching_preset(read_config(folder / CONFIG_NAME))
    if found != preset:
        raise UsageError(
            f"preset {preset!r} does not match the weights' config ({label} are {found or 'a custom config'}); "
            f"without random_weights a preset only checks the weights: leave preset unset to run them, or set "
            f"random_weights for an untrained {preset} model (meaningless output)"
        )


def load_model(
    weights: str | Path | None, preset: str | None, random_weights: bool, seed: int = 0
) -> tuple[ToonTalker, WeightsChoice]:
    """The ToonTalker model (eval mode, CPU, fp32) and where its weights came from.

    ``weights`` (a folder or hub id) wins; else the shipped default; ``random_weights`` with ``preset``
    builds an untrained model instead (for pipeline tests and speed benchmarks only). Without
    ``random_weights``, ``preset`` must match the loaded weights' config (UsageError otherwise): it never
    silently swaps the architecture.
    """
    if random_weights:
        if weights is not None:
            raise UsageError("--random-weights and --weights exclude each other")
        return _random_model(preset, seed)
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
    from toontalker.weights.hub import resolve_weights
    from toontalker.weights.load import load_folder

    label = "the default weights" if weights is None else f"weights {source}"
    folder = resolve_weights(str(source))
    if preset is not None:
        check_preset(preset, folder, label)
    model = load_folder(folder)
    return model.eval(), WeightsChoice("default" if weights is None else str(source), preset, False)
