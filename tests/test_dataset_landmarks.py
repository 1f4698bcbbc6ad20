"""Clip landmarks: `dataset landmarks` on an old (landmark-less) dataset, build/import computing them, verify
and stats reading them (end to end on 20-frame clips cut from ../shared/data)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from toontalker.cli import app
from toontalker.dataset import landmark_pass
from toontalker.dataset.build import build_dataset, collect_results
from toontalker.dataset.importer import ImportOptions, import_clips
from toontalker.dataset.landmarks import landmarks_path, read_clip_landmarks, write_clip_landmarks
from toontalker.dataset.manifest import read_manifest
from toontalker.dataset.pipeline import BuildConfig
from toontalker.dataset.torch_data import FramePairDataset
from toontalker.errors import BackendUnavailableError
from toontalker.faces import landmarks as face_landmarks
from toontalker.faces.landmarks import FrameLandmarks, mouth_opening

pytestmark = pytest.mark.slow


def _cut(src: Path, dst: Path, frames: int = 20) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(src),
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(dst),
        ],
        check=True,
    )
    return dst


@pytest.fixture(scope="module")
def sources(shared_data, tmp_path_factory):
    """20-frame cuts of a real talking head and a THA2 cartoon character, each in its own identity folder."""
    base = tmp_path_factory.mktemp("lm")
    _cut(shared_data / "real/videos/liveportrait_d0.mp4", base / "real" / "p0" / "d0.mp4")
    _cut(shared_data / "cartoon/videos/tha2_characters/aiba_uiha.mp4", base / "toon" / "c0" / "aiba.mp4")
    return base


def _old_dataset(sources: Path, out: Path, cli_runner) -> Path:
    """A dataset as made before landmarks existed: clips + manifest, no landmarks folder."""
    for domain, folder in (("real", "real"), ("cartoon", "toon")):
        result = cli_runner.invoke(
            app, ["dataset", "import", str(sources / folder), str(out), "--domain", domain, "--no-landmarks", "-q"]
        )
        assert result.exit_code == 0, result.output
    assert not (out / "landmarks").exists()
    return out


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_landmarks_command_on_an_old_dataset_then_verify_and_stats(sources, tmp_path, cli_runner):
    data = _old_dataset(sources, tmp_path / "data", cli_runner)
    report = _json(cli_runner.invoke(app, ["dataset", "verify", str(data), "--json"]))
    assert report["ok"] and report["landmarks_checked"] == 0 and len(report["without_landmarks"]) == 2
    assert FramePairDataset(data, domain="real")[0].source.shape == (3, 256, 256)  # reads without landmarks

    summary = _json(cli_runner.invoke(app, ["dataset", "landmarks", str(data), "--json"]))
    assert (summary["done"], summary["skipped"], summary["failed"], summary["frames"]) == (2, 0, [], 40)
    coverage = {c["domain"]: c for c in summary["coverage"]}
    assert coverage["real"]["with_landmarks"] == 1 and coverage["real"]["detection_rate"] > 0.9
    assert coverage["cartoon"]["with_landmarks"] == 1 and coverage["cartoon"]["frames"] == 20

    manifest = read_manifest(data)
    real_id = manifest.loc[manifest.domain == "real", "id"].item()
    marks = read_clip_landmarks(data, real_id)
    assert marks is not None and marks.points.shape == (20, 468, 3) and marks.points.dtype == np.float32
    found = marks.points[marks.detected]
    assert np.isfinite(found).all() and np.isnan(marks.points[~marks.detected]).all()
    # clip pixels: the face fills the middle of the 256 px crop
    assert 40 < found[..., 0].min() and found[..., 0].max() < 216 and 20 < found[..., 1].mean() < 236
    assert (mouth_opening(found) >= 0).all() and mouth_opening(found).max() < 0.5

    again = _json(cli_runner.invoke(app, ["dataset", "landmarks", str(data), "--json"]))
    assert (again["done"], again["skipped"]) == (0, 2)  # resumable: clips with a file are skipped
    redo = _json(cli_runner.invoke(app, ["dataset", "landmarks", str(data), "--overwrite", "--json"]))
    assert (redo["done"], redo["skipped"], redo["failed"]) == (1 + 1, 0, [])

    stats = _json(cli_runner.invoke(app, ["dataset", "stats", str(data), "--json"]))
    assert {c["domain"]: c["with_landmarks"] for c in stats["landmarks"]} == {"cartoon": 1, "real": 1}
    report = _json(cli_runner.invoke(app, ["dataset", "verify", str(data), "--json"]))
    assert report["ok"] and report["landmarks_checked"] == 2 and report["without_landmarks"] == []

    # A landmarks file for fewer frames than the clip, then one that is not a landmarks file: verify names both.
    write_clip_landmarks(data, real_id, FrameLandmarks(marks.points[:12], marks.detected[:12]))
    cartoon_id = manifest.loc[manifest.domain == "cartoon", "id"].item()
    landmarks_path(data, cartoon_id).write_bytes(b"PK\x03\x04 truncated")
    bad = cli_runner.invoke(app, ["dataset", "verify", str(data)])
    assert bad.exit_code == 1
    assert f"{real_id}: landmarks for 12 frames, the clip has 20" in bad.output
    assert cartoon_id in bad.output and "not a landmarks file" in bad.output


def test_parallel_workers_give_the_sequential_result(sources, tmp_path, cli_runner):
    one = _old_dataset(sources, tmp_path / "one", cli_runner)
    two = _old_dataset(sources, tmp_path / "two", cli_runner)
    assert landmark_pass.add_landmarks(one).done == 2
    summary = landmark_pass.add_landmarks(two, landmark_pass.LandmarkOptions(workers=2))
    assert (summary.done, summary.failed) == (2, ())
    for clip_id in read_manifest(one)["id"]:
        a, b = read_clip_landmarks(one, clip_id), read_clip_landmarks(two, clip_id)
        assert np.array_equal(a.detected, b.detected) and np.array_equal(a.points, b.points, equal_nan=True)


def test_round_trip_keeps_flags_and_nans(tmp_path):
    rng = np.random.default_rng(0)
    points = (rng.random((5, 468, 3)) * 256).astype(np.float32)
    detected = np.array([True, False, True, True, False])
    points[~detected] = np.nan
    write_clip_landmarks(tmp_path, "clip-000", FrameLandmarks(points, detected))
    back = read_clip_landmarks(tmp_path, "clip-000")
    assert np.array_equal(back.detected, detected) and np.isnan(back.points[~detected]).all()
    assert np.allclose(back.points[detected], points[detected], atol=0.13)  # float16: < 1/8 px at 256 px
    assert read_clip_landmarks(tmp_path, "other") is None
    assert [p.name for p in (tmp_path / "landmarks").iterdir()] == ["clip-000.npz"]  # no temporary left


def test_build_and_import_store_landmarks_and_keep_clips_whose_landmarks_fail(sources, tmp_path, monkeypatch):
    summary = build_dataset(sources / "real", tmp_path / "built", BuildConfig(domain="real", min_frames=10))
    assert summary.clips == 1 and summary.landmark_failed == ()
    (real,) = summary.landmarks
    assert (real.domain, real.clips, real.with_landmarks, real.frames) == ("real", 1, 1, 20)
    assert real.detection_rate > 0.9
    row = read_manifest(tmp_path / "built").iloc[0]
    assert len(read_clip_landmarks(tmp_path / "built", row.id)) == row.frames

    def broken(reader, mesh):
        raise RuntimeError("graph failed")

    monkeypatch.setattr(landmark_pass, "compute_clip_landmarks", broken)
    imported = import_clips(sources / "toon", tmp_path / "imported", ImportOptions(domain="cartoon"))
    assert imported.clips == 1 and imported.manifest is not None  # the clip is kept ...
    ((clip_id, reason),) = imported.landmark_failed  # ... and the summary says its landmarks failed
    assert reason == "RuntimeError: graph failed" and not landmarks_path(tmp_path / "imported", clip_id).exists()
    assert imported.landmarks[0].with_landmarks == 0
    (logged,) = collect_results(tmp_path / "imported").values()
    assert logged.landmark_errors == ((clip_id, reason),)  # the resume log keeps it

    monkeypatch.undo()
    fixed = landmark_pass.add_landmarks(tmp_path / "imported")
    assert fixed.done == 1 and fixed.coverage[0].with_landmarks == 1
    # the next import run no longer lists it
    assert import_clips(sources / "toon", tmp_path / "imported", ImportOptions(domain="cartoon")).landmark_failed == ()


def test_old_build_logs_and_settings_still_read(sources, tmp_path, cli_runner):
    """A build folder from before landmarks (settings and video logs without the new fields) resumes, and
    switching landmarks off on a re-run is not a settings change."""
    out = tmp_path / "out"
    build_dataset(sources / "real", out, BuildConfig(domain="real", min_frames=10, landmarks=False))
    settings = out / "build-real.json"
    old = {k: v for k, v in json.loads(settings.read_text()).items() if k != "landmarks"}
    settings.write_text(json.dumps(old))
    for log in (out / "videos").glob("*.json"):
        entry = json.loads(log.read_text())
        del entry["landmark_errors"]
        log.write_text(json.dumps(entry))
    again = build_dataset(sources / "real", out, BuildConfig(domain="real", min_frames=10))
    assert again.skipped == 1 and again.clips == 1 and again.landmarks[0].with_landmarks == 0
    assert build_dataset(sources / "real", out, BuildConfig(domain="real", min_frames=10, landmarks=False)).skipped == 1
    result = cli_runner.invoke(app, ["dataset", "stats", str(out)])
    assert result.exit_code == 0 and "dataset landmarks" in result.output


def test_failed_clip_is_reported_by_the_landmarks_command(sources, tmp_path, cli_runner):
    data = _old_dataset(sources, tmp_path / "data", cli_runner)
    row = read_manifest(data).iloc[0]
    frames = sorted((data / row.path).iterdir())
    frames[5].write_bytes(b"not a jpeg")
    result = cli_runner.invoke(app, ["dataset", "landmarks", str(data)])
    assert result.exit_code == 1 and f"failed {row.id}" in result.output and "cannot decode frame" in result.output
    assert not landmarks_path(data, row.id).exists()
    assert len(list((data / "landmarks").glob("*.npz"))) == 1  # the other clip is done


def test_without_mediapipe_landmarks_fail_early_or_are_switched_off(sources, tmp_path, monkeypatch):
    def missing():
        raise BackendUnavailableError("FaceMesh landmarks need mediapipe 0.10.21")

    monkeypatch.setattr(face_landmarks, "_import_face_mesh", missing)
    monkeypatch.setattr(landmark_pass, "_MESH", [])  # no FaceMesh made yet in this process
    with pytest.raises(BackendUnavailableError, match=r"landmarks=False"):
        import_clips(sources / "toon", tmp_path / "a", ImportOptions(domain="cartoon"))
    assert not (tmp_path / "a" / "clips").exists()  # failed before writing anything
    with pytest.raises(BackendUnavailableError, match=r"landmarks=False"):
        build_dataset(sources / "real", tmp_path / "b", BuildConfig(domain="real", min_frames=10))
    assert not (tmp_path / "b").exists()
    summary = import_clips(sources / "toon", tmp_path / "a", ImportOptions(domain="cartoon", landmarks=False))
    assert summary.clips == 1 and summary.landmarks == () and summary.landmark_failed == ()
    with pytest.raises(BackendUnavailableError, match="mediapipe"):
        landmark_pass.add_landmarks(tmp_path / "a")


def test_interrupted_landmarks_run_keeps_finished_files_and_resumes(sources, tmp_path, cli_runner, monkeypatch):
    data = _old_dataset(sources, tmp_path / "data", cli_runner)
    real = landmark_pass.compute_clip_landmarks
    calls = []

    def dying(reader, mesh):
        calls.append(reader.path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed while computing the second clip
        return real(reader, mesh)

    monkeypatch.setattr(landmark_pass, "compute_clip_landmarks", dying)
    with pytest.raises(KeyboardInterrupt):
        landmark_pass.add_landmarks(data)
    assert [p.name for p in (data / "landmarks").iterdir()] == [f"{calls[0].name}.npz"]  # no temporary file
    monkeypatch.undo()
    summary = landmark_pass.add_landmarks(data)
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, ())
