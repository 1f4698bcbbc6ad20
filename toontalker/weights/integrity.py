"""Integrity of a weights folder: every floating tensor finite, and an optional sha256 per safetensors file.

``save_pretrained`` records ``"weights_sha256": {file name: hex digest}`` in config.json; loading and
``toontalker weights info`` check the digests when they are there (folders written before, or by other
tools, have none) and always check that no tensor holds NaN or Inf: flipped bytes inside the tensor data
leave the safetensors header intact, and such weights rendered an all-black video without a word.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from toontalker.errors import WeightsError

CHECKSUM_KEY = "weights_sha256"
_CHUNK = 1 << 22


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksums(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """``{name: sha256}`` of the files ``names`` in ``folder``."""
    return {name: sha256_file(folder / name) for name in sorted(names)}


def recorded_checksums(config_file: Path) -> dict[str, str]:
    """The digests config.json records ({} when it records none)."""
    try:
        data = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}  # read_config reports a broken config.json with its own message
    recorded = data.get(CHECKSUM_KEY) if isinstance(data, dict) else None
    if recorded is None:
        return {}
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise WeightsError(f"{config_file}: {CHECKSUM_KEY} must map file names to sha256 hex digests")
    return recorded


def verify_checksums(folder: Path, files: Iterable[Path], config_file: Path) -> bool:
    """Check each of ``files`` against config.json's digest; True when all were recorded and match,
    False when config.json records none. WeightsError names the first file that differs or is unrecorded."""
    recorded = recorded_checksums(config_file)
    if not recorded:
        return False
    for file in files:
        expected = recorded.get(file.name)
        if expected is None:
            raise WeightsError(f"{file}: not listed in {config_file.name} {CHECKSUM_KEY} (a file from another save?)")
        if sha256_file(file) != expected.lower():
            raise WeightsError(
                f"{file}: sha256 differs from the one recorded in {config_file.name} "
                "(the file is damaged or was replaced)"
            )
    return True


def check_finite(tensors: Mapping[str, torch.Tensor], file: Path) -> None:
    """WeightsError naming the first floating tensor of ``file`` that holds NaN or Inf."""
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise WeightsError(
                f"{file}: tensor {key!r} holds {bad} NaN/Inf value(s) of {tensor.numel()} (damaged weights)"
            )
