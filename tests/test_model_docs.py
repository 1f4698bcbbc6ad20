"""docs/model.md's parameter table is measured, not guessed: it must equal parameter_counts()."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from toontalker.model import Discriminator, ModelConfig, ToonTalker

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def test_parameter_table_matches_the_model() -> None:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `([\w-]+)` \|((?: [\d,]+ \|){9})$", line)
        if match:
            rows[match.group(1)] = [int(v.replace(",", "")) for v in match.group(2).split("|")[:-1]]
    assert set(rows) == set(ModelConfig.preset_names())
    with torch.device("meta"):  # shapes only: no memory, no init cost
        for preset, values in rows.items():
            config = ModelConfig.from_name(preset)
            c = ToonTalker(config).parameter_counts()
            d = sum(p.numel() for p in Discriminator(config).parameters())
            measured = [
                c.appearance_encoder,
                c.motion_encoder,
                c.motion_base,
                c.backward_transformer,
                c.generator,
                c.per_domain,
                c.shared,
                c.total,
                d,
            ]
            assert values == measured, preset


def test_every_class_in_the_symbol_table_exists() -> None:
    """Each class (`Name`, `Name.method`) of the paper-symbol table is defined in the module its row names
    (or, like `ToonTalker.source_query` in the query transformers' row, is the model's public class)."""
    import importlib

    import toontalker.model

    checked = 0
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"`model/\w+\.py`", cells[3]):
            continue
        module = importlib.import_module("toontalker." + cells[3].strip("`")[:-3].replace("/", "."))
        for name in re.findall(r"`([A-Z]\w*)[`.(]", cells[2]):
            assert hasattr(module, name) or hasattr(toontalker.model, name), (
                f"docs/model.md names {name} in {cells[3]}, which has no such class"
            )
            checked += 1
    assert checked >= 20
