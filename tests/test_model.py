"""ToonTalker model on the tiny preset: shapes per module, gradients, Eq. 3/5, broadcasting, ablations."""

from __future__ import annotations

import json

import pytest
import torch

from model_helpers import one_torch_thread, random_images  # noqa: F401 (autouse fixture)
from toontalker.errors import ConfigError, InputError, UsageError
from toontalker.model import Discriminator, ModelConfig, ToonTalker
from toontalker.model.appearance_encoder import AppearanceEncoder
from toontalker.model.attention import DecoderLayer, MultiHeadAttention
from toontalker.model.backward_transformer import BackwardTransformer
from toontalker.model.generator import Generator
from toontalker.model.layers import ConvLayer, EqualLinear, ResDownBlock, blur_kernel
from toontalker.model.motion_encoder import MotionEncoder
from toontalker.model.query_transformer import MotionBase, QueryMLP, QueryTransformer
from toontalker.model.styleconv import SFT, FlowHead, ModulatedConv2d, StyleConv, ToRGB, warp


@pytest.fixture(scope="module")
def cfg() -> ModelConfig:
    return ModelConfig.from_name("tiny")


@pytest.fixture()
def model(cfg) -> ToonTalker:
    torch.manual_seed(0)
    return ToonTalker(cfg)


images = random_images


