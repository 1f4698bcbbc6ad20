"""Backends: CPBD vs the cpbd package, LPIPS vs the lpips package's math, dlib metrics, 'unavailable' paths."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from toontalker.metrics.base import MetricUnavailable
from toontalker.metrics.cpbd import cpbd, to_gray


@pytest.fixture()
def empty_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def _reference_cpbd(monkeypatch):
    import scipy.ndimage

    # cpbd 1.0.7 imports scipy.ndimage.imread (removed from scipy) at import time, for its CLI only
    monkeypatch.setattr(scipy.ndimage, "imread", None, raising=False)
    monkeypatch.delitem(sys.modules, "cpbd", raising=False)
    monkeypatch.delitem(sys.modules, "cpbd.compute", raising=False)
    import cpbd as reference

    return reference.compute


@pytest.mark.slow
def test_cpbd_matches_the_cpbd_package(shared_data, monkeypatch):
    import cv2

    reference = _reference_cpbd(monkeypatch)
    for name in ("cartoon/images/tha2_3dmodel_face_kiso_azuki.png", "real/images/liveportrait_d19.jpg"):
        gray = np.array(Image.open(shared_data / name).convert("L").resize((256, 256)))
        for image in (gray, cv2.GaussianBlur(gray, (7, 7), 2.0)):
            assert cpbd(image) == pytest.approx(reference(image), abs=1e-12)
    sharp = np.array(Image.open(shared_data / "real/images/liveportrait_d19.jpg").convert("L").resize((256, 256)))
    assert cpbd(sharp) > cpbd(cv2.GaussianBlur(sharp, (9, 9), 3.0))


def test_cpbd_on_synthetic_edges_matches_package(monkeypatch):
    reference = _reference_cpbd(monkeypatch)
    rng = np.random.default_rng(0)
    image = np.zeros((128, 192), np.uint8)
    image[:, 60:] = 200
    image[40:90, 20:150] = 90
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    assert cpbd(image) == pytest.approx(reference(image), abs=1e-12)
    assert cpbd(np.full((64, 64), 7, np.uint8)) == 0.0  # no edges


def test_gray_conversion_matches_pil():
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_gray(rgb), np.asarray(Image.fromarray(rgb).convert("L")))


def test_alexnet_state_dict_layout_matches_torchvision():
    from toontalker.metrics.lpips import AlexNetFeatures

    shapes = {k: tuple(v.shape) for k, v in AlexNetFeatures().state_dict().items()}
    assert shapes == {
        "features.0.weight": (64, 3, 11, 11),
        "features.0.bias": (64,),
        "features.3.weight": (192, 64, 5, 5),
        "features.3.bias": (192,),
        "features.6.weight": (384, 192, 3, 3),
        "features.6.bias": (384,),
        "features.8.weight": (256, 384, 3, 3),
        "features.8.bias": (256,),
        "features.10.weight": (256, 256, 3, 3),
        "features.10.bias": (256,),
    }


def test_lpips_matches_the_lpips_package_with_identical_random_backbone(monkeypatch, tmp_path):
    from toontalker.metrics.lpips import LPIPS, AlexNetFeatures, lpips_head_path

    if lpips_head_path() is None:
        pytest.skip("the lpips package (its head weights) is not installed: pip install --no-deps lpips")

    torch.manual_seed(0)
    ours = LPIPS()
    for layer in ours.backbone.features:
        if isinstance(layer, torch.nn.Conv2d):
            torch.nn.init.normal_(layer.weight, 0, 0.05)
            torch.nn.init.normal_(layer.bias, 0, 0.05)
    # round trip through a torchvision-style checkpoint file: the loader reads `features.*` by key
    checkpoint = tmp_path / "alexnet.pth"
    torch.save({**ours.backbone.state_dict(), "classifier.1.weight": torch.zeros(2, 2)}, checkpoint)
    ours.backbone.load_imagenet(checkpoint)
    ours.load_lin_weights(lpips_head_path())

    def fake_alexnet(pretrained=False, **_):
        net = AlexNetFeatures()
        net.load_state_dict(ours.backbone.state_dict())
        return net

    fake_models = types.ModuleType("torchvision.models")
    fake_models.alexnet = fake_alexnet
    fake_tv = types.ModuleType("torchvision")
    fake_tv.models = fake_models
    monkeypatch.setitem(sys.modules, "torchvision", fake_tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", fake_models)
    for name in [m for m in sys.modules if m == "lpips" or m.startswith("lpips.")]:
        monkeypatch.delitem(sys.modules, name)
    import lpips

    reference = lpips.LPIPS(net="alex", verbose=False)
    g = torch.Generator().manual_seed(3)
    x, y = torch.rand(4, 3, 64, 64, generator=g) * 2 - 1, torch.rand(4, 3, 64, 64, generator=g) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(ours(x, y), reference(x, y).flatten(), rtol=1e-5, atol=1e-6)
    assert torch.all(ours(x, x) == 0)


def test_unavailable_when_weights_are_missing(empty_torch_home):
    from toontalker.bench.scoring import MetricSuite
    from toontalker.metrics.identity import load_identity_backend
    from toontalker.metrics.keypoints import load_landmark_backend
    from toontalker.metrics.lpips import load_lpips

    with pytest.raises(MetricUnavailable, match=r"^unavailable: alexnet-owt-7be5be79\.pth missing \(download "):
        load_lpips()
    with pytest.raises(MetricUnavailable, match=r"unavailable: s3fd-619a316812\.pth missing"):
        load_landmark_backend("akd")
    with pytest.raises(MetricUnavailable, match=r"unavailable: model_ir_se50\.pth missing"):
        load_identity_backend("csim")
    suite = MetricSuite(("fid", "lpips", "l1"), "cpu")
    assert suite.active == ["l1"]
    summaries = suite.summarise({"l1": [np.array([0.5, np.nan])]})
    assert summaries["fid"].value is None
    assert summaries["fid"].text.startswith("unavailable: pt_inception-2015-12-05-6726825d.pth missing")
    assert str(empty_torch_home) in summaries["lpips"].text
    assert summaries["l1"].value == 0.5 and summaries["l1"].skipped == 1


@pytest.mark.slow
def test_dlib_landmarks_and_identity_on_a_real_face(examples):
    from toontalker.metrics.identity import DlibIdentity, cosine_similarity, embedding_distance
    from toontalker.metrics.keypoints import DlibLandmarks, keypoint_distance

    face = np.array(Image.open(examples / "real_portrait.jpg").convert("RGB").resize((256, 256)))
    moved = np.zeros_like(face)
    moved[:, 6:] = face[:, :-6]  # the face moves 6 px right
    landmarks = DlibLandmarks()
    a, b = landmarks.landmarks(face), landmarks.landmarks(moved)
    assert a.shape == (68, 2)
    akd = keypoint_distance(b[None], a[None]).per_frame[0]
    assert 4.0 < akd < 8.0
    assert landmarks.landmarks(np.zeros((128, 128, 3), np.uint8)) is None

    identity = DlibIdentity()
    from toontalker.video import read_frames

    other = np.array(Image.fromarray(read_frames(examples / "real_driver.mp4", max_frames=1)[0]).resize((256, 256)))
    e_face, e_moved, e_other = identity.embedding(face), identity.embedding(moved), identity.embedding(other)
    assert cosine_similarity(e_face, e_moved) > 0.95
    assert cosine_similarity(e_face, e_other) < cosine_similarity(e_face, e_moved)
    assert embedding_distance(e_face, e_moved) < embedding_distance(e_face, e_other)
    assert np.isnan(cosine_similarity(e_face, None))


def test_lpips_loads_from_the_torch_hub_cache_and_scores_clips(tmp_path, monkeypatch):
    from toontalker.bench.scoring import Clip, MetricSuite
    from toontalker.metrics.lpips import AlexNetFeatures, lpips_head_path

    if lpips_head_path() is None:
        pytest.skip("the lpips package (its head weights) is not installed: pip install --no-deps lpips")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    checkpoint = tmp_path / "torch" / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    checkpoint.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(AlexNetFeatures().state_dict(), checkpoint)
    suite = MetricSuite(("lpips", "l1"), "cpu")
    assert suite.active == ["lpips", "l1"]
    g = torch.Generator().manual_seed(0)
    target = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    generated = target.clone()
    generated[1:] = (generated[1:] + 0.5 * torch.randn(2, 3, 64, 64, generator=g)).clamp(-1, 1)
    u8 = np.zeros((3, 64, 64, 3), np.uint8)
    scores = suite.score_clip(Clip(generated, u8, u8, u8[:1], target, u8))
    assert scores["lpips"][0] == pytest.approx(0.0, abs=1e-7) and np.all(scores["lpips"][1:] > 0)
    assert scores["l1"][0] == 0.0 and np.all(scores["l1"][1:] > 0)
