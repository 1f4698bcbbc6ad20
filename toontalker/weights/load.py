"""Loading a local weights folder strictly: every key, every shape, every tensor finite, every sha256.

Any missing or unexpected key, shape mismatch, broken or damaged file raises a one-line
:class:`~toontalker.errors.WeightsError` naming the folder or file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from toontalker.errors import WeightsError
from toontalker.model.toontalker import ToonTalker
from toontalker.weights.integrity import check_finite, verify_checksums
from toontalker.weights.layout import CONFIG_NAME, read_config, weight_files


def read_state(directory: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of a weights folder, on the CPU; corrupted files (a broken header, a NaN/Inf tensor) raise
    WeightsError naming them."""
    state: dict[str, torch.Tensor] = {}
    for file in weight_files(Path(directory)):
        try:
            with safe_open(str(file), framework="pt", device="cpu") as handle:
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open handles are not iterable
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise WeightsError(f"{file}: corrupted safetensors file ({exc})") from exc
        check_finite(tensors, file)
        for key in tensors:
            if key in state:
                raise WeightsError(f"{file}: tensor {key!r} appears in more than one shard")
        state.update(tensors)
    return state


def _list(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


def load_state_strict(model: ToonTalker, state: Mapping[str, torch.Tensor], where: str | Path) -> None:
    """Load ``state`` into ``model``; missing/unexpected keys or shape mismatches raise WeightsError."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_list(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_list(unexpected)}")
        raise WeightsError(f"{where}: weights do not match the model: {'; '.join(parts)}")
    wrong = [k for k in expected if tuple(expected[k].shape) != tuple(state[k].shape)]
    if wrong:
        k = wrong[0]
        raise WeightsError(
            f"{where}: config mismatch: {len(wrong)} tensor(s) have other shapes than config.json implies, "
            f"e.g. {k} is {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} for the config"
        )
    model.load_state_dict(state, strict=True)


def load_folder(directory: str | Path) -> ToonTalker:
    """Build the model of ``directory/config.json`` and load its weights strictly (CPU, float32); every tensor
    must be finite and each file must match the sha256 config.json records for it (where it records one)."""
    directory = Path(directory)
    config = read_config(directory / CONFIG_NAME)
    model = ToonTalker(config)
    load_state_strict(model, read_state(directory), directory)
    verify_checksums(directory, weight_files(directory), directory / CONFIG_NAME)
    return model
