"""The landmark flow term (lambda_flow, ours): the loss maths, G's flow, points in the pairs, a real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from shared_clips import import_clips
from toontalker.cli import app
from toontalker.dataset.landmarks import read_clip_landmarks
from toontalker.dataset.manifest import read_manifest
from toontalker.dataset.torch_data import FramePairDataset, _flip_points
from toontalker.faces.landmarks import MOUTH_POINTS
from toontalker.model import ModelConfig, ToonTalker
from toontalker.model.styleconv import warp
from toontalker.train.flow_landmarks import (
    EXPRESSION_POINTS,
    flow_landmark_loss,
    flow_landmark_terms,
    flow_shape_loss,
)
from toontalker.train.stream import TrainBatch, TrainStream


def _points(batch: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.2 + 0.6 * torch.rand(batch, 2, 468, 2, generator=g)


def test_the_loss_is_zero_for_the_right_flow_and_the_offset_otherwise():
    points = _points(2)
    points[:, 1] = points[:, 0] + torch.tensor([0.05, -0.025])  # the driving frame: the face moved right, up
    shift = torch.tensor([-0.1, 0.05]).view(1, 2, 1, 1)  # the same move as a grid offset back to the source
    assert flow_landmark_loss(shift.expand(2, 2, 32, 32), points) < 1e-5
    zero = torch.zeros(2, 2, 32, 32)
    assert torch.isclose(flow_landmark_loss(zero, points), torch.tensor(0.15), atol=1e-5)  # |0.1| + |0.05|


def test_a_flow_with_zero_loss_moves_the_source_point_onto_the_driving_point_through_g_warp():
    """The loss's coordinates are G's: warping by a flow the loss scores 0 carries a source pixel at p_s to
    the output pixel at p_d."""
    size = 32
    source = torch.zeros(1, 1, size, size)
    source[0, 0, 8, 20] = 1.0  # row 8, column 20: x = 20.5 / 32, y = 8.5 / 32 in [0, 1]
    p_s = torch.tensor([20.5 / size, 8.5 / size])
    p_d = torch.tensor([12.5 / size, 24.5 / size])  # where the driving frame has that point
    points = torch.stack([p_s, p_d]).view(1, 2, 1, 2).expand(1, 2, 468, 2).contiguous()
    flow = (2 * (p_s - p_d)).view(1, 2, 1, 1).expand(1, 2, size, size).contiguous()
    assert flow_landmark_loss(flow, points) < 1e-6
    moved = warp(source, flow)
    assert moved[0, 0, 24, 12] > 0.99 and moved.sum() < 1.01  # the dot is now at row 24, column 12 only


def test_unknown_points_are_ignored_and_mouth_and_eyes_weigh_half():
    points = _points(1)
    points[:, 1] = points[:, 0]
    moved = points.clone()
    others = [k for k in range(468) if k not in EXPRESSION_POINTS]
    moved[0, 1, others, 0] += 0.1  # only points outside the mouth and eyes move, by 0.2 in grid units
    zero = torch.zeros(1, 2, 16, 16)
    expected = 0.5 * 0.2 * len(others) / 468
    assert torch.isclose(flow_landmark_loss(zero, moved), torch.tensor(expected), atol=1e-5)
    moved[0, 0, others] = float("nan")  # unknown in the source: ignored
    assert flow_landmark_loss(zero, moved) < 1e-6
    assert flow_landmark_loss(zero, torch.full_like(points, float("nan"))) == 0


def test_the_shape_term_ignores_a_shifted_face_and_sees_an_opening_mouth():
    points = _points(2)
    points[:, 1] = points[:, 0] + torch.tensor([0.05, -0.025])
    wrong_shift = torch.full((2, 2, 32, 32), 0.3)  # every point lands 0.2-0.35 off: a shape that is right
    assert flow_landmark_loss(wrong_shift, points) > 0.1 and flow_shape_loss(wrong_shift, points) < 1e-5
    opened = points.clone()
    lower = list(MOUTH_POINTS[: len(MOUTH_POINTS) // 2])
    opened[:, 1, lower, 1] += 0.05  # half of the mouth points move down by 0.1 grid units in the driving frame
    zero = torch.zeros(2, 2, 32, 32)
    # the mouth's error vectors are 0 or -0.1 in y: each deviates 0.05 from their mean; the eyes deviate 0
    expected = 0.05 / 3
    assert torch.isclose(flow_shape_loss(zero, opened), torch.tensor(expected), atol=1e-5)
    opened[:, 0, lower] = float("nan")  # the moved points unknown in the source: the rest of the mouth is rigid
    assert flow_shape_loss(zero, opened) < 1e-6
    assert flow_shape_loss(zero, torch.full_like(points, float("nan"))) == 0


def test_both_terms_from_one_sampling_equal_the_separate_losses():
    points = _points(3, seed=1)
    points[0, 0, :40] = float("nan")
    flow = torch.randn(3, 2, 16, 16, generator=torch.Generator().manual_seed(2)) * 0.1
    landmark, shape = flow_landmark_terms(flow, points)
    assert torch.equal(landmark, flow_landmark_loss(flow, points)) and torch.equal(shape, flow_shape_loss(flow, points))
    assert landmark > 0 and shape > 0


def test_flip_mirrors_x_only():
    flipped = _flip_points(torch.tensor([[0.25, 0.5], [0.9, 0.1]]))
    assert torch.allclose(flipped, torch.tensor([[0.75, 0.5], [0.1, 0.1]]))


def test_render_with_flow_is_render_plus_the_last_flow():
    torch.manual_seed(0)
    model = ToonTalker(ModelConfig.from_name("tiny")).eval()
    size = model.config.image_size
    images = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        source = model.encode_source(images, "real")
        w_s2d = model.absolute_motion(source, model.encode_driving(images.flip(0), "real"))
        image, flow = model.render_with_flow(source, w_s2d)
        assert torch.equal(image, model.render(source, w_s2d))
    assert flow.shape == (2, 2, size, size) and torch.isfinite(flow).all()


@pytest.fixture()
def real_clips(cli_runner, shared_data: Path, tmp_path: Path) -> Path:
    return import_clips(cli_runner, shared_data, tmp_path, cartoon=False)


def test_pairs_carry_both_frames_points_from_the_dataset(real_clips: Path):
    pairs = FramePairDataset(real_clips, split=None, domain="real", seed=3, augment=True, length=16)
    row = read_manifest(real_clips).iloc[0]
    marks = read_clip_landmarks(real_clips, row.id)
    stored = marks.points[..., :2] / float(row["size"])
    checked = 0
    for index in range(0, 16, 2):  # even items are clip 0
        item = pairs[index]
        assert item.points.shape == (2, 468, 2)
        for frame in item.points:
            if torch.isnan(frame).all():
                continue
            plain = np.abs(stored - frame.numpy()).max(axis=(1, 2))
            flipped = np.abs(stored - _flip_points(frame).numpy()).max(axis=(1, 2))
            assert min(plain.min(), flipped.min()) < 1e-5  # one of the clip's frames, mirrored or not
            checked += 1
    assert checked >= 12


def test_the_flow_term_trains_g_flow_towards_the_landmarks(real_clips: Path):
    torch.manual_seed(0)
    model = ToonTalker(ModelConfig.from_name("tiny"))
    pairs = FramePairDataset(real_clips, split=None, domain="real", seed=0, length=8)
    stream = TrainStream(_Items(pairs), None, seed=0)
    batch = TrainBatch.from_collated([torch.stack(p) for p in zip(*(stream[i] for i in range(8)))])
    assert batch.real.points is not None
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)

    def loss() -> torch.Tensor:
        source = model.encode_source(batch.real.source, "real")
        w_s2d = model.absolute_motion(source, model.encode_driving(batch.real.driving, "real"))
        return flow_landmark_loss(model.render_with_flow(source, w_s2d)[1], batch.real.points)

    first = loss().item()
    for _ in range(25):
        optimiser.zero_grad()
        value = loss()
        value.backward()
        optimiser.step()
    assert first > 0.01 and loss().item() < 0.6 * first


class _Items:
    """FramePairDataset as the trainer's PairDataset (what train.data.ClipPairs returns)."""

    def __init__(self, pairs: FramePairDataset) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs.clips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        item = self.pairs[index % len(self.pairs)]
        return item.source, item.driving, item.driving_regions, item.points


