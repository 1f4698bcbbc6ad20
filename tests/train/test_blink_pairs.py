"""Our pair sampling switch ``blink_pairs``: one closed-eye and one open-eye frame per pair, on real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toontalker.cli import app
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.errors import ConfigError, UsageError
from toontalker.faces.landmarks import closed_eyes
from toontalker.train import TrainRecipe
from toontalker.train.data import PairOptions, open_pair_dataset

VIDEOS = ("xportrait_driving_video.mp4", "eamm_happy.mp4")  # the first blinks four times in 60 frames


@pytest.fixture(scope="module")
def blink_dataset(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    tmp = tmp_path_factory.mktemp("blinks")
    for i, name in enumerate(VIDEOS):
        (tmp / "src" / f"person{i}").mkdir(parents=True)
        (tmp / "src" / f"person{i}" / name).symlink_to(shared_data / "real" / "videos" / name)
    result = CliRunner().invoke(
        app, ["dataset", "import", str(tmp / "src"), str(tmp / "dataset"), "--domain", "real", "--size", "64", "-q"]
    )
    assert result.exit_code == 0, result.output
    return tmp / "dataset"


def test_closed_eyes_are_frames_below_60_percent_of_the_median() -> None:
    eyes = np.array([0.3, 0.31, 0.1, 0.29, np.nan, 0.17, 0.3])
    assert closed_eyes(eyes).tolist() == [False, False, True, False, False, True, False]
    assert not closed_eyes(np.full(4, np.nan)).any()


def test_blink_pairs_put_one_closed_and_one_open_frame_in_each_pair(blink_dataset: Path) -> None:
    blinks = FramePairDataset(blink_dataset, split=None, size=64, blink_pairs=1.0, length=80)
    uniform = FramePairDataset(blink_dataset, split=None, size=64, length=80)
    closed = {c: blinks.clips.expression(c).closed for c in range(len(blinks.clips))}
    assert all(0 < v.sum() < len(v) for v in closed.values()), "both clips need closed and open frames"

    def pairs(ds: FramePairDataset) -> list[tuple[bool, bool]]:
        out = []
        for index in range(len(ds)):
            clip = index % len(ds.clips)
            i, j = ds._indices(clip, ds._rng(index))
            out.append((bool(closed[clip][i]), bool(closed[clip][j])))
        return out

    drawn = pairs(blinks)
    assert all(source != driving for source, driving in drawn)  # exactly one of the two has its eyes closed
    assert {(True, False), (False, True)} <= set(drawn)  # closing and opening, both directions
    assert sum(s != d for s, d in pairs(uniform)) < len(drawn) // 4  # uniform pairs rarely hold a blink
    item = blinks[0]
    assert item.source.shape == item.driving.shape == (3, 64, 64)


def test_the_recipe_passes_blink_pairs_to_the_pairs(blink_dataset: Path) -> None:
    assert TrainRecipe.for_stage("tiny", 1, blink_pairs=0.25).blink_pairs == 0.25
    with pytest.raises(ConfigError, match="blink_pairs must be in"):
        TrainRecipe.for_stage("tiny", 1, blink_pairs=1.5)
    with pytest.raises(UsageError, match="blink_pairs must be in"):
        FramePairDataset(blink_dataset, split=None, blink_pairs=-0.1)
    opened = open_pair_dataset(blink_dataset, "real", 64, PairOptions(split=None, blink_pairs=0.25))
    assert opened.pairs.blink_pairs == 0.25


def test_the_blink_code_probe_compares_blinks_with_open_eye_motion(blink_dataset: Path, tmp_path: Path) -> None:
    """scripts/blink_code_probe.py on shared clips with tiny random weights: the frames it picks and its numbers."""
    import importlib.util

    import torch

    from toontalker.model import ModelConfig, ToonTalker
    from toontalker.weights import save_pretrained

    spec = importlib.util.spec_from_file_location(
        "blink_code_probe", Path(__file__).resolve().parents[2] / "scripts" / "blink_code_probe.py"
    )
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    ds = FramePairDataset(blink_dataset, split=None, size=64)
    quads = probe.blink_frames(ds)
    assert quads, "xportrait_driving_video blinks"
    for clip, closed, near, a, b in quads:
        shut = ds.clips.expression(clip).closed
        assert shut[closed] and (closed == 0 or not shut[closed - 1]) and not (shut[near] or shut[a] or shut[b])
        assert 3 <= abs(near - closed) <= 6 and 3 <= b - a <= 6
    torch.manual_seed(0)
    save_pretrained(ToonTalker(ModelConfig.from_name("tiny")), tmp_path / "tiny")
    differences = probe.code_differences(str(tmp_path / "tiny"), ds, quads)
    assert set(differences) == {"codes", "descriptor"}
    assert all(v.shape == (len(quads), 2) and np.isfinite(v).all() and (v > 0).all() for v in differences.values())
    assert probe.blink_pair_fraction(str(blink_dataset), None, per_clip=20, blink_pairs=1.0) == 1.0
    assert probe.blink_pair_fraction(str(blink_dataset), None, per_clip=20) < 0.5
