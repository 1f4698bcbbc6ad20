"""The model forward benchmark runs end to end on CPU (tiny preset); GPU numbers come from the lead's runs."""

from __future__ import annotations

import json

import torch
from model_helpers import one_torch_thread  # noqa: F401 (autouse fixture)
import typer

from toontalker.cli.bench_model import EPILOG, HELP, bench_model_command
from toontalker.model.bench_forward import benchmark_forward, main


def test_benchmark_forward_tiny_cpu(tmp_path) -> None:
    results = benchmark_forward("tiny", batches=(1, 3), dtypes=("fp32", "bf16"), device="cpu", warmup=1, iterations=2)
    assert [(r.batch, r.dtype) for r in results] == [(1, "fp32"), (3, "fp32"), (1, "bf16"), (3, "bf16")]
    for r in results:
        assert r.ms_per_batch > 0 and abs(r.ms_per_frame * r.batch - r.ms_per_batch) < 1e-6
        assert r.peak_memory_mib is None and r.device == "cpu"
    out = tmp_path / "bench.json"
    main(["--preset", "tiny", "--batch", "2", "--dtype", "fp32", "--device", "cpu", "--warmup", "0",
          "--iterations", "1", "--channels-last", "on", "--json", str(out)])
    rows = json.loads(out.read_text())
    assert rows[0]["channels_last"] is True and rows[0]["batch"] == 2


def test_bench_model_command(cli_runner) -> None:
    app = typer.Typer()
    app.command("model", help=HELP, epilog=EPILOG)(bench_model_command)
    app.command("other")(lambda: None)  # keep "model" a sub-command
    result = cli_runner.invoke(app, ["model", "--preset", "tiny", "--batch", "2", "--dtype", "fp32", "--device", "cpu",
                                     "--warmup", "0", "--iterations", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["preset"] == "tiny"
    result = cli_runner.invoke(app, ["model", "--dtype", "int4"])
    assert result.exit_code != 0
