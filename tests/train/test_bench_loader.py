"""`bench loader`: the training loader's pairs/s per clip format and worker count, on clips of real videos."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from toontalker.cli import app
from toontalker.dataset.importer import ImportOptions, import_clips
from toontalker.train.bench_loader import LoaderBenchOptions, run_loader_bench

VIDEOS = ("spectre_OzA6jRYjVQs_00004.mp4", "spectre_PbgB2TaYhio_00007.mp4")  # 27 and 35 frames


@pytest.fixture()
def tiny_dataset(shared_data: Path, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for i, name in enumerate(VIDEOS):
        (src / f"person{i}").mkdir(parents=True)
        (src / f"person{i}" / name).symlink_to(shared_data / "real" / "videos" / name)
    summary = import_clips(src, tmp_path / "data", ImportOptions(size=32))
    assert summary.clips == 2
    return tmp_path / "data"


def test_loader_bench_measures_every_format_and_worker_count(tiny_dataset: Path) -> None:
    options = LoaderBenchOptions(workers=(0, 1), batch=2, size=24, clips=2, seconds=0.3, target=900.0)
    result = run_loader_bench(tiny_dataset, options)
    assert [(r.format, r.workers) for r in result.rows] == [(f, w) for f in ("jpg", "npy", "mp4") for w in (0, 1)]
    assert all(r.batches >= 1 and r.pairs_per_s > 0 and r.pairs_per_cpu_s > 0 for r in result.rows), result.rows
    kib = {r.format: r.kib_per_frame for r in result.rows}
    assert kib["npy"] == round(24 * 24 * 3 / 1024, 1) and kib["mp4"] < kib["jpg"] < kib["npy"]
    assert result.frames_per_clip == (27 + 35) / 2 and result.size == 24
    for fmt in ("jpg", "npy", "mp4"):
        rates = sorted(r.pairs_per_cpu_s for r in result.rows if r.format == fmt)
        assert result.cores_needed[fmt] == math.ceil(900.0 / ((rates[0] + rates[1]) / 2))


def test_bench_loader_command(tiny_dataset: Path, cli_runner, tmp_path: Path) -> None:
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "loader",
            str(tiny_dataset),
            "--format",
            "npy",
            "--workers",
            "0",
            "--batch",
            "2",
            "--size",
            "16",
            "--seconds",
            "0.2",
            "--json",
            "-o",
            str(tmp_path / "loader.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(r["format"], r["workers"]) for r in report["rows"]] == [("npy", 0)]
    assert report["target"] == 3600.0 and report["cores_needed"]["npy"] >= 1
    assert json.loads((tmp_path / "loader.json").read_text()) == report
    bad = cli_runner.invoke(app, ["bench", "loader", str(tiny_dataset), "--format", "gif"])
    assert bad.exit_code == 2 and "'gif' is not one of" in bad.output
