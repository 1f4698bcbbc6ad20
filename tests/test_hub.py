"""Weights: save/load round trips, sharding, strict loading errors, hub pull (fake hub + offline cache), CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants

from fake_hub import FakeHub
from model_helpers import one_torch_thread, random_images  # noqa: F401 (autouse fixture)
from toontalker.cli import app
from toontalker.errors import InputError, WeightsError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.weights import (
    INDEX_NAME,
    CardInfo,
    from_pretrained,
    load_folder,
    pull,
    save_pretrained,
    weights_info,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_model() -> ToonTalker:
    torch.manual_seed(0)
    return ToonTalker(ModelConfig.from_name("tiny")).eval()


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory, tiny_model) -> Path:
    return save_pretrained(tiny_model, tmp_path_factory.mktemp("w") / "release", card=CardInfo(training_data="none"))


def render(model: ToonTalker, seed: int = 0) -> torch.Tensor:
    source = random_images(model.config, 1, seed)
    driving = random_images(model.config, 3, seed + 1)
    with torch.no_grad():
        src = model.encode_source(source, "cartoon")
        w = model.encode_driving(driving, "real")
        return model.render(src, model.relative_motion(src, w, w[:1]))


def test_round_trip_identical_outputs(tiny_model, weights_dir) -> None:
    loaded = from_pretrained(weights_dir)
    assert not loaded.training
    assert torch.equal(render(tiny_model), render(loaded))
    files = sorted(p.name for p in weights_dir.iterdir())
    assert files == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((weights_dir / "config.json").read_text())
    assert config["model_type"] == "toontalker" and config["torch_dtype"] == "float32"
    card = (weights_dir / "README.md").read_text()
    assert "# ToonTalker (tiny)" in card and f"{tiny_model.parameter_counts().total:,}" in card


def test_sharded_round_trip_and_resave_cleans_up(tiny_model, tmp_path) -> None:
    out = save_pretrained(tiny_model, tmp_path / "sharded", max_shard_size="400kB")
    index = json.loads((out / INDEX_NAME).read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 3 and all((out / s).stat().st_size < 600_000 for s in shards)
    assert set(index["weight_map"]) == set(tiny_model.state_dict())
    assert torch.equal(render(tiny_model), render(from_pretrained(out)))
    save_pretrained(tiny_model, out)  # unsharded again: old shards and index go
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]


@pytest.mark.parametrize(("dtype", "name"), [("fp16", "F16"), ("bf16", "BF16")])
def test_half_precision_release(tiny_model, tmp_path, dtype, name) -> None:
    out = save_pretrained(tiny_model, tmp_path / dtype, dtype=dtype)
    info = weights_info(out)
    assert info.dtype == name and info.parameters == tiny_model.parameter_counts().total
    assert info.preset == "tiny"
    loaded = from_pretrained(out)  # loads into float32 parameters
    torch.testing.assert_close(render(loaded), render(tiny_model), rtol=0.1, atol=0.1)
    assert from_pretrained(out, dtype=dtype).domains["real"].generator.constant.dtype == getattr(
        torch, {"fp16": "float16", "bf16": "bfloat16"}[dtype]
    )


# -- bad weights -----------------------------------------------------------------------------------------------
def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_truncated_and_garbage_files(weights_dir, tmp_path) -> None:
    bad = _copy(weights_dir, tmp_path / "trunc")
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"trunc/model.safetensors: corrupted safetensors file"):
        load_folder(bad)
    (bad / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="corrupted safetensors file"):
        from_pretrained(bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(WeightsError, match="config.json: not valid JSON"):
        load_folder(bad)


def test_missing_unexpected_and_mismatched(weights_dir, tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(weights_dir / "model.safetensors"))
    bad = _copy(weights_dir, tmp_path / "keys")
    dropped = dict(state)
    del dropped["domains.real.motion_base.embeddings"]
    dropped["domains.real.extra"] = torch.zeros(1)
    save_file(dropped, str(bad / "model.safetensors"))
    with pytest.raises(
        WeightsError,
        match=r"1 missing key\(s\): domains.real.motion_base.embeddings; 1 unexpected key\(s\): domains.real.extra",
    ):
        load_folder(bad)
    mismatch = _copy(weights_dir, tmp_path / "cfg")
    config = json.loads((mismatch / "config.json").read_text())
    config["code_dim"] = 64
    (mismatch / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="config mismatch"):
        load_folder(mismatch)
    config["code_dim"] = 33
    (mismatch / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="not a ToonTalker model config.*divisible"):
        load_folder(mismatch)
    (mismatch / "config.json").write_text((weights_dir / "config.json").read_text())
    (mismatch / "model.safetensors").unlink()
    (mismatch / INDEX_NAME).write_text(json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(WeightsError, match="shard file\\(s\\) missing: model-00001-of-00002.safetensors"):
        load_folder(mismatch)
    with pytest.raises(InputError, match="no such folder, and not a hub id"):
        from_pretrained(tmp_path / "does" / "not" / "exist")


# -- the hub -------------------------------------------------------------------------------------------------------
@pytest.fixture()
def online(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def test_pull_from_fake_hub_then_offline_cache(weights_dir, tiny_model, tmp_path, online, monkeypatch) -> None:
    cache = tmp_path / "hf-cache"
    with FakeHub() as hub:
        repo = hub.repo("owner/toon")
        first = repo.add_commit(weights_dir, refs=("main", "v1"))
        other = save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), tmp_path / "other")
        latest = repo.add_commit(other, refs=("main",))
        assert first != latest
        # revision pinning: a tag, then a commit hash, land in the normal cache layout
        pinned = from_pretrained("owner/toon@v1", cache_dir=cache, endpoint=hub.url)
        assert torch.equal(render(pinned), render(tiny_model))
        folder = pull("owner/toon", revision=first, cache_dir=cache, endpoint=hub.url)
        assert folder.parent.name == "snapshots" and folder.name == first
        latest_model = from_pretrained("owner/toon", cache_dir=cache, endpoint=hub.url)
        assert not torch.equal(render(latest_model), render(tiny_model))
        assert any(path.endswith("/resolve/" + first + "/model.safetensors") for _, path in hub.requests)
        with pytest.raises(WeightsError, match="revision 'v9' not found"):
            pull("owner/toon", revision="v9", cache_dir=cache, endpoint=hub.url)
        with pytest.raises(WeightsError, match="repository not found"):
            pull("owner/missing", cache_dir=cache, endpoint=hub.url)
    # hub gone, offline mode: the cache alone serves the pinned revisions
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert torch.equal(render(from_pretrained("owner/toon", revision="v1", cache_dir=cache)), render(tiny_model))
    assert torch.equal(render(from_pretrained(f"owner/toon@{first}", cache_dir=cache)), render(tiny_model))
    with pytest.raises(WeightsError, match=r"owner/absent: not in the Hugging Face cache .* HF_HUB_OFFLINE=1"):
        from_pretrained("owner/absent", cache_dir=cache)


def test_cli_pull_subprocess_honours_hf_endpoint(weights_dir, tmp_path) -> None:
    """The real command line, with HF_ENDPOINT / HF_HOME read by huggingface_hub at start-up."""
    with FakeHub() as hub:
        hub.repo("owner/toon").add_commit(weights_dir, refs=("main",))
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf"),
            "HF_HUB_OFFLINE": "0",
            "OMP_NUM_THREADS": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        env.pop("HF_HUB_CACHE", None)
        result = subprocess.run(
            [sys.executable, "-m", "toontalker", "weights", "pull", "owner/toon", "--json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    path = Path(json.loads(result.stdout)["path"])
    assert path.is_relative_to(tmp_path / "hf" / "hub") and (path / "model.safetensors").is_file()
    env["HF_HUB_OFFLINE"] = "1"
    offline = subprocess.run(
        [sys.executable, "-m", "toontalker", "weights", "info", "owner/toon", "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["preset"] == "tiny"


# -- CLI ---------------------------------------------------------------------------------------------------------
def test_cli_info_and_convert(cli_runner, weights_dir, tmp_path) -> None:
    result = cli_runner.invoke(app, ["weights", "info", str(weights_dir), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["preset"] == "tiny" and info["dtype"] == "F32" and info["config"]["image_size"] == 64
    # a training checkpoint: model.safetensors + a plain ModelConfig config.json
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "model.safetensors").write_bytes((weights_dir / "model.safetensors").read_bytes())
    ModelConfig.from_name("tiny").save(ckpt / "config.json")
    out = tmp_path / "release"
    result = cli_runner.invoke(
        app,
        [
            "weights",
            "convert",
            str(ckpt),
            str(out),
            "--dtype",
            "fp16",
            "--max-shard-size",
            "300kB",
            "--metric",
            "FID real->cartoon=28.5",
            "--training-data",
            "tiny test set",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / INDEX_NAME).is_file() and weights_info(out).dtype == "F16"
    card = (out / "README.md").read_text()
    assert "| FID real->cartoon | 28.5 |" in card and "tiny test set" in card
    result = cli_runner.invoke(app, ["weights", "convert", str(tmp_path / "nope"), str(tmp_path / "x")])
    assert result.exit_code == 1 and "a training checkpoint is a folder" in result.output
    assert not (tmp_path / "x").exists()
    result = cli_runner.invoke(app, ["weights", "convert", str(ckpt), str(tmp_path / "y"), "--dtype", "int8"])
    assert result.exit_code == 2 and "unknown dtype 'int8'" in result.output


def test_cli_pull_offline_message(cli_runner, tmp_path) -> None:
    result = cli_runner.invoke(app, ["weights", "pull", "owner/absent", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "HF_HUB_OFFLINE=1 forbids downloading" in result.output


def test_push_uploads_validated_folder(cli_runner, weights_dir, tmp_path, monkeypatch) -> None:
    from huggingface_hub import HfApi

    calls = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: calls.append(("create", repo_id, kw)))
    monkeypatch.setattr(
        HfApi,
        "upload_folder",
        lambda self, **kw: calls.append(("upload", kw)) or type("C", (), {"commit_url": "https://hub/c/1"})(),
    )
    result = cli_runner.invoke(app, ["weights", "push", str(weights_dir), "owner/toon", "--private", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["commit"] == "https://hub/c/1"
    assert calls[0] == ("create", "owner/toon", {"private": True, "exist_ok": True})
    assert calls[1][1]["folder_path"] == str(weights_dir) and calls[1][1]["repo_id"] == "owner/toon"
    broken = _copy(weights_dir, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"junk")
    calls.clear()
    result = cli_runner.invoke(app, ["weights", "push", str(broken), "owner/toon"])
    assert result.exit_code == 1 and "corrupted" in result.output and calls == []
