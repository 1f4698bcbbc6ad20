"""bench motion's model backends: the ONNX core renders what torch renders (tiny preset, random weights), one
exported graph and session per domain pair, and the backend choice (auto, torch, onnx) with its errors."""

from __future__ import annotations

import pytest
import torch

from toontalker.bench.baselines import make_baseline
from toontalker.bench.motion import MotionOptions
from toontalker.bench.motion_render import ClipRenderer, choose_backend
from toontalker.errors import BackendUnavailableError, UsageError
from toontalker.model import ModelConfig, ToonTalker

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnx", reason="the onnx extra is not installed")


@pytest.fixture(scope="module")
def tiny() -> ToonTalker:
    torch.manual_seed(0)
    return ToonTalker(ModelConfig.from_name("tiny")).eval()


def test_onnx_renders_what_torch_renders(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("TOONTALKER_HOME", str(tmp_path / "home"))
    graphs = tmp_path / "home" / "onnx"
    size = tiny.config.image_size
    generator = torch.Generator().manual_seed(3)
    source = torch.rand(1, 3, size, size, generator=generator) * 2 - 1
    driving = torch.rand(7, 3, size, size, generator=generator) * 2 - 1  # 7 frames in batches of 3: 3 + 3 + 1
    for motion in ("relative", "absolute"):
        torch_renderer = ClipRenderer(tiny, "torch", batch_size=3, motion=motion)  # type: ignore[arg-type]
        onnx_renderer = ClipRenderer(tiny, "onnx", batch_size=3, motion=motion)  # type: ignore[arg-type]
        for clip in (driving, driving.flip(0)):  # the second pair of the same direction reuses the graph
            expected = torch_renderer(source, "cartoon", clip, "real")
            got = onnx_renderer(source, "cartoon", clip, "real")
            assert got.shape == expected.shape == (7, 3, size, size)
            assert float((got - expected).abs().max()) < 1e-4, motion
            assert float(got.abs().max()) <= 1.0  # clamped like reenact_clip
        assert len(list(graphs.glob("*.onnx"))) == 1  # one graph per weights and direction, exported once
    onnx_renderer(source, "real", driving, "cartoon")  # another direction: its own graph
    assert len(list(graphs.glob("*.onnx"))) == 2


def test_backend_choice(tiny):
    copy = make_baseline("copy-source")
    assert choose_backend("auto", tiny, "cpu") == "onnx"  # the faster one on a CPU
    assert choose_backend("auto", tiny, "cuda") == "torch"
    assert choose_backend("auto", copy, "cpu") == "torch"  # a baseline has no graph to export
    assert choose_backend("torch", tiny, "cpu") == "torch"
    with pytest.raises(BackendUnavailableError, match="exports a ToonTalker model, not CopySource"):
        choose_backend("onnx", copy, "cpu")
    with pytest.raises(BackendUnavailableError, match="runs on the CPU"):
        choose_backend("onnx", tiny, "cuda:0")
    with pytest.raises(UsageError, match="backend must be one of auto, torch, onnx"):
        choose_backend("tensorrt", tiny, "cpu")
    with pytest.raises(UsageError, match="backend must be one of"):
        MotionOptions(backend="tensorrt")  # type: ignore[arg-type]
