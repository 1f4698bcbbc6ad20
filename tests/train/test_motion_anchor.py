"""Our stage-2 switch ``lambda_motion_anchor`` (train/motion_anchor.py): the cartoon motion path's code differences
of real frames held at the real path's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from shared_clips import import_clips
from toontalker.cli import app
from toontalker.errors import ConfigError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.train import TrainRecipe
from toontalker.train.motion_anchor import motion_anchor


def _frames(config: ModelConfig, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, config.image_size, config.image_size, generator=g) * 2 - 1


def test_the_anchor_is_zero_for_a_copy_and_trains_the_cartoon_motion_path_only() -> None:
    torch.manual_seed(0)
    model = ToonTalker(ModelConfig.from_name("tiny"))
    model.copy_domain("real", "cartoon")
    source, driving = _frames(model.config, 1), _frames(model.config, 2)
    assert motion_anchor(model, source, driving).item() == 0.0  # the stage-2 start: the cartoon path is a copy

    with torch.no_grad():
        for p in model.domains["cartoon"].motion_encoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    anchor = motion_anchor(model, source, driving)
    w = {d: model.encode_driving(torch.cat([source, driving]), d).detach() for d in ("real", "cartoon")}
    expected = ((w["cartoon"][2:] - w["cartoon"][:2]) - (w["real"][2:] - w["real"][:2])).abs().mean()
    assert anchor.item() > 0 and anchor.item() == pytest.approx(expected.item(), rel=1e-5)

    anchor.backward()
    cartoon_grads = [p.grad for p in model.domains["cartoon"].motion_encoder.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in cartoon_grads)
    assert all(p.grad is None for p in model.domains["real"].parameters())  # the real path is the detached teacher
    assert all(p.grad is None for p in model.domains["cartoon"].generator.parameters())  # the renderer is not in it


def test_the_recipe_takes_the_anchor_at_stage_2_only() -> None:
    assert TrainRecipe.for_stage("tiny", 2, lambda_motion_anchor=2.0).lambda_motion_anchor == 2.0
    assert TrainRecipe.for_stage("tiny", 2).lambda_motion_anchor == 0.0  # off by default: the paper's recipe
    with pytest.raises(ConfigError, match="lambda_motion_anchor applies to stage 2 only"):
        TrainRecipe.for_stage("tiny", 1, lambda_motion_anchor=1.0)
    with pytest.raises(ConfigError, match="lambda_motion_anchor must be >= 0"):
        TrainRecipe.for_stage("tiny", 2, lambda_motion_anchor=-1.0)


def test_stage_2_with_the_anchor_on_shared_clips(cli_runner, shared_data: Path, tmp_path: Path) -> None:
    """Stage 1, then stage 2 from it (the cartoon side a copy of the real one) with the anchor and the real side
    frozen, on real and THA2 clips: the anchor is 0 at the first step and grows as the cartoon path trains."""
    dataset = import_clips(cli_runner, shared_data, tmp_path)
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    common = ["--device", "cpu", "--preset", "tiny", "--perceptual", "dfm", "--set", "log_every=1"]
    r1 = cli_runner.invoke(
        app, ["train", "--stage", "1", "--data", str(dataset), "--out", str(s1), "--set", "iterations=1", *common]
    )
    assert r1.exit_code == 0, r1.output
    args = ["train", "--stage", "2", "--data", str(dataset), "--cartoon-data", str(dataset), "--init", str(s1)]
    r2 = cli_runner.invoke(
        app,
        [
            *args,
            "--out",
            str(s2),
            "--set",
            "iterations=3",
            "--set",
            "lambda_motion_anchor=1",
            "--set",
            "frozen_parts=[real, shared]",
            "--json",
            *common,
        ],
    )
    assert r2.exit_code == 0, r2.output
    logged = [json.loads(line) for line in (s2 / "metrics.jsonl").read_text().splitlines()]
    anchors = [row["motion_anchor"] for row in logged if "motion_anchor" in row]
    assert len(anchors) == 3 and anchors[0] == 0.0 and anchors[-1] > 0.0
    assert json.loads(r2.stdout)["losses"]["motion_anchor"] == pytest.approx(anchors[-1], rel=1e-2)


def test_the_cartoon_motion_probe_measures_how_far_the_cartoon_path_moves(
    cli_runner, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/cartoon_motion_probe.py on real shared clips with tiny weights: a copied cartoon side moves exactly
    as the real one (ratio 1, cosine 1); a cartoon motion encoder scaled towards zero moves less."""
    import importlib.util

    from toontalker.weights import save_pretrained

    spec = importlib.util.spec_from_file_location(
        "cartoon_motion_probe", Path(__file__).resolve().parents[2] / "scripts" / "cartoon_motion_probe.py"
    )
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, probe)  # its dataclass looks its module up
    spec.loader.exec_module(probe)
    dataset = import_clips(cli_runner, shared_data, tmp_path, cartoon=False)
    source, driving = probe.frame_pairs(str(dataset), 6, split=None, size=64)
    assert source.shape == driving.shape == (6, 3, 64, 64) and not torch.equal(source, driving)
    torch.manual_seed(0)
    model = ToonTalker(ModelConfig.from_name("tiny"))
    model.copy_domain("real", "cartoon")
    save_pretrained(model, tmp_path / "copy")
    with torch.no_grad():
        for p in model.domains["cartoon"].motion_encoder.parameters():
            p.mul_(0.5)
    save_pretrained(model, tmp_path / "shrunk")
    copy, shrunk = (probe.path_motion(str(tmp_path / n), source, driving) for n in ("copy", "shrunk"))
    assert copy.real_motion > 0 and copy.ratio == pytest.approx(1.0) and copy.cosine == pytest.approx(1.0, abs=1e-5)
    assert shrunk.real_motion == pytest.approx(copy.real_motion)
    assert shrunk.cartoon_motion != pytest.approx(copy.cartoon_motion) and shrunk.cosine < 0.9999
