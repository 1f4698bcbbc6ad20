"""The pure-torch metric networks: layouts that load the standard checkpoints, shapes, the FID path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toontalker.metrics.base import MetricUnavailable
from toontalker.metrics.inception import FIDInceptionV3, load_fid_inception

# torchvision's inception_v3 has 27,161,264 parameters; without its aux classifier (3,326,696) and its
# 1000-class fc (2,049,000) the convolutional trunk that FID uses has 21,785,568.
INCEPTION_TRUNK_PARAMETERS = 27_161_264 - 3_326_696 - 2_049_000


def test_fid_inception_layout_and_shape():
    torch.manual_seed(0)
    network = FIDInceptionV3()
    assert sum(p.numel() for p in network.parameters()) == INCEPTION_TRUNK_PARAMETERS
    state = network.state_dict()
    assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_6b.branch7x7_2.conv.weight"].shape == (128, 128, 1, 7)
    assert state["Mixed_7c.branch_pool.conv.weight"].shape == (192, 2048, 1, 1)
    features = network(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert features.shape == (1, 2048) and torch.all(features >= 0)


def test_fid_inception_loads_by_key_and_rejects_other_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MetricUnavailable, match="pt_inception-2015-12-05-6726825d.pth missing"):
        load_fid_inception()
    torch.manual_seed(1)
    source = FIDInceptionV3()
    for module in source.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.running_var, 0.5, 1.5)
            torch.nn.init.normal_(module.running_mean, 0, 0.1)
    checkpoint = tmp_path / "torch" / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
    checkpoint.parent.mkdir(parents=True)
    state = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save({**state, "fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}, checkpoint)
    extractor = load_fid_inception()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    np.testing.assert_allclose(extractor(x), source(x).double().numpy(), rtol=1e-5, atol=1e-6)

    del state["Mixed_5b.branch1x1.conv.weight"]
    torch.save(state, checkpoint)
    with pytest.raises(MetricUnavailable, match="does not match the FID Inception v3 layout"):
        load_fid_inception()


def test_arcface_ir_se50_layout_and_loading(tmp_path, monkeypatch):
    from toontalker.metrics.arcface import ArcFaceIRSE50
    from toontalker.metrics.identity import load_identity_backend

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(2)
    source = ArcFaceIRSE50()
    state = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert not any(k.startswith("body.0.shortcut_layer") for k in state)  # 64 -> 64: a strided max pool
    assert state["body.3.shortcut_layer.0.weight"].shape == (128, 64, 1, 1)  # stage 2 changes channels
    assert state["body.23.res_layer.5.fc1.weight"].shape == (32, 512, 1, 1)
    assert state["output_layer.3.weight"].shape == (512, 512 * 7 * 7)
    assert len(source.body) == 24
    checkpoint = tmp_path / "torch" / "hub" / "checkpoints" / "model_ir_se50.pth"
    checkpoint.parent.mkdir(parents=True)
    torch.save(state, checkpoint)
    backend = load_identity_backend("csim")
    face = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    embedding = backend.embedding(face)
    assert embedding.shape == (512,) and np.linalg.norm(embedding) == pytest.approx(1.0)
    del state["output_layer.3.weight"]
    torch.save(state, checkpoint)
    with pytest.raises(MetricUnavailable, match="does not match the ArcFace IR-SE50 layout"):
        load_identity_backend("aed")
