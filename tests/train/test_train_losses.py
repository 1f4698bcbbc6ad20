"""Losses: VGG19 loader and pyramid, GAN terms, the analogy pass (Eq. 6-9) on reused encodings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toontalker.errors import BackendUnavailableError, WeightsError
from toontalker.model import Discriminator, ModelConfig, ToonTalker
from toontalker.train.feature_matching import DiscriminatorFeatureMatching
from toontalker.train.gan import discriminator_loss, generator_adv_loss, r1_penalty
from toontalker.train.perceptual import VGG19_TAPS, VGG19Features, VGGPerceptualLoss, vgg19_features

# torchvision's vgg19 ``features`` conv indices (ImageNet file vgg19-dcbb9e9d.pth) up to conv5_1
TORCHVISION_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28)


def test_vgg19_keys_match_torchvision_layout() -> None:
    keys = set(VGG19Features().state_dict())
    assert keys == {f"features.{i}.{p}" for i in TORCHVISION_CONV_INDICES for p in ("weight", "bias")}
    assert VGG19_TAPS == (1, 6, 11, 20, 29)


def test_vgg19_loads_from_the_torch_hub_cache(vgg_cached: Path) -> None:
    module = vgg19_features()
    saved = torch.load(vgg_cached, weights_only=True)
    assert torch.equal(module.features[28].weight, saved["features.28.weight"])
    assert not any(p.requires_grad for p in module.parameters())
    taps = module(torch.zeros(1, 3, 32, 32))
    assert [t.shape[1:] for t in taps] == [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4), (512, 2, 2)]


def test_missing_vgg19_names_the_file_and_the_alternative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BackendUnavailableError) as info:
        vgg19_features()
    message = str(info.value)
    assert str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in message
    assert "download.pytorch.org/models/vgg19-dcbb9e9d.pth" in message and "perceptual 'dfm'" in message


def test_wrong_vgg_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "vgg19.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match="missing features"):
        vgg19_features(bad)
    bad.write_bytes(b"not a pickle")
    with pytest.raises(WeightsError, match="cannot read VGG19 weights"):
        vgg19_features(bad)


def test_perceptual_pyramid_is_zero_on_equal_images_and_grads_reach_the_output(vgg_module: VGG19Features) -> None:
    loss = VGGPerceptualLoss(vgg_module, scales=2)
    target = torch.rand(2, 3, 64, 64) * 2 - 1
    assert loss(target.clone(), target).item() == 0.0
    output = (target + 0.3 * torch.randn_like(target)).requires_grad_(True)
    value = loss(output, target)
    value.backward()
    assert value.item() > 0 and output.grad is not None and output.grad.abs().sum() > 0
    # 2 scales x 5 taps: equals the sum computed tap by tap
    manual = 0.0
    for o, t in ((output, target), (F.avg_pool2d(output, 2), F.avg_pool2d(target, 2))):
        manual += sum((a - b).abs().mean() for a, b in zip(vgg_module(o), vgg_module(t))).item()
    assert value.item() == pytest.approx(manual, rel=1e-5)


def test_gan_losses_are_the_non_saturating_formulas() -> None:
    fake, real = torch.tensor([0.0, 2.0]), torch.tensor([1.0, -1.0])
    assert generator_adv_loss(fake).item() == pytest.approx(-torch.log(torch.sigmoid(fake)).mean().item())
    expected = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    assert discriminator_loss(real, fake).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.fixture(scope="module")
def tiny_model() -> tuple[ToonTalker, Discriminator]:
    torch.manual_seed(0)
    config = ModelConfig.from_name("tiny")
    return ToonTalker(config).eval(), Discriminator(config)


def test_r1_and_feature_matching(tiny_model: tuple[ToonTalker, Discriminator]) -> None:
    _, d = tiny_model
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    assert r1_penalty(d, images).item() > 0
    dfm = DiscriminatorFeatureMatching(torch.nn.ModuleDict({"real": d}))
    assert dfm(images, images, "real").item() == 0.0
    assert dfm(images.flip(-1), images, "real").item() > 0


def test_analogy_pass_on_reused_encodings_is_eq_6_to_9(tiny_model: tuple[ToonTalker, Discriminator]) -> None:
    """Training's analogy pass (the model's, on the reconstruction's encodings: w_{r->a} = the real source's
    w_{r->s}) equals Eq. 6-9 written out end to end with w_{r->a} = T_{r->d}(E_m(x_a), p) encoded afresh."""
    model, _ = tiny_model
    torch.manual_seed(1)
    cartoon, real_a, real_b = (torch.rand(2, 3, 64, 64) * 2 - 1 for _ in range(3))
    with torch.no_grad():
        src_c = model.encode_source(cartoon, "cartoon")
        w_r2b = model.encode_driving(real_b, "real")
        ours = model.analogy(src_c, w_r2a=model.encode_source(real_a, "real").w_r2s, w_r2b=w_r2b)
        w_r2a = model.encode_driving(real_a, "real")
        image = model.render(src_c, (src_c.w_s2r + src_c.w_r2s) + (w_r2b - w_r2a))  # Eq. 6
        w_r2g = model.encode_driving(image, "cartoon")  # Eq. 8
        loss = ((w_r2g - src_c.w_r2s) - (w_r2b - w_r2a)).abs().mean()  # Eq. 9
    torch.testing.assert_close(ours.image, image, rtol=1e-4, atol=1e-5)
    assert ours.motion_loss().dtype == torch.float32
    assert ours.motion_loss().item() == pytest.approx(loss.item(), rel=1e-4, abs=1e-7)
    assert ours.motion_loss().item() > 0


def test_r1_enters_the_discriminator_step(vgg_module) -> None:
    from toontalker.train.distributed import DistInfo
    from toontalker.train.recipe import TrainRecipe
    from toontalker.train.stream import FramePairs, TrainBatch
    from toontalker.train.trainer import Trainer

    recipe = TrainRecipe.for_stage("tiny", 1, r1_gamma=10.0, r1_every=2, lambda_per=0.0)
    trainer = Trainer(recipe, DistInfo(), vgg=vgg_module)
    trainer.prepare()
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    batch = TrainBatch(FramePairs(images, images.flip(-1)))
    assert "r1_real" in trainer.step([batch], step_index=0).terms  # lazy: every r1_every steps
    assert "r1_real" not in trainer.step([batch], step_index=1).terms


def test_trainer_holds_the_frozen_vgg_in_the_autocast_dtype_with_the_same_loss(vgg_module: VGG19Features) -> None:
    """Under bf16 autocast the trainer's VGG19 filters are bf16 once (no per-pass casts): the loss equals the one
    of the fp32 module under autocast, and the caller's module stays fp32."""
    from toontalker.train.distributed import DistInfo
    from toontalker.train.recipe import TrainRecipe
    from toontalker.train.trainer import Trainer

    recipe = TrainRecipe.for_stage("tiny", 1, precision="bf16", perceptual="vgg19", perceptual_scales=2)
    trainer = Trainer(recipe, DistInfo(device=torch.device("cpu")), vgg=vgg_module)
    assert trainer.autocast_dtype == torch.bfloat16
    assert {p.dtype for p in trainer._vgg_loss.vgg.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in vgg_module.parameters()} == {torch.float32}
    g = torch.Generator().manual_seed(0)
    output, target = (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1 for _ in range(2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        held = trainer.perceptual(output, target, "real")
        cast_each_pass = VGGPerceptualLoss(vgg_module, scales=2)(output, target)
    assert held.dtype == torch.float32 and held.item() > 0
    torch.testing.assert_close(held, cast_each_pass, rtol=0, atol=0)
