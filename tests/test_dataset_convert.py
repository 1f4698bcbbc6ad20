"""`dataset convert`: an mp4 dataset (clips cut from ../shared/data, with landmarks) to npy and jpg, resumed,
read by training, and refused where a clip does not match its manifest row."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from toontalker.cli import app
from toontalker.dataset.convert import convert_dataset
from toontalker.dataset.landmarks import landmarks_path
from toontalker.dataset.manifest import clip_path, read_manifest
from toontalker.dataset.options import ConvertOptions
from toontalker.dataset.storage import ClipReader
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.errors import UsageError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mp4_dataset(shared_data: Path, tmp_path_factory) -> Path:
    """Two 16-frame real clips of two people, imported as 64 px mp4 clips with landmarks."""
    base = tmp_path_factory.mktemp("convert")
    for person, name in (("p0", "liveportrait_d0.mp4"), ("p1", "lia_vox_driving1.mp4")):
        (base / "src" / person).mkdir(parents=True)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(shared_data / "real" / "videos" / name),
             "-frames:v", "16", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(base / "src" / person / name)],
            check=True,
        )  # fmt: skip
    from typer.testing import CliRunner

    args = ["dataset", "import", str(base / "src"), str(base / "mp4"), "--domain", "real", "--size", "64"]
    result = CliRunner().invoke(app, [*args, "--format", "mp4", "-q"])
    assert result.exit_code == 0, result.output
    return base / "mp4"


def _frames(root: Path, row) -> np.ndarray:
    reader = ClipReader(clip_path(root, row.path), row.format)
    return np.stack([reader.read(i) for i in range(len(reader))])


def test_mp4_to_npy_keeps_every_frame_row_and_landmark_file(mp4_dataset: Path, tmp_path: Path, cli_runner):
    out = tmp_path / "npy"
    result = cli_runner.invoke(app, ["dataset", "convert", str(mp4_dataset), str(out), "--format", "npy", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["clips"], summary["converted"], summary["skipped"], summary["landmarks"]) == (2, 2, 0, 2)
    before, after = read_manifest(mp4_dataset), read_manifest(out)
    assert list(after["format"]) == ["npy", "npy"] and all(p.endswith(".npy") for p in after["path"])
    same = [c for c in before.columns if c not in ("path", "format")]
    assert before[same].equals(after[same])  # ids, identities, splits, frames, boxes: unchanged
    for old, new in zip(before.itertuples(), after.itertuples()):
        assert np.array_equal(_frames(mp4_dataset, old), _frames(out, new))  # the decoded frames, exactly
        assert landmarks_path(out, new.id).read_bytes() == landmarks_path(mp4_dataset, old.id).read_bytes()
    verify = cli_runner.invoke(app, ["dataset", "verify", str(out), "--json"])
    assert verify.exit_code == 0 and json.loads(verify.stdout)["landmarks_checked"] == 2
    pair = FramePairDataset(out, split=None, domain="real")[0]
    assert pair.source.shape == (3, 64, 64) and not np.isnan(pair.points.numpy()).all()


def test_convert_resumes_and_jpg_stays_close(mp4_dataset: Path, tmp_path: Path):
    out = tmp_path / "jpg"
    first = convert_dataset(mp4_dataset, out, ConvertOptions(format="jpg"))
    assert (first.converted, first.skipped, first.frames) == (2, 0, 32)
    again = convert_dataset(mp4_dataset, out, ConvertOptions(format="jpg"))
    assert (again.converted, again.skipped) == (0, 2)
    rows = read_manifest(out)
    for frame in sorted((out / rows.path[0]).iterdir())[-3:]:
        frame.unlink()  # a clip left short (e.g. written by hand) is converted again
    assert convert_dataset(mp4_dataset, out, ConvertOptions(format="jpg")).converted == 1
    for old, new in zip(read_manifest(mp4_dataset).itertuples(), rows.itertuples()):
        difference = np.abs(_frames(mp4_dataset, old).astype(int) - _frames(out, new).astype(int))
        assert new.format == "jpg" and difference.mean() < 3.0  # JPEG q95 (a wrong frame or channel order: >> 10)
    assert convert_dataset(mp4_dataset, out, ConvertOptions(format="jpg", overwrite=True)).converted == 2


def test_a_clip_that_does_not_match_its_row_is_named_and_no_manifest_is_written(
    mp4_dataset: Path, tmp_path: Path, cli_runner
):
    broken = tmp_path / "broken"
    result = cli_runner.invoke(app, ["dataset", "convert", str(mp4_dataset), str(broken / "npy"), "--format", "npy"])
    assert result.exit_code == 0
    rows = read_manifest(broken / "npy")
    np.save(broken / "npy" / rows.path[1], np.load(broken / "npy" / rows.path[1])[:10])  # 10 of 16 frames
    out = tmp_path / "jpg"
    result = cli_runner.invoke(app, ["dataset", "convert", str(broken / "npy"), str(out)])
    assert result.exit_code == 1
    assert f"{rows.path[1]}: 10 frames, the manifest says 16" in result.output.replace("\n", "")
    assert not (out / "manifest.parquet").exists() and not (out / "manifest.csv").exists()
    with pytest.raises(UsageError, match="must differ"):
        convert_dataset(mp4_dataset, mp4_dataset, ConvertOptions(format="npy"))
    with pytest.raises(UsageError, match="format must be one of"):
        ConvertOptions(format="gif")
