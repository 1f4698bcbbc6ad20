"""The model card (README.md) written next to released weights, built with huggingface_hub's ``ModelCard``.

The YAML header is a ``ModelCardData`` (library, licence, tags, model name); the body says the preset,
the parameters per component (measured), the stored dtype and files, the training data, metrics and usage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toontalker.errors import UsageError
from toontalker.model.config import ModelConfig

if TYPE_CHECKING:
    from huggingface_hub import ModelCard

    from toontalker.model.toontalker import ParameterCounts

LIBRARY_NAME = "toontalker"
TAGS = ("face-reenactment", "cartoon", "toontalker")


@dataclass(frozen=True)
class CardInfo:
    """What the card says beyond what the weights themselves tell (parameters and config are measured)."""

    preset: str | None = None
    training_data: str = "not stated"
    metrics: tuple[tuple[str, float], ...] = ()  # (name, value) pairs, e.g. ("FID real->cartoon", 28.5)
    license: str = "apache-2.0"
    notes: str = ""
    repo_id: str | None = None

    def __post_init__(self) -> None:
        if not self.license.strip():
            raise UsageError("card license must not be empty")
        for name, value in self.metrics:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not isinstance(name, str) or not name.strip() or not (number and math.isfinite(value)):
                raise UsageError(f"card metric {name!r}={value!r}: expected a name and a finite number")


def matching_preset(config: ModelConfig) -> str | None:
    """The name of the preset ``config`` equals, if any."""
    for name in ModelConfig.preset_names():
        if ModelConfig.from_name(name) == config:
            return name
    return None


def _model_lines(config: ModelConfig, preset: str, dtype: str, files: list[str]) -> list[str]:
    skip = "on (not in the paper: docs/model.md)" if config.motion_skip else "off (the paper layout)"
    return [
        "## Model",
        "",
        f"- preset: `{preset}`; image size {config.image_size}x{config.image_size}; K = {config.num_motions}, "
        f"d = {config.code_dim}",
        f"- ablations: query transformer `{config.query_transformer}`, backward transformer "
        f"{'on' if config.backward_transformer else 'off'}, SFT {'on' if config.sft else 'off'}; `motion_skip` {skip}",
        f"- stored dtype: {dtype}; files: {', '.join(files)}",
        "",
    ]


def _count_lines(counts: ParameterCounts) -> list[str]:
    return [
        "| component | parameters |",
        "| --- | ---: |",
        f"| appearance encoder Ea (per domain) | {counts.appearance_encoder:,} |",
        f"| motion encoder Em (per domain) | {counts.motion_encoder:,} |",
        f"| motion base p (per domain) | {counts.motion_base:,} |",
        f"| backward transformer T_B (per domain) | {counts.backward_transformer:,} |",
        f"| generator G (per domain) | {counts.generator:,} |",
        f"| query transformers T_s->r, T_r->d (shared) | {counts.shared:,} |",
        f"| **total (two domains)** | **{counts.total:,}** |",
        "",
    ]


def _usage_lines(info: CardInfo) -> list[str]:
    load_from = info.repo_id or "path/to/this/folder"
    metrics = (
        ["| metric | value |", "| --- | ---: |"] + [f"| {n} | {v:.4g} |" for n, v in info.metrics]
        if info.metrics
        else ["No metrics reported for these weights."]
    )
    lines = [
        "## Training data",
        "",
        info.training_data,
        "",
        "## Metrics",
        "",
        *metrics,
        "",
        "## Usage",
        "",
        "```python",
        "from toontalker import ToonTalker",
        "",
        f'model = ToonTalker.from_pretrained("{load_from}")',
        "```",
        "",
        "```bash",
        f"toontalker weights info {load_from}",
        "```",
    ]
    return lines + (["", "## Notes", "", info.notes] if info.notes else [])


def build_card(
    info: CardInfo, config: ModelConfig, *, counts: ParameterCounts, dtype: str, files: list[str]
) -> ModelCard:
    """The card of weights with ``config`` stored as ``dtype`` in ``files`` (``card.save(path)`` writes it)."""
    from huggingface_hub import ModelCard, ModelCardData

    preset = info.preset or matching_preset(config) or "custom"
    data = ModelCardData(
        library_name=LIBRARY_NAME, license=info.license, tags=list(TAGS), model_name=f"ToonTalker ({preset})"
    )
    body = [
        f"# ToonTalker ({preset})",
        "",
        "Cross-domain face reenactment (ToonTalker, ICCV 2023): drive a cartoon face with a real video and a real",
        "face with a cartoon video. Weights for the `toontalker` package.",
        "",
        *_model_lines(config, preset, dtype, files),
        *_count_lines(counts),
        *_usage_lines(info),
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body) + "\n")
