"""What a weights folder holds, and reading its config.json and file list.

A weights folder (a release, a training checkpoint's export, a hub snapshot) holds

* ``config.json`` -- the :class:`~toontalker.model.ModelConfig` fields, plus ``model_type``, ``torch_dtype``,
  ``toontalker_version`` and ``weights_sha256`` (ignored when building the config; a plain ModelConfig JSON,
  or one nested under ``"model"``, is accepted too);
* ``model.safetensors`` -- the ToonTalker state dict (both domains and the shared transformers, no
  discriminators), or ``model-0000i-of-0000n.safetensors`` shards plus ``model.safetensors.index.json``
  (``{"metadata": {"total_size": N}, "weight_map": {key: file}}``), huggingface_hub's sharded layout;
* ``README.md`` -- the model card (:mod:`toontalker.weights.card`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from toontalker.errors import ConfigError, WeightsError
from toontalker.model.config import ModelConfig
from toontalker.weights.integrity import CHECKSUM_KEY

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"
CARD_NAME = "README.md"
SHARD_PATTERN = "model{suffix}.safetensors"  # huggingface_hub's filename_pattern: suffix "-00001-of-00004"
HUB_FILES = [CONFIG_NAME, CARD_NAME, "*.safetensors", INDEX_NAME]  # what pull downloads and push uploads
CONFIG_METADATA_KEYS = ("model_type", "torch_dtype", "toontalker_version", CHECKSUM_KEY)
SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")


def read_config(path: str | Path) -> ModelConfig:
    """A ModelConfig from a weights/checkpoint ``config.json`` (metadata keys ignored; a nested ``model`` accepted)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: missing {CONFIG_NAME}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: expected a JSON object")
    if "image_size" not in data and isinstance(data.get("model"), dict):
        data = data["model"]
    data = {k: v for k, v in data.items() if k not in CONFIG_METADATA_KEYS}
    # weights saved before ``motion_skip`` existed have the paper's layout, whatever today's default is
    data.setdefault("motion_skip", False)
    try:
        return ModelConfig.from_dict(data)
    except ConfigError as exc:
        raise WeightsError(f"{path}: not a ToonTalker model config: {exc}") from exc


def weight_files(directory: Path) -> list[Path]:
    """The safetensors files of a weights folder (one file, or the shards named by the index)."""
    index = directory / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise WeightsError(f"{index}: corrupted shard index ({type(exc).__name__}: {exc})") from exc
        missing = [n for n in names if not (directory / n).is_file()]
        if missing:
            raise WeightsError(f"{index}: shard file(s) missing: {', '.join(missing)}")
        return [directory / n for n in names]
    single = directory / WEIGHTS_NAME
    if not single.is_file():
        raise WeightsError(f"{directory}: no {WEIGHTS_NAME} (or {INDEX_NAME}) found")
    return [single]


def is_weights_file(name: str) -> bool:
    """Whether ``name`` is one of the files that hold tensors or their index (what a re-save replaces)."""
    return name in (WEIGHTS_NAME, INDEX_NAME) or SHARD.fullmatch(name) is not None
