"""The per-frame core: ONNX export (equivalence with torch, dynamic batch), the animate backends
(torch eager, onnx, compiled core padding) give the same frames, and the option checks. Tiny preset, random
weights: equivalence does not depend on the weight values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toontalker.animation.api import AnimateOptions, animate
from toontalker.animation.core import CoreRunner, FrameCore, flatten_source, motion_offset, pad_batch
from toontalker.errors import ConfigError, InputError
from toontalker.model import ModelConfig, ToonTalker
from toontalker.video import VideoWriter, read_image, write_image

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnx", reason="the onnx extra is not installed")


@pytest.fixture(scope="module")
def tiny() -> ToonTalker:
    torch.manual_seed(0)
    return ToonTalker(ModelConfig.from_name("tiny")).eval()


def test_frame_core_equals_the_model_api(tiny):
    size = tiny.config.image_size
    source, frames = torch.rand(1, 3, size, size) * 2 - 1, torch.rand(3, 3, size, size) * 2 - 1
    with torch.inference_mode():
        src = tiny.encode_source(source, "cartoon")
        w = tiny.encode_driving(frames, "real")
        expected = tiny.render(src, tiny.relative_motion(src, w, w[:1]))
        core = FrameCore(tiny, "cartoon", "real", len(src.features))
        got = core(frames, motion_offset(src, "relative", w[:1]), *flatten_source(src))
    assert got.shape == expected.shape == (3, 3, size, size)
    # the core adds (w_s2s - w_start) + w_r2d, the model w_s2s + (w_r2d - w_start): ~3e-8 apart on the codes,
    # which G amplifies to ~1.4e-5 on outputs of up to ~2.6 on some CPUs (an Intel Xeon with AMX); a wrong
    # motion or source would differ by ~1
    assert torch.allclose(got, expected, atol=1e-4)


@pytest.fixture(scope="module")
def exported(tiny, tmp_path_factory):
    """The tiny model's graph for a real source driven by a cartoon, checked against torch by export_onnx."""
    from toontalker.animation.onnx_core import OnnxExportConfig, export_onnx

    folder = tmp_path_factory.mktemp("onnx")
    result = export_onnx(
        None, folder / "core.onnx", OnnxExportConfig(source_domain="real", driving_domain="cartoon"), model=tiny
    )
    return result, folder


def test_onnx_export_matches_torch_at_another_batch_size(exported):
    result, folder = exported
    assert result.path.is_file() and result.bytes > 100_000  # the weights are in the graph
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    assert [p.name for p in folder.iterdir()] == ["core.onnx"]  # no temporary files left


def test_onnx_graph_of_other_weights_is_refused(exported, tmp_path):
    from toontalker.animation.onnx_core import OnnxFrameCore

    session = OnnxFrameCore(exported[0].path)
    with pytest.raises(InputError, match="source tensors"):
        session.set_source((torch.zeros(1),))
    with pytest.raises(InputError, match="not found"):
        OnnxFrameCore(tmp_path / "missing.onnx")


def test_pad_batch_repeats_the_last_frame():
    x = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 3, 2, 2)
    padded = pad_batch(x, 5)
    assert padded.shape == (5, 3, 2, 2) and padded[:, 0, 0, 0].tolist() == [0, 1, 1, 1, 1]
    assert pad_batch(x, 2) is x


def test_runners_agree_on_relative_and_absolute_motion(tiny, exported):
    path = exported[0].path
    size = tiny.config.image_size
    frames = torch.rand(5, 3, size, size) * 2 - 1
    with torch.inference_mode():
        src = tiny.encode_source(torch.rand(1, 3, size, size) * 2 - 1, "real")
    for motion in ("relative", "absolute"):
        eager = CoreRunner(tiny, src, "cartoon", motion=motion)
        onnx = CoreRunner(tiny, src, "cartoon", motion=motion, backend="onnx", onnx_path=path)
        with torch.inference_mode():
            a, b = eager(frames), onnx(frames)
            a2, b2 = eager(frames[2:]), onnx(frames[2:])  # the reference stays the first frame seen
            a1, b1 = eager(frames[4:]), onnx(frames[4:])  # batch 1: the graph was traced at batch 2
        assert a.shape == b.shape == (5, 3, size, size) and b1.shape == (1, 3, size, size)
        for x, y in ((a, b), (a2, b2), (a1, b1)):
            assert float((x - y).abs().max()) < 1e-4


def test_animate_onnx_backend_matches_torch(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("TOONTALKER_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    driver = tmp_path / "drive.mp4"
    with VideoWriter(driver, 10, crf=0) as writer:
        writer.write(rng.integers(0, 256, (6, 64, 64, 3), dtype=np.uint8))
    source = tmp_path / "source.png"
    write_image(source, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    outputs = {}
    for backend in ("torch", "onnx"):
        options = AnimateOptions(  # fp32 on both sides (auto is bf16 for torch on a CPU with native bf16)
            no_crop_source=True, no_crop_driving=True, batch_size=4, backend=backend, dtype="fp32"
        )
        result = animate(source, driver, tmp_path / backend, options=options, model=tiny)
        assert result.frames == 6 and result.backend == backend and result.device == "cpu"
        outputs[backend] = np.stack([read_image(p).rgb for p in sorted((tmp_path / backend).iterdir())])
    diff = np.abs(outputs["torch"].astype(int) - outputs["onnx"].astype(int))
    assert diff.max() <= 1  # uint8 rounding of fp32 outputs that differ by < 1e-4
    assert len(list((tmp_path / "home" / "onnx").glob("*-cartoon-from-real.onnx"))) == 1  # cached export


def test_backend_option_checks():
    with pytest.raises(ConfigError, match="compile"):
        AnimateOptions(backend="onnx", compile=True)
    with pytest.raises(ConfigError, match="onnx_model"):
        AnimateOptions(onnx_model="core.onnx")
    with pytest.raises(ConfigError, match="backend"):
        AnimateOptions(backend="tensorrt")  # type: ignore[arg-type]


def test_cli_rejects_bad_backend_and_domain(cli_runner, tmp_path):
    from toontalker.cli import app

    result = cli_runner.invoke(app, ["weights", "export-onnx", str(tmp_path / "x.onnx"), "--source-domain", "anime"])
    assert result.exit_code == 2 and not (tmp_path / "x.onnx").exists()
    result = cli_runner.invoke(app, ["animate", "a.png", "b.mp4", "-o", str(tmp_path / "o.mp4"), "--backend", "trt"])
    assert result.exit_code == 2 and "--backend" in result.output


@pytest.mark.slow
def test_cli_animate_onnx_backend_on_real_data(shared_data, tmp_path, cli_runner, monkeypatch):
    """The CLI with --backend onnx on a real driver (face tracking on): the same PNG frames as torch, within
    rounding; the graph exported on first use lands in the cache."""
    import json

    from toontalker.cli import app

    monkeypatch.setenv("TOONTALKER_HOME", str(tmp_path / "home"))
    source = shared_data / "cartoon/images/tha2_headshots/aiba_uiha.png"
    driver = shared_data / "real/videos/sadtalker_WDA_AlexandriaOcasioCortez_000.mp4"
    frames = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / backend
        result = cli_runner.invoke(
            app,
            [
                "animate",
                str(source),
                str(driver),
                "-o",
                str(out),
                "--max-frames",
                "6",
                "--preset",
                "tiny",
                "--random-weights",
                "--batch-size",
                "4",
                "--backend",
                backend,
                "--dtype",
                "fp32",
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["backend"] == backend and report["frames"] == 6
        frames[backend] = np.stack([read_image(p).rgb for p in sorted(out.iterdir())]).astype(int)
    assert frames["torch"].shape == (6, 64, 64, 3)
    assert np.abs(frames["torch"] - frames["onnx"]).max() <= 1
    assert len(list((tmp_path / "home" / "onnx").glob("*.onnx"))) == 1
