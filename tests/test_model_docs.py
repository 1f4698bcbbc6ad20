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
            measured = [c.appearance_encoder, c.motion_encoder, c.motion_base, c.backward_transformer, c.generator,
                        c.per_domain, c.shared, c.total, d]
            assert values == measured, preset
