"""`toontalker train` through the CLI; end to end on clips imported from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shared_clips import import_clips
from toontalker.cli import app


def test_help_lists_examples(cli_runner) -> None:
    result = cli_runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for text in ("--stage", "--cartoon-data", "--no-analogy", "--lambda-m", "--perceptual", "--resume", "torchrun"):
        assert text in result.output


def test_missing_vgg_is_one_clear_line(cli_runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    result = cli_runner.invoke(
        app,
        [
            "train",
            "--stage",
            "1",
            "--data",
            str(tmp_path),
            "--preset",
            "tiny",
            "--out",
            str(tmp_path / "run"),
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 1
    assert "vgg19-dcbb9e9d.pth" in result.output and "perceptual 'dfm'" in result.output
    assert "Traceback" not in result.output


def test_bad_options_are_usage_errors(cli_runner, tmp_path: Path) -> None:
    base = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--device", "cpu"]
    result = cli_runner.invoke(app, [*base, "--stage", "1", "--preset", "tiny", "--set", "lr=fast"])
    assert result.exit_code == 2 and "expected a number" in result.output
    result = cli_runner.invoke(app, [*base, "--stage", "1", "--preset", "tiny", "--resume"])
    assert result.exit_code == 2 and "drop --preset" in result.output
    result = cli_runner.invoke(app, [*base, "--stage", "1", "--resume"])
    assert result.exit_code == 1 and "no checkpoint yet" in result.output


@pytest.mark.slow
def test_both_stages_end_to_end_on_shared_data(cli_runner, shared_data: Path, tmp_path: Path, vgg_cached: Path) -> None:
    dataset = import_clips(cli_runner, shared_data, tmp_path)
    split = cli_runner.invoke(app, ["dataset", "split", str(dataset), "--test", "1", "-q"])  # for heldout_every
    assert split.exit_code == 0, split.output
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    common = ["--device", "cpu", "--set", "checkpoint_every=2"]
    r1 = cli_runner.invoke(
        app,
        [
            "train",
            "--stage",
            "1",
            "--data",
            str(dataset),
            "--preset",
            "tiny",
            "--out",
            str(s1),
            "--set",
            "iterations=2",
            *common,
        ],
    )
    assert r1.exit_code == 0, r1.output
    assert "stage 1: step 2/2" in r1.output

    r2 = cli_runner.invoke(
        app,
        [
            "train",
            "--stage",
            "2",
            "--data",
            str(dataset),
            "--cartoon-data",
            str(dataset),
            "--init",
            str(s1),
            "--out",
            str(s2),
            "--perceptual",
            "dfm",
            "--lambda-m",
            "40",
            "--set",
            "iterations=2",
            "--set",
            "heldout_every=2",
            "--set",
            "heldout_pairs=1",
            "--set",
            "keep_best=sharpness",
            "--json",
            *common,
        ],
    )
    assert r2.exit_code == 0, r2.output
    result = json.loads(r2.stdout)
    assert result["stage"] == 2 and result["step"] == 2 and result["losses"]["analogy_r2c"] > 0
    # stage 2 scores both domains' test splits; the report carries the last scores
    assert result["heldout_step"] == 2 and sorted(result["heldout"]) == ["cartoon (G)", "real (G)"]
    assert all(scores["pairs"] == 1 and scores["copy_l1"] > 0 for scores in result["heldout"].values())
    assert result["best_step"] == 2 and json.loads((s2 / "best" / "best.json").read_text())["step"] == 2
    recipe = yaml.safe_load((s2 / "recipe.yaml").read_text())
    assert (recipe["model"], recipe["lambda_m"], recipe["perceptual"], recipe["lr"]) == ("tiny", 40.0, "dfm", 1e-4)

    # --resume continues the run (here: extends it by one step)
    r3 = cli_runner.invoke(
        app,
        [
            "train",
            "--stage",
            "2",
            "--data",
            str(dataset),
            "--cartoon-data",
            str(dataset),
            "--out",
            str(s2),
            "--resume",
            "--set",
            "iterations=3",
            *common,
        ],
    )
    assert r3.exit_code == 0, r3.output
    assert "step 3/3" in r3.output
    assert "held out cartoon (G) at step 3: copy gain" in r3.output  # the resumed recipe keeps heldout_every
    # ... and keep_best, picking on from the best so far: the mean sharpness of the two domains
    logged = [json.loads(line) for line in (s2 / "heldout.jsonl").read_text().splitlines()]
    mean_sharpness = {step: sum(r["sharpness"] for r in logged if r["step"] == step) / 2 for step in (2, 3)}
    best_step = max(mean_sharpness, key=mean_sharpness.__getitem__)
    assert json.loads((s2 / "best" / "best.json").read_text())["step"] == best_step
    assert f"best held-out weights: step {best_step}, in {s2 / 'best'}" in r3.output

    # each checkpoint folder is release-style: `weights convert` and from_pretrained read it
    release = tmp_path / "release"
    conv = cli_runner.invoke(
        app, ["weights", "convert", str(s2 / "checkpoints" / "step-00000003"), str(release), "--dtype", "fp16"]
    )
    assert conv.exit_code == 0, conv.output
    from toontalker.weights import from_pretrained

    model = from_pretrained(release)
    assert model.config.image_size == 64

    r4 = cli_runner.invoke(
        app,
        [
            "train",
            "--stage",
            "2",
            "--data",
            str(dataset),
            "--cartoon-data",
            str(dataset),
            "--init",
            str(s1),
            "--out",
            str(tmp_path / "s2-noanalogy"),
            "--no-analogy",
            "--set",
            "iterations=1",
            "--set",
            "lambda_per=0",
            "--json",
            *common,
        ],
    )
    assert r4.exit_code == 0, r4.output
    assert "analogy_r2c" not in json.loads(r4.stdout)["losses"]
