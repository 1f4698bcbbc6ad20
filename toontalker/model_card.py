"""The model card (README.md) written next to released weights: preset, parameters, data, metrics, usage."""

from __future__ import annotations

from dataclasses import dataclass

from toontalker.model.config import ModelConfig
from toontalker.model.toontalker import ParameterCounts


@dataclass(frozen=True)
class ModelCard:
    """What the card says beyond what the weights themselves tell (parameters and config are measured)."""

    preset: str | None = None
    training_data: str = "not stated"
    metrics: tuple[tuple[str, float], ...] = ()  # (name, value) pairs, e.g. ("FID real->cartoon", 28.5)
    license: str = "apache-2.0"
    notes: str = ""
    repo_id: str | None = None


def matching_preset(config: ModelConfig) -> str | None:
    """The name of the preset ``config`` equals, if any."""
    for name in ModelConfig.preset_names():
        if ModelConfig.from_name(name) == config:
            return name
    return None


def render_card(card: ModelCard, config: ModelConfig, counts: ParameterCounts, dtype: str, files: list[str]) -> str:
    preset = card.preset or matching_preset(config) or "custom"
    load_from = card.repo_id or "path/to/this/folder"
    lines = [
        "---",
        "library_name: toontalker",
        f"license: {card.license}",
        "tags:",
        "- face-reenactment",
        "- cartoon",
        "- toontalker",
        "---",
        "",
        f"# ToonTalker ({preset})",
        "",
        "Cross-domain face reenactment (ToonTalker, ICCV 2023): drive a cartoon face with a real video and a real",
        "face with a cartoon video. Weights for the `toontalker` package.",
        "",
        "## Model",
        "",
        f"- preset: `{preset}`; image size {config.image_size}x{config.image_size}; K = {config.num_motions}, "
        f"d = {config.code_dim}",
        f"- ablations: query transformer `{config.query_transformer}`, backward transformer "
        f"{'on' if config.backward_transformer else 'off'}, SFT {'on' if config.sft else 'off'}; `motion_skip` "
        f"{'on (not in the paper: docs/model.md)' if config.motion_skip else 'off (the paper layout)'}",
        f"- stored dtype: {dtype}; files: {', '.join(files)}",
        "",
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
        "## Training data",
        "",
        card.training_data,
        "",
        "## Metrics",
        "",
    ]
    if card.metrics:
        lines += ["| metric | value |", "| --- | ---: |"]
        lines += [f"| {name} | {value:.4g} |" for name, value in card.metrics]
    else:
        lines.append("No metrics reported for these weights.")
    lines += [
        "",
        "## Usage",
        "",
        "```python",
        "from toontalker.hub import from_pretrained",
        "",
        f'model = from_pretrained("{load_from}")',
        "```",
        "",
        "```bash",
        f"toontalker weights info {load_from}",
        "```",
    ]
    if card.notes:
        lines += ["", "## Notes", "", card.notes]
    return "\n".join(lines) + "\n"