# -- config -------------------------------------------------------------------------------------------------
def test_presets_construct_and_round_trip(tmp_path) -> None:
    for name in ModelConfig.preset_names():
        cfg = ModelConfig.from_name(name)
        assert ModelConfig.load(cfg.save(tmp_path / f"{name}.json")) == cfg
    assert set(ModelConfig.preset_names()) == {"tiny", "small-256", "paper-256"}
    paper = ModelConfig.from_name("paper-256")
    assert paper.channels == (512, 512, 512, 512, 256, 128, 64)
    assert (paper.num_motions, paper.code_dim, paper.backward_resolutions) == (20, 512, (16, 32, 64))
    assert paper.feature_resolutions == (8, 16, 32, 64, 128, 256)
    assert paper.sft_resolutions == (64, 128, 256)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image_size": 100}, "power of two"),
        ({"channels": (32, 32)}, "channels needs 5 entries"),
        ({"code_dim": 30}, "divisible by heads"),
        ({"backward_resolutions": (128,)}, "not a source feature resolution"),
        ({"sft_blocks": 9}, "sft_blocks"),
        ({"query_transformer": "cnn"}, "is not one of"),
    ],
)
def test_config_validation(overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_name("tiny", **overrides)


# -- blur folded into the conv weights equals an explicit blur pass ------------------------------------------
def _explicit_blur(x: torch.Tensor, pad: tuple[int, int], gain: float = 1.0) -> torch.Tensor:
    C = x.shape[1]
    kernel = blur_kernel(gain)[None, None].repeat(C, 1, 1, 1)
    return torch.nn.functional.conv2d(torch.nn.functional.pad(x, (pad[0], pad[1], pad[0], pad[1])), kernel, groups=C)


def test_blur_folded_into_weights_matches_explicit_blur() -> None:
    import math

    import torch.nn.functional as F

    torch.manual_seed(0)
    x = torch.randn(2, 5, 12, 12)
    layer = ConvLayer(5, 7, 3, downsample=True, activate=False)
    w = layer.weight * layer.scale
    reference = F.conv2d(_explicit_blur(x, (2, 2)), w, layer.bias, stride=2)
    assert torch.allclose(layer(x), reference, atol=1e-5)
    skip = ConvLayer(5, 7, 1, downsample=True, activate=False, bias=False)
    reference = F.conv2d(_explicit_blur(x, (1, 1)), skip.weight * skip.scale, stride=2)
    assert torch.allclose(skip(x), reference, atol=1e-5)
    # upsampling: stride-2 transposed conv, then blur with gain 4 and padding (1, 1); no demodulation
    style = torch.randn(2, 12)
    up = ModulatedConv2d(5, 6, 3, 12, demodulate=False, upsample=True)
    styles = up.modulation(style)
    modulated = x * styles[:, :, None, None]
    raw = F.conv_transpose2d(modulated, (up.weight * up.scale).transpose(0, 1), stride=2)
    reference = _explicit_blur(raw, (1, 1), gain=4.0)
    assert reference.shape == (2, 6, 24, 24)
    assert torch.allclose(up(x, style), reference, atol=1e-4)
    # the fused activation equals leaky_relu(.) * sqrt(2)
    act = ConvLayer(5, 7, 3)
    plain = F.conv2d(x, act.weight * act.scale, act.bias, padding=1)
    assert torch.allclose(act(x), F.leaky_relu(plain, 0.2) * math.sqrt(2), atol=1e-5)


# -- shapes per module --------------------------------------------------------------------------------------
def test_layer_shapes() -> None:
    x = torch.randn(2, 8, 16, 16)
    style = torch.randn(2, 12)
    assert ConvLayer(8, 4, 3, downsample=True)(x).shape == (2, 4, 8, 8)
    assert ResDownBlock(8, 16)(x).shape == (2, 16, 8, 8)
    assert EqualLinear(12, 5, activate=True)(style).shape == (2, 5)
    assert ModulatedConv2d(8, 6, 3, 12, upsample=True)(x, style).shape == (2, 6, 32, 32)
    assert StyleConv(8, 6, 12)(x, style).shape == (2, 6, 16, 16)
    assert ToRGB(8, 12)(x, style, torch.randn(2, 3, 8, 8)).shape == (2, 3, 16, 16)
    flow, mask = FlowHead(8, 12)(x, style, torch.zeros(2, 2, 8, 8))
    assert flow.shape == (2, 2, 16, 16) and mask.shape == (2, 1, 16, 16)
    assert float(mask.detach().min()) > 0 and float(mask.detach().max()) < 1
    assert SFT(8, 12)(x, style).shape == x.shape
    assert warp(x[:1], torch.zeros(3, 2, 16, 16)).shape == (3, 8, 16, 16)


def test_modulated_conv_matches_per_sample_weights() -> None:
    """The batch-friendly form equals the textbook per-sample modulated/demodulated weight."""
    torch.manual_seed(1)
    conv = ModulatedConv2d(6, 5, 3, 7)
    x, style = torch.randn(3, 6, 9, 9), torch.randn(3, 7)
    out = conv(x, style)
    s = conv.modulation(style)
    for b in range(3):
        w = conv.weight * conv.scale * s[b][None, :, None, None]
        w = w * torch.rsqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        ref = torch.nn.functional.conv2d(x[b : b + 1], w, padding=1)
        torch.testing.assert_close(out[b : b + 1], ref, rtol=1e-4, atol=1e-5)


def test_warp_with_zero_flow_is_identity() -> None:
    feature = torch.randn(1, 4, 8, 8)
    torch.testing.assert_close(warp(feature, torch.zeros(2, 2, 8, 8)), feature.expand(2, -1, -1, -1))


def test_attention_shapes() -> None:
    attn = MultiHeadAttention(16, 4, kv_dim=8)
    q, mem = torch.randn(3, 5, 16), torch.randn(3, 7, 8)
    assert attn(q, memory=mem).shape == (3, 5, 16)
    one = attn(q, kv=attn.project_memory(mem[:1]))
    torch.testing.assert_close(one, attn(q, memory=mem[:1].expand(3, -1, -1)), rtol=1e-5, atol=1e-6)
    assert DecoderLayer(16, 4, 32, kv_dim=8)(q, memory=mem).shape == (3, 5, 16)


def test_component_shapes(cfg) -> None:
    x = images(cfg, 2)
    features = AppearanceEncoder(cfg)(x)
    assert [f.shape[-1] for f in features] == list(cfg.feature_resolutions)
    assert [f.shape[1] for f in features] == [cfg.channels_at(r) for r in cfg.feature_resolutions]
    descriptor = MotionEncoder(cfg)(x)
    assert descriptor.shape == (2, cfg.motion_dim)
    base = MotionBase(cfg)()
    assert base.shape == (cfg.num_motions, cfg.code_dim)
    codes = QueryTransformer(cfg)(descriptor, base)
    assert codes.shape == (2, cfg.num_motions, cfg.code_dim)
    assert QueryMLP(cfg)(descriptor, base).shape == codes.shape
    backward = BackwardTransformer(cfg)
    projected = backward(codes, backward.memory(features))
    assert projected.shape == codes.shape
    assert Generator(cfg)(projected, features).shape == (2, 3, cfg.image_size, cfg.image_size)
    assert Discriminator(cfg)(x).shape == (2,)


# -- the two-domain model -----------------------------------------------------------------------------------
def test_api_shapes_and_broadcast(cfg, model) -> None:
    K, d = cfg.num_motions, cfg.code_dim
    source = model.encode_source(images(cfg, 1), "cartoon")
    assert source.w_s2r.shape == source.w_r2s.shape == (1, K, d)
    assert len(source.features) == len(cfg.feature_resolutions) and len(source.memory) == 3
    w_r2d = model.encode_driving(images(cfg, 4, seed=1), "real")
    assert w_r2d.shape == (4, K, d)
    w_s2d = model.relative_motion(source, w_r2d, w_r2d[:1])
    out = model.render(source, w_s2d)
    assert out.shape == (4, 3, cfg.image_size, cfg.image_size)
    assert torch.isfinite(out).all()
    # the batch-1 source broadcast equals rendering from a source repeated B times
    repeated = model.encode_source(images(cfg, 1).expand(4, -1, -1, -1), "cartoon")
    torch.testing.assert_close(out, model.render(repeated, w_s2d), rtol=1e-4, atol=1e-4)
    absolute = model.absolute_motion(source, w_r2d)
    torch.testing.assert_close(absolute, source.w_s2r + w_r2d)


def test_relative_motion_at_start_frame_is_source_motion(cfg, model) -> None:
    source = model.encode_source(images(cfg, 1), "real")
    frames = images(cfg, 3, seed=2)
    w = model.encode_driving(frames, "cartoon")
    w_s2d = model.relative_motion(source, w, w[:1])
    assert torch.equal(w_s2d[0], (source.w_s2r + source.w_r2s)[0])
    assert not torch.equal(w_s2d[1], w_s2d[0])
    # encoding the start frame again, alone, gives the same code here (deterministic CPU kernels)
    start = model.encode_driving(frames[:1], "cartoon")
    assert torch.equal(model.relative_motion(source, start, start), source.w_s2s)


def test_motion_gain_scales_the_drivers_relative_motion(cfg, model) -> None:
    """Ours: w_{s->s} + gain (w_{r->d} - w_{r->1}); the compiled/ONNX core (FrameCore + motion_offset) agrees."""
    from toontalker.animation.core import CoreRunner, FrameCore, flatten_source, motion_offset

    source = model.encode_source(images(cfg, 1), "cartoon")
    frames = images(cfg, 4, seed=3)
    w = model.encode_driving(frames, "real")
    delta = w - w[:1]
    torch.testing.assert_close(model.relative_motion(source, w, w[:1], gain=1.7), source.w_s2s + 1.7 * delta)
    assert torch.equal(model.relative_motion(source, w, w[:1], gain=0.0), source.w_s2s.expand_as(w))
    with torch.no_grad():
        eager = model.render(source, model.relative_motion(source, w, w[:1], gain=1.7))
        core = FrameCore(model, "cartoon", "real", len(source.features), gain=1.7).eval()
        offset = motion_offset(source, "relative", w[:1], gain=1.7)
        torch.testing.assert_close(core(frames, offset, *flatten_source(source)), eager, rtol=1e-4, atol=1e-4)
        runner = CoreRunner(model, source, "real", reference=w[:1], motion_gain=1.7)
        torch.testing.assert_close(runner(frames), eager, rtol=1e-4, atol=1e-4)
        still = CoreRunner(model, source, "real", reference=w[:1], motion_gain=0.0)(frames)
    assert torch.allclose(still, still[:1].expand_as(still), atol=1e-5)  # gain 0: the source's own pose, every frame
    with pytest.raises(UsageError, match="motion_gain"):
        CoreRunner(model, source, "real", motion="absolute", motion_gain=2.0)


def _assert_grads(model: ToonTalker, used: set[str]) -> None:
    names = {n for n, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        if name in used:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, f"{name} got no gradient"
        else:
            assert p.grad is None or float(p.grad.abs().sum()) == 0, f"{name} should not be touched"
    assert used <= names


def test_every_parameter_gets_gradient_within_domain(cfg, model) -> None:
    out = model(images(cfg, 2), images(cfg, 2, seed=3), "real")
    weights = torch.randn_like(out.image)
    (out.image * weights).sum().backward()
    used = {n for n, _ in model.named_domain_parameters("real")} | {n for n, _ in model.named_shared_parameters()}
    _assert_grads(model, used)


def test_every_parameter_gets_gradient_cross_domain(cfg, model) -> None:
    """Analogy pass real -> cartoon: cartoon's Ea, Em, p, T_B, G; real's Em, p; both shared transformers."""
    source = model.encode_source(images(cfg, 2), "cartoon")
    result = model.analogy(
        source,
        w_r2a=model.encode_driving(images(cfg, 2, seed=4), "real"),
        w_r2b=model.encode_driving(images(cfg, 2, seed=5), "real"),
    )
    assert result.image.shape == (2, 3, cfg.image_size, cfg.image_size)
    loss = (result.image * torch.randn_like(result.image)).sum() + result.motion_loss()
    loss.backward()
    used = {n for n, _ in model.named_domain_parameters("cartoon")} | {n for n, _ in model.named_shared_parameters()}
    used |= {
        n
        for n, _ in model.named_parameters()
        if n.startswith(("domains.real.motion_encoder.", "domains.real.motion_base."))
    }
    _assert_grads(model, used)


def test_copy_domain_and_parameter_groups(cfg, model) -> None:
    x = images(cfg, 1)
    w = model.encode_driving(images(cfg, 2, seed=6), "real")
    before = model.render(model.encode_source(x, "cartoon"), w)
    model.copy_domain("real", "cartoon")
    after = model.render(model.encode_source(x, "cartoon"), w)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, model.render(model.encode_source(x, "real"), w))
    real = dict(model.named_domain_parameters("real"))
    cartoon = dict(model.named_domain_parameters("cartoon"))
    assert (
        real["domains.real.motion_base.embeddings"].data_ptr()
        != cartoon["domains.cartoon.motion_base.embeddings"].data_ptr()
    )
    counts = model.parameter_counts()
    assert counts.total == 2 * counts.per_domain + counts.shared == sum(p.numel() for p in model.parameters())
    assert counts.per_domain == sum(
        getattr(counts, f)
        for f in ("appearance_encoder", "motion_encoder", "motion_base", "backward_transformer", "generator")
    )
    with pytest.raises(UsageError, match="both 'real'"):
        model.copy_domain("real", "real")


@pytest.mark.parametrize(
    "overrides", [{"query_transformer": "mlp"}, {"backward_transformer": False}, {"sft": False}, {"motion_skip": False}]
)
def test_ablations_run_and_change_parameters(cfg, overrides) -> None:
    full = ToonTalker(cfg).parameter_counts()
    model = ToonTalker(cfg.replace(**overrides))
    out = model(images(cfg, 2), images(cfg, 2, seed=7), "cartoon")
    assert out.image.shape == (2, 3, cfg.image_size, cfg.image_size)
    counts = model.parameter_counts()
    assert counts.total < full.total or counts.shared != full.shared


def test_bad_inputs(cfg, model) -> None:
    with pytest.raises(InputError, match=r"source image: expected a \(B, 3, 64, 64\) tensor, got \(1, 3, 32, 32\)"):
        model.encode_source(torch.zeros(1, 3, 32, 32), "real")
    with pytest.raises(UsageError, match="unknown domain 'anime'"):
        model.encode_driving(images(cfg, 1), "anime")
    source = model.encode_source(images(cfg, 2), "real")
    with pytest.raises(UsageError, match="source batch of 2 cannot render 3"):
        model.render(source, torch.zeros(3, cfg.num_motions, cfg.code_dim))


# -- motion skip (not in the paper; docs/model.md) ------------------------------------------------------------
def _relative_spread(x: torch.Tensor) -> float:
    """Mean absolute deviation across the batch, relative to the mean magnitude."""
    return ((x - x.mean(0, keepdim=True)).abs().mean() / x.abs().mean()).item()


def test_motion_skip_keeps_the_codes_input_dependent_at_init(cfg) -> None:
    """Without the skip the post-norm query transformer passes on a small fraction of F's frame-to-frame
    variation (the cause of the motion collapse); with it the codes vary about as much as F does."""
    frames = images(cfg, 6, seed=3)
    spreads = {}
    for skip in (True, False):
        torch.manual_seed(0)
        model = ToonTalker(cfg.replace(motion_skip=skip))
        with torch.no_grad():
            descriptor = model.domains["real"].motion_encoder(frames)
            codes = model.encode_driving(frames, "real")
        spreads[skip] = (_relative_spread(descriptor), _relative_spread(codes))
    (f_on, w_on), (f_off, w_off) = spreads[True], spreads[False]
    assert f_on == pytest.approx(f_off)  # same encoder init
    assert w_on > 0.3 * f_on, spreads
    assert w_off < 0.2 * f_off and w_on > 3 * w_off, spreads


def test_motion_skip_off_is_the_paper_layout(cfg, tmp_path) -> None:
    from toontalker.weights import read_config

    model = ToonTalker(cfg.replace(motion_skip=False))
    assert model.driving_query.skip is None and model.domains["real"].backward_transformer.residual_gain is None
    assert model.parameter_counts().total < ToonTalker(cfg).parameter_counts().total
    legacy = cfg.to_dict()
    del legacy["motion_skip"]  # a config.json written before the switch existed
    (tmp_path / "config.json").write_text(json.dumps(legacy))
    assert read_config(tmp_path / "config.json").motion_skip is False


def _reenact_real(model: ToonTalker, source: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
    """Eq. 5's absolute motion, real to real: (1, 3, H, W) source, (B, 3, H, W) driving -> (B, 3, H, W)."""
    src = model.encode_source(source, "real")
    return model.render(src, model.absolute_motion(src, model.encode_driving(driving, "real")))


def test_folded_filter_cache_equals_the_formula_and_follows_new_weights(cfg) -> None:
    """Inference reuses the blur-folded filters (layers.FoldedWeightCache): the outputs must equal the
    autograd path's, and a weight change (load_state_dict, an in-place update) must be seen at once."""
    torch.manual_seed(0)
    model, other = ToonTalker(cfg).eval(), ToonTalker(cfg).eval()
    source, driving = random_images(cfg, 1, seed=1), random_images(cfg, 2, seed=2)

    def run(m: ToonTalker) -> torch.Tensor:
        return _reenact_real(m, source, driving)

    with torch.inference_mode():
        first, cached = run(model), run(model)  # the second call uses the cache
    assert torch.equal(first, cached)
    assert torch.equal(cached, run(model).detach())  # grad enabled: recomputed from the formula
    model.load_state_dict(other.state_dict())
    with torch.inference_mode():
        assert torch.equal(run(model), run(other))
        assert not torch.equal(run(model), first)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)  # in place
    with torch.inference_mode():
        halved = run(model)
    with torch.enable_grad():
        assert torch.equal(halved, run(model).detach())
    # a bf16 autocast call first (animate --dtype bf16), then fp32 on the same model: no bf16 filter may leak
    fresh = ToonTalker(cfg).eval()
    fresh.load_state_dict(other.state_dict())
    with torch.inference_mode():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert run(fresh).dtype == torch.bfloat16
        assert torch.equal(run(fresh), run(other))


def test_scores_under_no_grad_see_a_fused_optimiser_step(cfg) -> None:
    """Held-out scoring during training runs under no_grad between fused Adam steps (CUDA training uses
    fused=True), which change the weights without bumping their version counters: such a call must see the
    new weights, not filters folded before the step (it did, and in-training scores drifted from the
    exported weights' as a run went on)."""
    torch.manual_seed(0)
    model = ToonTalker(cfg)
    source, driving = random_images(cfg, 1, seed=1), random_images(cfg, 2, seed=2)

    def run(m: ToonTalker) -> torch.Tensor:
        return _reenact_real(m, source, driving)

    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    folded = [m.weight for m in model.modules() if hasattr(m, "folded")]
    assert folded
    versions = [p._version for p in folded]
    with torch.no_grad():
        before = run(model.eval())
    run(model.train()).square().mean().backward()
    optimiser.step()
    assert [p._version for p in folded] == versions  # the step the version-counter key cannot see
    with torch.no_grad():
        after = run(model.eval())
    with torch.enable_grad():
        assert torch.equal(after, run(model).detach())
    assert not torch.equal(after, before)
