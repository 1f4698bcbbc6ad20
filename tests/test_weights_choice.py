"""Which weights animate runs on (toontalker.weights.default): a preset without random weights is a check of
the weights' architecture, never silently ignored; the weights package is the one home of weights code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from model_helpers import one_torch_thread  # noqa: F401 (autouse fixture)
from toontalker.cli import app
from toontalker.errors import UsageError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.weights import default_weights, load_model, matching_preset, read_config, save_pretrained

CARTOON_SOURCE = "cartoon_portrait.jpg"
REAL_DRIVER = "real_driver.mp4"


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), tmp_path_factory.mktemp("w") / "tiny")


@pytest.fixture()
def no_tensor_loading(monkeypatch):
    """The preset check reads config.json only: loading the tensors first would fail the test."""
    import toontalker.weights.load as load

    def refuse(*args, **kwargs):
        raise AssertionError("the weights were loaded before the preset was checked")

    monkeypatch.setattr(load, "load_folder", refuse)


def _shipped_preset() -> str:
    shipped = default_weights()
    if shipped is None:
        pytest.skip("this install ships no default weights")
    preset = matching_preset(read_config(shipped / "config.json"))
    assert preset is not None, "the shipped config is no preset"
    return preset


def test_cli_preset_that_differs_from_the_default_weights_is_a_usage_error(
    examples, tmp_path, cli_runner, no_tensor_loading
) -> None:
    shipped = _shipped_preset()
    other = next(name for name in ModelConfig.PRESETS if name != shipped)
    out = tmp_path / "o.mp4"
    result = cli_runner.invoke(
        app,
        [
            "animate",
            str(examples / CARTOON_SOURCE),
            str(examples / REAL_DRIVER),
            "-o",
            str(out),
            "--preset",
            other,
            "--max-frames",
            "2",
        ],
    )
    assert result.exit_code == 2, result.output
    first = result.stderr.strip().splitlines()[0]  # the error is one line (a traceback hint may follow)
    assert f"preset '{other}' does not match the weights' config (the default weights are {shipped})" in first
    assert "random_weights" in first, result.stderr
    assert not out.exists()


def test_preset_that_differs_from_given_weights_is_a_usage_error(tiny_weights, no_tensor_loading) -> None:
    with pytest.raises(UsageError, match=rf"preset 'paper-256' does not match .*weights {tiny_weights} are tiny"):
        load_model(tiny_weights, "paper-256", random_weights=False)


def test_matching_preset_loads_the_weights(tiny_weights) -> None:
    model, choice = load_model(tiny_weights, "tiny", random_weights=False)
    assert model.config == ModelConfig.from_name("tiny") and not model.training
    assert (choice.source, choice.preset, choice.random) == (str(tiny_weights), "tiny", False)
    model, choice = load_model(None, None, random_weights=False)
    assert choice.source == "default" and matching_preset(model.config) == _shipped_preset()


def test_random_weights_build_the_preset(tiny_weights) -> None:
    model, choice = load_model(None, "tiny", random_weights=True, seed=3)
    assert choice.random and choice.source == "random:tiny" and "RANDOM WEIGHTS" in (choice.warning or "")
    again, _ = load_model(None, "tiny", random_weights=True, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    with pytest.raises(UsageError, match="exclude each other"):
        load_model(tiny_weights, "tiny", random_weights=True)


def test_class_methods_follow_huggingface_hub_names(tiny_weights, tmp_path, monkeypatch) -> None:
    """ToonTalker.from_pretrained / save_pretrained / push_to_hub go through toontalker.weights."""
    import toontalker.hub
    import toontalker.weights as weights
    import toontalker.weights.hub as hub

    model = ToonTalker.from_pretrained(tiny_weights)
    assert isinstance(model, ToonTalker) and not model.training
    out = model.save_pretrained(tmp_path / "again", dtype="fp16")
    assert read_config(out / "config.json") == model.config
    assert torch.equal(
        weights.load_folder(out).domains["real"].motion_base.embeddings,
        model.domains["real"].motion_base.embeddings.half().float(),
    )
    pushed: list[tuple[str, str, set[str], str]] = []

    def fake_push(directory, repo_id, **kwargs):
        names = {p.name for p in Path(directory).iterdir()}
        pushed.append((repo_id, kwargs["revision"], names, (Path(directory) / "README.md").read_text()))
        return "https://hub/c/2"

    monkeypatch.setattr(hub, "push", fake_push)
    assert model.push_to_hub("owner/toon", branch="dev") == "https://hub/c/2"
    repo_id, revision, names, card = pushed[0]
    assert (repo_id, revision) == ("owner/toon", "dev")
    assert names == {"README.md", "config.json", "model.safetensors"}
    assert 'ToonTalker.from_pretrained("owner/toon")' in card and "library_name: toontalker" in card
    # the old import path that earlier model cards name still loads
    assert toontalker.hub.from_pretrained is weights.from_pretrained


def test_card_info_refuses_metrics_that_are_no_finite_numbers() -> None:
    from toontalker.weights import CardInfo

    assert CardInfo(metrics=(("FID real->cartoon", 28.5),)).metrics[0][1] == 28.5
    for metrics in ((("FID", float("nan")),), (("", 1.0),), (("FID", "28.5"),)):
        with pytest.raises(UsageError, match="card metric"):
            CardInfo(metrics=metrics)  # type: ignore[arg-type]