@pytest.mark.slow
def test_a_stage1_run_adds_lambda_flow_times_the_logged_term(cli_runner, real_clips: Path, tmp_path: Path):
    """The same first step (same seed, weights and pairs) with lambda_flow / lambda_flow_shape 0 and 10 / 20:
    both log the terms, and the totals differ by exactly 10 x flow + 20 x flow_shape."""

    def first_step(weight: int) -> dict[str, float]:
        args = [
            "train",
            "--stage",
            "1",
            "--data",
            str(real_clips),
            "--preset",
            "tiny",
            "--out",
            str(tmp_path / str(weight)),
        ]
        settings = ["iterations=1", f"lambda_flow={weight}", f"lambda_flow_shape={2 * weight}", "lambda_per=0"]
        settings += ["checkpoint_every=1", "data_split=null"]
        result = cli_runner.invoke(
            app, [*args, "--device", "cpu", "--json", *sum((["--set", s] for s in settings), [])]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["losses"]

    off, on = first_step(0), first_step(10)
    assert 0 < on["flow"] < 2 and on["flow"] == pytest.approx(off["flow"], rel=1e-5)
    assert 0 < on["flow_shape"] < on["flow"] and on["flow_shape"] == pytest.approx(off["flow_shape"], rel=1e-5)
    assert on["total"] - off["total"] == pytest.approx(10 * on["flow"] + 20 * on["flow_shape"], rel=1e-3)


def test_the_landmark_signal_cache_is_bounded(real_clips: Path, monkeypatch):
    from toontalker.dataset import torch_data

    monkeypatch.setattr(torch_data, "EXPRESSION_CACHE_CLIPS", 1)
    clips = FramePairDataset(real_clips, split=None, domain="real").clips
    first = clips.expression(0)
    assert clips.expression(1) is not None and len(clips._expressions) == 1
    again = clips.expression(0)  # read again from its file, the same signals
    assert again is not first and np.array_equal(again.points, first.points, equal_nan=True)
    assert list(clips._expressions) == [0]
