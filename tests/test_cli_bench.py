"""`toontalker bench` through the CLI: protocol, quality, paired; errors are one line with exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench_fixtures import shared_manifest
from toontalker.cli import app


def _manifest_csv(shared_data, tmp_path):
    path = tmp_path / "manifest.csv"
    shared_manifest(shared_data).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_bench_protocol_command(cli_runner, shared_data, tmp_path):
    manifest = _manifest_csv(shared_data, tmp_path)
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "protocol",
            "--data",
            str(manifest),
            "--out",
            str(tmp_path / "p"),
            "-s",
            "cartoon-to-real",
            "-s",
            "same-identity",
            "--seed",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert [w["setting"] for w in written] == ["cartoon-to-real", "same-identity"]
    pairs = pd.read_csv(tmp_path / "p" / "cartoon-to-real.csv")
    assert len(pairs) == written[0]["pairs"] == 3 * 5  # 3 cartoon clips x 5 of the real test sources


def test_bench_errors_are_one_line(cli_runner, tmp_path):
    result = cli_runner.invoke(app, ["bench", "protocol", "--data", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "missing.csv: manifest not found" in result.output
    result = cli_runner.invoke(app, ["bench", "quality", "--data", str(tmp_path), "--ablation", "full=x"])
    assert result.exit_code == 2 and "ablation variants need table 5, 6 or 7" in result.output
    result = cli_runner.invoke(app, ["bench", "paired", "--data", str(tmp_path), "-w", "x", "--source", "nope"])
    assert result.exit_code == 2 and "'nope' is not one of" in result.output


def _built_dataset(cli_runner, shared_data, tmp_path):
    """A real dataset made with the dataset tools: short real and cartoon clips imported at 64 px, split."""
    sources = {
        "real": ("real/videos", ("vtoonify_529_2", "vtoonify_7154235", "vtoonify_908", "liveportrait_d20")),
        "cartoon": ("cartoon/videos/tha2_characters", ("a_chan", "aduchi_momo", "aiba_uiha")),
    }
    out = tmp_path / "dataset"
    for domain, (folder, stems) in sources.items():
        src = tmp_path / f"raw-{domain}"
        src.mkdir()
        for stem in stems:
            (src / f"{stem}.mp4").symlink_to(shared_data / folder / f"{stem}.mp4")
        result = cli_runner.invoke(
            app,
            [
                "dataset",
                "import",
                str(src),
                str(out),
                "--domain",
                domain,
                "--size",
                "64",
                "--identity-from",
                "stem",
                "-q",
            ],
        )
        assert result.exit_code == 0, result.output
    result = cli_runner.invoke(app, ["dataset", "split", str(out), "--test", "3", "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_bench_quality_and_paired_end_to_end_with_the_tiny_model(cli_runner, shared_data, tmp_path):
    """Dataset tools -> bench protocol -> bench quality/paired with the real model (tiny preset, random
    weights saved with save_pretrained): numbers meaningless, pipeline real."""
    import torch

    from toontalker.model import ModelConfig, ToonTalker
    from toontalker.weights import save_pretrained

    torch.manual_seed(0)
    weights = tmp_path / "tiny"
    save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), weights)
    dataset = _built_dataset(cli_runner, shared_data, tmp_path)
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "protocol",
            "--data",
            str(dataset),
            "--out",
            str(tmp_path / "p"),
            "--sources-per-driver",
            "1",
            "--max-frames",
            "3",
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "quality"
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "quality",
            "--weights",
            str(weights),
            "--data",
            str(tmp_path / "p"),
            "--out",
            str(out),
            "--max-pairs",
            "1",
            "--batch-size",
            "2",
            "--samples",
            "1",
            "-m",
            "l1",
            "-m",
            "ssim",
            "-m",
            "cpbd",
            "-m",
            "fid",
            "-m",
            "csim-dlib",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Table 1. Cross-domain reenactment" in result.stdout and "28.531" in result.stdout
    assert "fid: unavailable: pt_inception-2015-12-05-6726825d.pth missing (download" in result.stdout
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["setting"]) == {
        "same-identity",
        "cross-identity-real",
        "cross-identity-cartoon",
        "real-to-cartoon",
        "cartoon-to-real",
    }
    cpbd = summary[summary["metric"] == "cpbd"]
    assert cpbd["value"].between(0, 1).all() and (cpbd["frames"] == 3).all()
    l1 = summary[(summary["metric"] == "l1") & (summary["setting"] == "same-identity")]["value"].item()
    assert 0 < l1 < 1
    assert (out / "pairs-real-to-cartoon.parquet").is_file() and (out / "contact-real-to-cartoon.png").is_file()

    result = cli_runner.invoke(
        app,
        [
            "bench",
            "paired",
            "--weights",
            str(weights),
            "--data",
            str(shared_data),
            "--out",
            str(tmp_path / "paired"),
            "--max-frames",
            "3",
            "--max-pairs",
            "4",
            "-m",
            "psnr",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    psnr = payload["runs"][0]["settings"][0]["metrics"][0]
    assert psnr["name"] == "psnr" and psnr["count"] == 4 * 3 and psnr["value"] > 0


def test_bench_storage_command(cli_runner, examples, tmp_path):
    """The former `python -m toontalker.dataset.storage_bench`, as a Typer command."""
    out = tmp_path / "storage.json"
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "storage",
            str(examples),
            "--clips",
            "1",
            "--frames",
            "4",
            "--size",
            "32",
            "--pairs",
            "3",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["fmt"] for r in rows] == ["jpg", "png", "npy", "mp4"]
    assert all(r["frames_per_s"] > 0 and r["kib_per_frame"] > 0 for r in rows)
    assert json.loads(out.read_text()) == rows
    empty = cli_runner.invoke(app, ["bench", "storage", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "none: not a folder" in empty.output and "Traceback" not in empty.output


def test_dataset_detectors_measure_options(cli_runner, tmp_path):
    """The former `python -m toontalker.faces.hitrate`: `dataset detectors --measure` takes its options."""
    result = cli_runner.invoke(
        app,
        ["dataset", "detectors", "--measure", str(tmp_path), "--max-items", "2", "--frames-per-video", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "haar" in report["backends"] and report["hit_rates"] == []  # no media in an empty folder
    bad = cli_runner.invoke(app, ["dataset", "detectors", "--measure", str(tmp_path), "--frames-per-video", "0"])
    assert bad.exit_code == 2
