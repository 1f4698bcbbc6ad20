"""The copy-source baseline: through the real bench pipeline on ../shared/data and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from bench_fixtures import shared_manifest
from toontalker.bench.baselines import BaselineConfig, CopySource, make_baseline
from toontalker.bench.protocols import ProtocolOptions, generate_protocols
from toontalker.bench.quality import QualityOptions, reenact_clip
from toontalker.bench.runner import baseline_variant, quality_benchmark
from toontalker.cli import app
from toontalker.errors import UsageError


def test_copy_source_repeats_the_source_for_every_driving_frame():
    source = torch.rand(1, 3, 32, 32) * 2 - 1
    driving = torch.rand(7, 3, 32, 32) * 2 - 1
    out = reenact_clip(CopySource(BaselineConfig(32)), source, "real", driving, driving_domain="cartoon", batch_size=3)
    assert out.shape == (7, 3, 32, 32)
    assert torch.equal(out, source.expand(7, -1, -1, -1))
    with pytest.raises(UsageError, match="unknown baseline 'nope'"):
        make_baseline("nope")
    with pytest.raises(UsageError, match="at least 8"):
        BaselineConfig(4)


@pytest.mark.slow
def test_copy_source_same_identity_scores(shared_data, tmp_path):
    protocols = generate_protocols(
        shared_manifest(shared_data), ["same-identity"], ProtocolOptions(max_frames=6, seed=0), tmp_path / "p"
    )
    variant, loader = baseline_variant("copy-source", 64)
    report = quality_benchmark(
        [variant],
        [protocols[0].path],
        tmp_path / "out",
        QualityOptions(metrics=("l1", "psnr"), samples=0),
        model_loader=loader,
    )
    result = report.runs[0].settings[0]
    rows = pd.read_parquet(result.pairs_path)
    # frame 0 of each clip is the source itself (L1 0); talking heads move, so the mean over 6 frames is > 0
    assert len(rows) == 4 and (rows["l1"] > 0).all() and (rows["l1"] < 0.3).all()
    assert report.runs[0].label == "Copy source (baseline)"
    assert "Copy source (baseline) (this run)" in report.markdown.read_text()


@pytest.mark.slow
def test_bench_paired_cli_with_baseline(shared_data, tmp_path, cli_runner):
    out = tmp_path / "paired"
    args = [
        "bench",
        "paired",
        "--baseline",
        "copy-source",
        "--data",
        str(shared_data),
        "--out",
        str(out),
        "--max-pairs",
        "2",
        "--max-frames",
        "3",
        "-m",
        "l1",
        "-m",
        "ssim",
        "--device",
        "cpu",
        "--json",
    ]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    l1 = summary.query("metric == 'l1'")
    assert list(l1["run"]) == ["Copy source (baseline)"] and 0.0 < float(l1["value"].iloc[0]) < 0.5
    assert json.loads(result.stdout)  # a JSON document
    both = cli_runner.invoke(
        app, ["bench", "paired", "--baseline", "copy-source", "-w", "x", "--data", str(shared_data)]
    )
    assert both.exit_code != 0 and "not both" in both.output
