"""Saving a ToonTalker as a weights folder: huggingface_hub's sharded safetensors, config.json, the model card.

Files are written to a staging folder inside the target and moved into place (config.json last), so a
failure leaves the earlier set whole; weights files of an earlier save with another sharding are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import torch

from toontalker.devices import parse_dtype, torch_dtype_name
from toontalker.errors import UsageError
from toontalker.io_utils import apply_default_mode, ensure_parent_writable, remove_stale_temps, temp_prefix
from toontalker.model.toontalker import ToonTalker
from toontalker.weights.card import CardInfo, build_card
from toontalker.weights.integrity import CHECKSUM_KEY, checksums
from toontalker.weights.layout import CARD_NAME, CONFIG_NAME, INDEX_NAME, SHARD_PATTERN, WEIGHTS_NAME, is_weights_file

_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_size(value: int | str) -> int:
    """Bytes from an int or a string like '2GB', '15MiB', '500kB'."""
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]|[bB])?\s*", value)
        if not match:
            raise UsageError(f"cannot read size {value!r}; write e.g. 2GB or 15MiB")
        size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "B").lower()])
    if size <= 0:
        raise UsageError(f"shard size must be positive, got {value!r}")
    return size


def release_state(model: ToonTalker, dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
    """``model``'s state dict on the CPU, contiguous, floating tensors cast to ``dtype`` (None: as they are)."""
    return {
        key: (value.to(dtype) if dtype is not None and value.is_floating_point() else value).detach().cpu().contiguous()
        for key, value in model.state_dict().items()
    }


def _write_tensors(state: dict[str, torch.Tensor], staging: Path, max_bytes: int) -> list[str]:
    """Shards (huggingface_hub's ``save_torch_state_dict``) in ``staging``; -> the safetensors file names."""
    from huggingface_hub import save_torch_state_dict

    save_torch_state_dict(state, staging, filename_pattern=SHARD_PATTERN, max_shard_size=max_bytes)
    index = staging / INDEX_NAME
    if not index.is_file():
        return [WEIGHTS_NAME]
    return sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))


def _write_config(model: ToonTalker, staging: Path, *, dtype_name: str, names: list[str]) -> None:
    from toontalker import __version__

    config = {
        "model_type": "toontalker",
        "torch_dtype": dtype_name,
        "toontalker_version": __version__,
        **model.config.to_dict(),
        CHECKSUM_KEY: checksums(staging, names),
    }
    (staging / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _publish(staging: Path, directory: Path) -> None:
    """Move the staged files into ``directory`` (config.json last), removing weights files they replace."""
    written = set(os.listdir(staging))
    for stale in directory.iterdir():  # weights of an earlier save with another sharding
        if stale.name not in written and is_weights_file(stale.name):
            stale.unlink()
    for name in sorted(written, key=lambda n: n == CONFIG_NAME):
        os.replace(staging / name, directory / name)


def save_pretrained(
    model: ToonTalker,
    directory: str | Path,
    *,
    card: CardInfo | None = None,
    dtype: str | torch.dtype | None = None,
    max_shard_size: int | str = "2GB",
) -> Path:
    """Write config.json, model.safetensors (sharded above ``max_shard_size``) and README.md to ``directory``.

    ``dtype`` ('fp16', 'bf16', ...) casts floating tensors for release; default keeps the model's dtype.
    """
    directory = Path(directory)
    state = release_state(model, parse_dtype(dtype))
    max_bytes = parse_size(max_shard_size)
    stored = {torch_dtype_name(v.dtype) for v in state.values() if v.is_floating_point()}
    dtype_name = ",".join(sorted(stored))
    ensure_parent_writable(directory / CONFIG_NAME)
    remove_stale_temps(directory / "staging")  # what a killed save left
    staging = Path(tempfile.mkdtemp(prefix=temp_prefix(directory / "staging"), dir=directory))
    apply_default_mode(staging, directory=True)
    try:
        names = _write_tensors(state, staging, max_bytes)
        _write_config(model, staging, dtype_name=dtype_name, names=names)
        model_card = build_card(
            card or CardInfo(), model.config, counts=model.parameter_counts(), dtype=dtype_name, files=names
        )
        model_card.save(staging / CARD_NAME)
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory
