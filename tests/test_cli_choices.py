"""The CLI's closed choices (toontalker/cli/choices.py) are the library's sets, and Typer enforces them."""

from __future__ import annotations

from typing import get_args

from toontalker.cli import app, choices


def test_choices_mirror_the_library() -> None:
    from toontalker.animation.core import Backend
    from toontalker.bench.baselines import BASELINES
    from toontalker.bench.motion_heldout import HELDOUT_SETS
    from toontalker.bench.motion_inputs import CROPS
    from toontalker.bench.protocols import SETTINGS
    from toontalker.conventions import DOMAINS
    from toontalker.dataset.options import SCENE_DETECTORS
    from toontalker.dataset.sources import IDENTITY_SOURCES
    from toontalker.dataset.split import GROUP_BY
    from toontalker.dataset.storage import FORMATS
    from toontalker.devices import DTYPES
    from toontalker.faces import BACKENDS
    from toontalker.train.recipe import Perceptual, Precision, TrainCompileMode

    assert get_args(choices.Domain) == DOMAINS
    assert set(get_args(choices.Detector)) == {"auto", *BACKENDS}
    assert get_args(choices.InferenceBackend) == get_args(Backend)
    assert set(get_args(choices.Dtype)) - {"auto"} <= set(DTYPES)
    assert get_args(choices.Precision) == get_args(Precision)
    assert get_args(choices.Perceptual) == get_args(Perceptual)
    assert get_args(choices.TrainCompileMode) == get_args(TrainCompileMode)
    assert get_args(choices.ClipFormat) == FORMATS == choices.values(choices.ClipFormatChoice)
    assert get_args(choices.SceneDetector) == SCENE_DETECTORS
    assert get_args(choices.IdentityFrom) == IDENTITY_SOURCES
    assert get_args(choices.SplitBy) == GROUP_BY
    assert get_args(choices.BaselineName) == BASELINES
    assert set(get_args(choices.MotionCrop)) == set(CROPS)
    assert get_args(choices.HeldoutSet) == HELDOUT_SETS
    assert choices.values(choices.Setting) == tuple(s for s in SETTINGS if s != "paired-cartoon")  # bench paired's


def test_a_value_outside_a_choice_is_a_usage_error(cli_runner, tmp_path) -> None:
    for args in (
        ["bench", "protocol", "--data", str(tmp_path), "-s", "nope"],  # a repeatable Enum choice
        ["dataset", "split", str(tmp_path), "--by", "nope"],  # a Literal choice
        ["animate", "a.png", "b.mp4", "-o", str(tmp_path / "o.mp4"), "--source-domain", "nope"],
    ):
        result = cli_runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "'nope' is not one of" in result.output, result.output
    assert list(tmp_path.iterdir()) == []  # rejected before any work


def test_choices_show_in_help(cli_runner) -> None:
    result = cli_runner.invoke(app, ["dataset", "build", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "content|adaptive|none" in result.output and "jpg|png|npy|mp4" in result.output
