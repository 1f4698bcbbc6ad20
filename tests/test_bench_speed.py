"""`toontalker bench speed` on the tiny preset (CPU): the measurement runs the real model and reports rows."""

from __future__ import annotations

import json

from toontalker.bench.speed import SpeedBenchConfig, run_speed_bench
from toontalker.cli import app
from toontalker.devices import cpu_has_native_bf16


def test_speed_bench_measures_each_batch_size():
    cfg = SpeedBenchConfig(presets=("tiny",), batch_sizes=(1, 3), iters=2, warmup=1, device="cpu")
    seen = []
    report = run_speed_bench(cfg, seen.append)
    assert [r.batch_size for r in report.rows] == [1, 3] and list(report.rows) == seen
    for row in report.rows:
        assert row.error is None and row.dtype == ("bf16" if cpu_has_native_bf16() else "fp32")  # dtype auto
        assert row.image_size == 64
        assert row.frames_per_second > 0 and row.ms_per_batch <= row.ms_per_batch_p90
        assert abs(row.ms_per_frame * row.batch_size - row.ms_per_batch) < 1e-6
        assert row.peak_memory_mb > 0 and row.params_m > 0


def test_speed_cli_json_and_file(cli_runner, tmp_path):
    out = tmp_path / "speed.json"
    result = cli_runner.invoke(
        app,
        [
            "bench",
            "speed",
            "--presets",
            "tiny",
            "--batch-sizes",
            "2",
            "--iters",
            "1",
            "--warmup",
            "0",
            "--device",
            "cpu",
            "--json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"][0]["preset"] == "tiny" and report["rows"][0]["batch_size"] == 2
    assert json.loads(out.read_text())["rows"] == report["rows"]
    table = cli_runner.invoke(
        app,
        [
            "bench",
            "speed",
            "--presets",
            "tiny",
            "--batch-sizes",
            "1",
            "--iters",
            "1",
            "--warmup",
            "0",
            "--device",
            "cpu",
        ],
    )
    assert table.exit_code == 0 and "animate core speed" in table.stdout and "tiny" in table.stdout


def test_speed_cli_rejects_bad_batch_sizes(cli_runner):
    result = cli_runner.invoke(app, ["bench", "speed", "--batch-sizes", "a,b"])
    assert result.exit_code == 2 and "--batch-sizes" in result.stderr
