"""End to end on the example media (examples/): a real video drives a cartoon headshot; a few steps of reconstruction
training on real frames lower the loss; weights saved after training reload to identical outputs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from model_helpers import one_torch_thread  # noqa: F401 (autouse fixture)
from toontalker.animation.core import CoreRunner
from toontalker.model import ModelConfig, ToonTalker
from toontalker.weights import from_pretrained, save_pretrained


def _to_tensor(rgb: np.ndarray, size: int) -> torch.Tensor:
    rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div(127.5).sub(1.0)


def _video_frames(path: Path, count: int, size: int) -> torch.Tensor:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(_to_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size))
    capture.release()
    assert len(frames) == count, f"{path}: fewer than {count} frames"
    return torch.stack(frames)


@pytest.mark.slow
def test_real_video_drives_cartoon_and_training_reduces_loss(examples, tmp_path) -> None:
    torch.manual_seed(0)
    config = ModelConfig.from_name("tiny")
    size = config.image_size
    headshot = examples / "cartoon_portrait.jpg"
    bgr = cv2.imread(str(headshot), cv2.IMREAD_COLOR)
    cartoon = _to_tensor(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size)[None]
    real = _video_frames(examples / "real_driver.mp4", 8, size)
    model = ToonTalker(config)

    with torch.no_grad():  # animate's per-batch step, the first frame as the reference
        out = CoreRunner(model, model.encode_source(cartoon, "cartoon"), "real")(real)
    assert out.shape == (8, 3, size, size) and torch.isfinite(out).all()
    assert not torch.allclose(out[1], out[5])  # different driving frames give different images

    # within-domain reconstruction on real frames (source frame 0, driving frames 1..7): the loss goes down
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.0, 0.99))
    src, drv = real[:1].expand(4, -1, -1, -1), real[1:5]
    losses = []
    for _ in range(15):
        result = model(src, drv, "real")
        loss = (result.image - drv).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses

    model.eval()
    folder = save_pretrained(model, tmp_path / "trained", dtype=None)
    reloaded = from_pretrained(folder)
    with torch.no_grad():
        a = model.render(model.encode_source(cartoon, "cartoon"), model.encode_driving(real[:2], "real"))
        b = reloaded.render(reloaded.encode_source(cartoon, "cartoon"), reloaded.encode_driving(real[:2], "real"))
    assert torch.equal(a, b)
