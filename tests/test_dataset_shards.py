"""dataset build --shard K/N + dataset merge equal one build (end to end on short videos of ../shared/data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from toontalker.cli import app
from toontalker.dataset.build import build_dataset
from toontalker.dataset.manifest import read_manifest
from toontalker.dataset.merge import merge_datasets
from toontalker.dataset.pipeline import BuildConfig
from toontalker.dataset.shards import Shard
from toontalker.errors import UsageError

pytestmark = pytest.mark.slow

# five short low-resolution talking heads (27-48 frames), three people: one identity spans both shards
VIDEOS = {
    "anna": ("spectre_OzA6jRYjVQs_00004.mp4", "spectre_PbgB2TaYhio_00007.mp4"),
    "ben": ("liax_driving6.mp4", "spectre_0Fi83BHQsMA_00002.mp4"),
    "cleo": ("spectre_00002.mp4",),
}
CONFIG = BuildConfig(domain="real", size=32, min_frames=10, detect_every=2, identity_from="parent")
OPTIONS = ["--domain", "real", "--size", "32", "--min-frames", "10", "--detect-every", "2", "--identity-from", "parent"]


def _raw(shared: Path, tmp: Path) -> Path:
    raw = tmp / "raw"
    for person, names in VIDEOS.items():
        (raw / person).mkdir(parents=True)
        for name in names:
            (raw / person / name).symlink_to(shared / "real" / "videos" / name)
    return raw


def _records(folder: Path) -> dict[str, list]:
    return {f.stem: json.loads(f.read_text())["records"] for f in sorted((folder / "videos").glob("*.json"))}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "clips").rglob("*")) if p.is_file()
    }


def test_shards_then_merge_equal_one_build(shared_data: Path, tmp_path: Path, cli_runner) -> None:
    raw = _raw(shared_data, tmp_path)
    whole = build_dataset(raw, tmp_path / "whole", CONFIG)
    assert whole.failed == () and whole.clips >= 4, whole

    rels = [f"{p}/{n}" for p, names in VIDEOS.items() for n in names]
    parts = [[r for r in rels if Shard(k, 2).holds(r)] for k in range(2)]
    assert sorted(parts[0] + parts[1]) == sorted(rels) and all(parts), parts  # a partition, both parts used
    for k in range(2):
        result = cli_runner.invoke(
            app, ["dataset", "build", str(raw), str(tmp_path / f"shard{k}"), *OPTIONS, "--shard", f"{k}/2", "--json"]
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary["videos"] == len(parts[k]) and summary["shard"] == f"{k}/2"
    again = build_dataset(raw, tmp_path / "shard0", CONFIG, shard=Shard(0, 2))  # resumable per shard
    assert (again.processed, again.skipped) == (0, len(parts[0]))
    with pytest.raises(UsageError, match="holds shard 0/2 of the real videos, not shard 1/2"):
        build_dataset(raw, tmp_path / "shard0", CONFIG, shard=Shard(1, 2))
    with pytest.raises(UsageError, match=r"shard\(s\) 1/2 not given"):
        merge_datasets([tmp_path / "shard0"], tmp_path / "partial")

    twin = tmp_path / "twin"  # the same shard given twice, then with other settings
    shutil.copytree(tmp_path / "shard0", twin)
    with pytest.raises(UsageError, match="both hold real shard 0/2"):
        merge_datasets([tmp_path / "shard0", twin, tmp_path / "shard1"], tmp_path / "bad")
    BuildConfig.load(twin / "build-real.json").replace(size=48).save(twin / "build-real.json")
    with pytest.raises(UsageError, match=r"other settings \(size differ\)"):
        merge_datasets([twin, tmp_path / "shard1"], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # refused before writing anything

    merged = merge_datasets([tmp_path / "shard0", tmp_path / "shard1"], tmp_path / "merged")
    assert (merged.videos, merged.merged, merged.clips, merged.identities) == (5, 5, whole.clips, 3)
    pd.testing.assert_frame_equal(read_manifest(tmp_path / "merged"), read_manifest(tmp_path / "whole"))
    assert _records(tmp_path / "merged") == _records(tmp_path / "whole")
    assert _files(tmp_path / "merged") == _files(tmp_path / "whole")
    # the merged folder is the one build: a build with the same options there finds nothing left to do
    resumed = build_dataset(raw, tmp_path / "merged", CONFIG)
    assert (resumed.processed, resumed.skipped) == (0, 5)

    result = cli_runner.invoke(
        app,
        [
            "dataset",
            "merge",
            str(tmp_path / "shard0"),
            str(tmp_path / "shard1"),
            str(tmp_path / "split"),
            "--copy",
            "--test",
            "1",
            "--seed",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["resplit"] is True
    frame = read_manifest(tmp_path / "split")
    assert frame.groupby("identity")["split"].nunique().max() == 1  # no identity in two splits
    assert frame.loc[frame["split"] == "test", "identity"].nunique() == 1
