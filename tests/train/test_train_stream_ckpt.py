"""The data stream (deterministic, rank-aware) and atomic checkpoint folders."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from synthetic_clips import SyntheticPairs
from toontalker.train.checkpoint import list_checkpoints, save_checkpoint
from toontalker.train.stream import StreamSampler, TrainStream


def _take(sampler: StreamSampler, n: int) -> list[int]:
    return list(itertools.islice(iter(sampler), n))


def test_sampler_splits_each_step_over_ranks_and_micro_steps() -> None:
    one = _take(StreamSampler(micro_batch=2, world_size=1, rank=0, grad_accum=2), 8)
    r0 = _take(StreamSampler(micro_batch=2, world_size=2, rank=0, grad_accum=1), 4)
    r1 = _take(StreamSampler(micro_batch=2, world_size=2, rank=1, grad_accum=1), 4)
    assert one == list(range(8))
    assert r0 == [0, 1, 4, 5] and r1 == [2, 3, 6, 7]  # step s covers [4s, 4s + 4) either way
    assert _take(StreamSampler(2, 2, 1, 1, start_step=5), 2) == [22, 23]


def test_stream_visits_every_clip_once_per_epoch_and_is_deterministic() -> None:
    stream = TrainStream(SyntheticPairs(5), SyntheticPairs(3, seed=1), seed=3)
    clips = [stream._item_index(0, p) % 5 for p in range(10)]
    assert sorted(clips[:5]) == sorted(clips[5:]) == list(range(5))
    again = TrainStream(SyntheticPairs(5), SyntheticPairs(3, seed=1), seed=3)
    for position in (0, 7, 12):
        assert all(torch.equal(a.nan_to_num(), b.nan_to_num()) for a, b in zip(stream[position], again[position]))
    # per domain: source, driving, driving regions, points (NaN: these synthetic pairs have no landmarks)
    assert len(stream[4]) == 8 and stream.lengths == (5, 3) and torch.isnan(stream[4][2]).all()
    assert stream[4][3].shape == (2, 468, 2) and torch.isnan(stream[4][3]).all()
    rng_before = torch.get_rng_state()
    stream[9]  # the dataset's own random draws do not disturb the caller's RNG
    assert torch.equal(rng_before, torch.get_rng_state())


def test_checkpoint_is_all_or_nothing(tmp_path: Path) -> None:
    def export_ok(folder: Path) -> None:
        (folder / "model.safetensors").write_bytes(b"x")

    save_checkpoint(tmp_path, 1, {"step": 1}, export_ok, "stage: 1\n", keep_last=2)

    def export_fails(folder: Path) -> None:
        (folder / "model.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, 2, {"step": 2}, export_fails, "stage: 1\n", keep_last=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [1]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000001"]  # no temporary left
    save_checkpoint(
        tmp_path, 1, {"step": 1, "again": True}, export_ok, "stage: 1\n", keep_last=2
    )  # same step: replaced
    assert torch.load(tmp_path / "checkpoints" / "step-00000001" / "trainer_state.pt", weights_only=True)["again"]


def test_resume_rng_state_exact_for_same_world_size_else_reseeded_per_rank() -> None:
    from toontalker.train.checkpoint import capture_rng_state, resume_rng_state

    torch.manual_seed(11)
    saved = [capture_rng_state(), capture_rng_state()]
    expected = torch.rand(3)
    torch.manual_seed(99)
    assert resume_rng_state(saved, rank=1, world_size=2, seed=0, step=5)
    assert torch.equal(torch.rand(3), expected)  # same number of processes: continues bit-exactly

    draws = []
    for rank in (0, 1, 0):
        assert not resume_rng_state(saved, rank=rank, world_size=3, seed=0, step=5)
        draws.append(torch.rand(3))
    assert not torch.equal(draws[0], draws[1]) and torch.equal(draws[0], draws[2])  # distinct per rank, repeatable


def test_resume_note_names_the_process_change_and_the_grad_accum_that_keeps_the_micro_batch() -> None:
    from toontalker.train.distributed import DistInfo
    from toontalker.train.recipe import TrainRecipe
    from toontalker.train.start import resize_note

    recipe = TrainRecipe.for_stage("paper-256", 1)  # batch 64, grad_accum 1
    state = {"rng": [{}] * 8, "recipe": recipe.to_dict()}
    assert resize_note(state, recipe, info=DistInfo(world_size=8), exact_rng=True) == ""
    assert resize_note(state, recipe, info=DistInfo(), exact_rng=False) == (
        " (8 -> 1 processes; RNG states reseeded; micro-batch 8 -> 64, --set grad_accum=8 keeps it)"
    )
    kept = recipe.replace(grad_accum=4)
    assert (
        resize_note(state, kept, info=DistInfo(world_size=2), exact_rng=False)
        == " (8 -> 2 processes; RNG states reseeded)"
    )
