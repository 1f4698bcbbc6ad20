"""Model weights, one home: save, load, model cards, the shipped default weights, integrity and the hub.

=================  ============================================================================================
module             what it holds
=================  ============================================================================================
``layout``         the files of a weights folder (config.json, model.safetensors or shards + index, README.md)
``save``           ``save_pretrained`` (huggingface_hub's ``save_torch_state_dict`` sharding, staged, atomic)
``load``           ``load_folder``: strict loading (keys, shapes) with one-line errors
``integrity``      NaN/Inf checks and the sha256 per file that config.json records
``card``           ``CardInfo`` and the model card built with huggingface_hub's ``ModelCard``/``ModelCardData``
``hub``            hub ids, ``pull`` / ``push``, ``resolve_weights``, ``from_pretrained`` (folder or hub id)
``timeouts``       a deadline on every hub request (``TOONTALKER_HUB_TIMEOUT``)
``info``           ``weights_info`` (``toontalker weights info``)
``export``         ``convert_checkpoint`` and the export written with every training checkpoint
``default``        ``default_weights()`` (the data folder ``default/``) and animate's weights choice
=================  ============================================================================================

:class:`~toontalker.model.ToonTalker` carries huggingface_hub's method names on the class:
``ToonTalker.from_pretrained(...)``, ``model.save_pretrained(...)``, ``model.push_to_hub(...)``, all of them
thin calls into this package. ``toontalker/weights/default/`` is data (the demo weights), not a module.
"""

from __future__ import annotations

from toontalker.weights.card import CardInfo, build_card, matching_preset
from toontalker.weights.default import WeightsChoice, default_weights, load_model
from toontalker.weights.export import convert_checkpoint, export_release
from toontalker.weights.hub import from_pretrained, parse_hub_id, pull, push, push_model, resolve_weights
from toontalker.weights.info import WeightFile, WeightsInfo, weights_info
from toontalker.weights.integrity import CHECKSUM_KEY
from toontalker.weights.layout import CARD_NAME, CONFIG_NAME, INDEX_NAME, WEIGHTS_NAME, read_config, weight_files
from toontalker.weights.load import load_folder, load_state_strict, read_state
from toontalker.weights.save import parse_dtype, parse_size, save_pretrained

__all__ = [
    "CARD_NAME",
    "CHECKSUM_KEY",
    "CONFIG_NAME",
    "INDEX_NAME",
    "WEIGHTS_NAME",
    "CardInfo",
    "WeightFile",
    "WeightsChoice",
    "WeightsInfo",
    "build_card",
    "convert_checkpoint",
    "default_weights",
    "export_release",
    "from_pretrained",
    "load_folder",
    "load_model",
    "load_state_strict",
    "matching_preset",
    "parse_dtype",
    "parse_hub_id",
    "parse_size",
    "pull",
    "push",
    "push_model",
    "read_config",
    "read_state",
    "resolve_weights",
    "save_pretrained",
    "weight_files",
    "weights_info",
]
