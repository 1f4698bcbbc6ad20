"""dataset build: multi-scene raw video, real + cartoon builds, bad inputs, resume (end to end on ../shared/data)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from toontalker.cli import app
from toontalker.dataset import sources as sources_module
from toontalker.dataset.build import build_dataset
from toontalker.dataset.manifest import read_manifest
from toontalker.dataset.pipeline import BuildConfig
from toontalker.dataset.storage import ClipReader, ClipWriter
from toontalker.faces import Box, get_detector

pytestmark = pytest.mark.slow


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _link(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(src)
    return dst


def _detector():
    return get_detector("auto", domain="cartoon")


def test_multi_scene_video_gives_one_clip_per_scene_with_face_in_crop(shared_data, tmp_path):
    """Three scenes of different size and layout (pillarbox, letterbox, small off-centre), hard cuts."""
    raw = tmp_path / "raw"
    raw.mkdir()
    d0 = shared_data / "real/videos/liveportrait_d0.mp4"
    s18 = shared_data / "real/videos/liveportrait_s18.mp4"
    toon = shared_data / "cartoon/videos/tha2_characters/aiba_uiha.mp4"
    graph = (
        "[0:v]fps=25,trim=end_frame=40,scale=270:270,pad=480:270:105:0,setsar=1[a];"
        "[1:v]fps=25,trim=end_frame=40,scale=400:225,pad=480:270:40:22,setsar=1[b];"
        "[2:v]fps=25,trim=end_frame=40,scale=200:200,pad=480:270:20:50:color=gray,setsar=1[c];"
        "[a][b][c]concat=n=3:v=1:a=0[v]"
    )
    _ffmpeg(
        "-i",
        str(d0),
        "-i",
        str(s18),
        "-i",
        str(toon),
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(raw / "multi.mp4"),
    )
    out = tmp_path / "out"
    summary = build_dataset(raw, out, BuildConfig(domain="real", min_frames=25))
    assert summary.failed == () and summary.clips == 3, summary
    manifest = read_manifest(out)
    scenes = [(0, 40), (40, 80), (80, 120)]
    detector = _detector()
    from toontalker.video import read_frames

    source = read_frames(raw / "multi.mp4")
    for row, (a, b) in zip(manifest.itertuples(), scenes):
        # the small anime face is missed in some frames, so its clip starts late: still most of the scene
        assert a <= row.start_frame and row.end_frame <= b and row.frames >= 25, row
        crop = Box(row.x0, row.y0, row.x1, row.y1)
        reader = ClipReader(out / row.path, row.format)
        assert len(reader) == row.frames
        found_in_source = found_in_crop = 0
        for k in (0, row.frames // 4, row.frames // 2, 3 * row.frames // 4, row.frames - 1):
            faces = detector.detect(source[row.start_frame + k])
            if faces:  # every face the detector sees in the source frame lies inside the clip's crop
                found_in_source += 1
                assert crop.contains(faces[0], tolerance=0.05), (row.id, k, faces, crop)
            found_in_crop += bool(detector.detect(reader.read(k)))
        assert found_in_source >= 3 and found_in_crop >= 3, (row.id, found_in_source, found_in_crop)


@pytest.fixture(scope="module")
def mixed_dataset(shared_data, tmp_path_factory):
    """A real build (3 short videos, one with a too-small face) and a cartoon build into one folder."""
    base = tmp_path_factory.mktemp("mixed")
    real = base / "raw_real"
    for name in ("vtoonify_529_2.mp4", "vtoonify_908.mp4", "tpsmm_driving.mp4", "lia_ted_driving1.mp4"):
        _link(shared_data / "real/videos" / name, real / name)
    toon = base / "raw_toon"
    for name in ("a_chan.mp4", "aduchi_momo.mp4", "aiba_uiha.mp4"):
        _link(shared_data / "cartoon/videos/tha2_characters" / name, toon / name)
    return base


def test_real_and_cartoon_builds_then_stats_split_verify(mixed_dataset, cli_runner):
    out = mixed_dataset / "data"
    r1 = cli_runner.invoke(
        app, ["dataset", "build", str(mixed_dataset / "raw_real"), str(out), "--domain", "real", "--max-frames", "100"]
    )
    assert r1.exit_code == 0, r1.output
    assert "lia_ted_driving1.mp4" in r1.output and "under 48 px" in r1.output  # small TED face dropped
    r2 = cli_runner.invoke(
        app, ["dataset", "build", str(mixed_dataset / "raw_toon"), str(out), "--domain", "cartoon", "-j", "2"]
    )
    assert r2.exit_code == 0, r2.output
    manifest = read_manifest(out)
    assert set(manifest["domain"]) == {"real", "cartoon"}
    assert (manifest["domain"] == "cartoon").sum() >= 3
    assert set(manifest.loc[manifest.domain == "real", "source"]) == {
        "vtoonify_529_2.mp4",
        "vtoonify_908.mp4",
        "tpsmm_driving.mp4",
    }
    assert manifest["frames"].max() <= 150 and (manifest.loc[manifest.domain == "real", "frames"] <= 100).all()
    assert pd.read_csv(out / "manifest.csv")["id"].tolist() == manifest["id"].tolist()

    sheet = mixed_dataset / "sheet.png"
    r3 = cli_runner.invoke(app, ["dataset", "stats", str(out), "--sheet", str(sheet)])
    assert r3.exit_code == 0, r3.output
    assert "cartoon" in r3.output and "real" in r3.output and sheet.stat().st_size > 1000

    r4 = cli_runner.invoke(app, ["dataset", "split", str(out), "--test", "1", "--seed", "3"])
    assert r4.exit_code == 0, r4.output
    split = read_manifest(out)
    for _domain, part in split.groupby("domain"):
        assert part.loc[part.split == "test", "identity"].nunique() == 1
        assert not set(part.loc[part.split == "test", "identity"]) & set(part.loc[part.split == "train", "identity"])
    r5 = cli_runner.invoke(app, ["dataset", "verify", str(out)])
    assert r5.exit_code == 0 and "0 problems" in r5.output

    # A re-run skips finished videos and keeps the split.
    r6 = cli_runner.invoke(
        app, ["dataset", "build", str(mixed_dataset / "raw_toon"), str(out), "--domain", "cartoon", "--json"]
    )
    assert r6.exit_code == 0 and '"processed": 0' in r6.output
    assert read_manifest(out)["split"].tolist() == split["split"].tolist()
    # Other settings for the same domain are refused rather than mixed.
    r7 = cli_runner.invoke(
        app, ["dataset", "build", str(mixed_dataset / "raw_toon"), str(out), "--domain", "cartoon", "--size", "128"]
    )
    assert r7.exit_code == 2 and "size" in r7.output

    # Damage one clip: verify names it and fails.
    victim = split.iloc[0]
    frames = sorted((out / victim.path).iterdir())
    frames[len(frames) // 2].write_bytes(b"not a jpeg")
    r8 = cli_runner.invoke(app, ["dataset", "verify", str(out)])
    assert r8.exit_code == 1 and victim.id in r8.output


def test_bad_inputs_are_reported_and_the_build_goes_on(shared_data, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _link(shared_data / "real/videos/vtoonify_529_2.mp4", raw / "good.mp4")
    data = (shared_data / "real/videos/vtoonify_529.mp4").read_bytes()
    (raw / "corrupt.mp4").write_bytes(data[: len(data) // 3])
    (raw / "empty.mp4").write_bytes(b"")
    (raw / "text.mp4").write_text("this is not a video\n")
    (raw / "notes.txt").write_text("ignored\n")
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(raw / "audio_only.mp4"))
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x64:d=1",
        "-frames:v",
        "0",
        "-c:v",
        "libx264",
        str(raw / "zero_frames.mp4"),
    )
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=128x128:d=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(raw / "faceless.mp4"),
    )
    locked = raw / "locked"
    locked.mkdir()
    real_list = sources_module._list_dir

    def list_dir(path):  # root ignores permission bits, so refuse this folder the way the OS would
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_list(path)

    monkeypatch.setattr(sources_module, "_list_dir", list_dir)
    out = tmp_path / "out"
    summary = build_dataset(raw, out, BuildConfig(domain="real", min_frames=20))
    failed = dict(summary.failed)
    assert summary.clips == 1 and summary.videos == 7
    assert "moov atom not found" in failed["corrupt.mp4"] or "corrupt.mp4" in failed["corrupt.mp4"]
    assert "empty" in failed["empty.mp4"]
    assert "not a readable video" in failed["text.mp4"] or "no video stream" in failed["text.mp4"]
    assert "no video stream (only audio" in failed["audio_only.mp4"]
    assert "zero_frames.mp4" in failed and failed["zero_frames.mp4"]
    assert dict(summary.no_clips)["faceless.mp4"].startswith("no face found in 50 examined frames")
    assert summary.ignored == ("notes.txt",)
    assert summary.unreadable and summary.unreadable[0].startswith("locked: cannot list folder")
    for message in failed.values():
        assert "\n" not in message
    assert [p.name for p in (out / "clips").iterdir() if p.name.startswith(".")] == []
    assert read_manifest(out)["source"].tolist() == ["good.mp4"]


def test_killed_build_loses_nothing_finished(shared_data, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _link(shared_data / "real/videos/vtoonify_529_2.mp4", raw / "a.mp4")
    _link(shared_data / "real/videos/vtoonify_908.mp4", raw / "b.mp4")
    out = tmp_path / "out"
    config = BuildConfig(domain="real", min_frames=20)
    original = ClipWriter.write
    calls = {"n": 0}

    def dying_write(self, frames):
        calls["n"] += 1
        if "b-" in self.path.name and calls["n"] > 35:
            raise KeyboardInterrupt  # killed in the middle of b's clip
        return original(self, frames)

    monkeypatch.setattr(ClipWriter, "write", dying_write)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(raw, out, config)
    assert [p.name.split("-")[0] for p in (out / "clips").iterdir() if not p.name.startswith(".")] == ["a"]
    assert len(list((out / "videos").glob("*.json"))) == 1
    monkeypatch.setattr(ClipWriter, "write", original)
    summary = build_dataset(raw, out, config)
    assert summary.processed == 1 and summary.skipped == 1 and summary.clips == 2
    assert sorted(read_manifest(out)["source"]) == ["a.mp4", "b.mp4"]
    assert not [p for p in (out / "clips").iterdir() if p.name.startswith(".")]


def test_manual_box_and_no_crop(shared_data, tmp_path):
    raw = tmp_path / "raw"
    _link(shared_data / "real/videos/vtoonify_908.mp4", raw / "v.mp4")
    summary = build_dataset(
        raw, tmp_path / "boxed", BuildConfig(box="100,50,300,250", size=64, min_frames=10, format="npy")
    )
    row = read_manifest(tmp_path / "boxed").iloc[0]
    assert summary.detector == "none" and (row.x0, row.y0, row.x1, row.y1) == (100, 50, 300, 250)
    assert ClipReader(tmp_path / "boxed" / row.path, "npy").read(0).shape == (64, 64, 3)
    build_dataset(raw, tmp_path / "whole", BuildConfig(no_crop=True, size=64, min_frames=10, format="mp4"))
    row = read_manifest(tmp_path / "whole").iloc[0]
    assert row.y1 - row.y0 == 360 and row.frames == 39  # 392x360: centre square of side 360
    assert len(ClipReader(tmp_path / "whole" / row.path, "mp4")) == 39
