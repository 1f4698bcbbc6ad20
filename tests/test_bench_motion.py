"""bench motion end to end: copy-source scores amplitude 0, a copy-the-driver model r 1, bad input fails clearly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from bench_fixtures import CopyDriver, shared_manifest
from toontalker.bench.motion import MotionOptions, run_motion_bench
from toontalker.bench.motion_inputs import MotionPair, pairs_from_protocol
from toontalker.errors import FaceNotFoundError, InputError, UsageError


class CopyDriver256(CopyDriver):
    class config:  # noqa: N801 - FaceMesh needs faces bigger than CopyDriver's 64 px
        image_size = 256


def _same_identity(shared: Path, name: str = "eamm_happy.mp4") -> MotionPair:
    clip = shared / "real/videos" / name
    return MotionPair(clip, clip, "real", "real", same_identity=True, pair_id="self", crop="none")


def test_copy_source_scores_amplitude_zero_and_no_correlation(shared_data, tmp_path):
    pair = _same_identity(shared_data)
    report = run_motion_bench(pairs=[pair], out=tmp_path, options=MotionOptions(max_frames=10), baseline="copy-source")
    row = report.pairs[0]
    assert row.driver_detected == 10 and row.output_detected == 10 and row.frames == 10
    moving = [s for s in row.signals if s.driver_std > 0]
    assert moving, "the driver should move"
    for s in moving:
        assert s.amplitude == 0.0 and math.isnan(s.r) and s.note == "output constant" and s.frames == 10
    assert row.sharpness == pytest.approx(1.0)
    assert row.akd_mesh is not None and row.akd_mesh > 0 and row.akd_frames == 10
    assert row.l1 is not None and row.l1 > 0
    summary = report.setting("same-identity")
    assert summary.signal("mouth").r_pairs == 0 and summary.signal("mouth").amplitude == 0.0
    # the files: CSVs with a row per pair / per signal, strict JSON (no NaN), markdown, figures
    pairs = pd.read_csv(report.files["pairs_csv"])
    assert list(pairs["pair_id"]) == ["self"] and pairs.loc[0, "mouth_note"] == "output constant"
    assert len(pd.read_csv(report.files["summary_csv"])) == 8
    payload = json.loads(Path(report.files["json"]).read_text(), parse_constant=lambda c: pytest.fail(f"JSON has {c}"))
    assert payload["pairs"][0]["signals"][0]["r"] is None
    assert "| same-identity | 1 |" in Path(report.files["markdown"]).read_text()
    for key in ("plot", "sheet", "series"):
        assert (tmp_path / row.files[key]).stat().st_size > 0


def test_a_model_that_copies_the_driver_follows_it_exactly(shared_data, tmp_path):
    pair = _same_identity(shared_data)
    report = run_motion_bench(
        pairs=[pair], out=tmp_path, model=CopyDriver256(), label="copy driver", max_frames=10, plots=False, device="cpu"
    )
    row = report.pairs[0]
    for s in row.signals:
        if s.driver_std > 1e-6:
            assert s.r == pytest.approx(1.0, abs=1e-6) and s.amplitude == pytest.approx(1.0, abs=1e-6), s
    assert row.akd_mesh == pytest.approx(0.0, abs=1e-6) and row.l1 == pytest.approx(0.0, abs=1e-6)
    assert row.files == {}


def test_eyes_are_scored_on_drivers_that_blink(shared_data, tmp_path):
    """xportrait_driving_video blinks in its first 20 frames, eamm_happy does not: the copy-the-driver model's
    eye r counts in the blink score for the first only."""
    blinks, still = (shared_data / "real/videos" / n for n in ("xportrait_driving_video.mp4", "eamm_happy.mp4"))
    pairs = [
        MotionPair(clip, clip, "real", "real", same_identity=True, pair_id=name, crop="none")
        for clip, name in ((blinks, "blinks"), (still, "still eyes"))
    ]
    report = run_motion_bench(
        pairs=pairs, out=tmp_path, model=CopyDriver256(), label="copy driver", max_frames=20, plots=False, device="cpu"
    )
    blinking, still = report.pairs
    assert blinking.driver_blinks >= 1 and still.driver_blinks == 0
    assert blinking.eye_r == pytest.approx(1.0, abs=1e-6) and still.eye_r == pytest.approx(1.0, abs=1e-6)
    summary = report.setting("same-identity")
    assert summary.blink_pairs == 1 and summary.blink_eye_r == pytest.approx(1.0, abs=1e-6)
    assert list(pd.read_csv(report.files["pairs_csv"])["driver_blinks"]) == [blinking.driver_blinks, 0]
    assert set(pd.read_csv(report.files["summary_csv"])["blink_pairs"]) == {1}
    assert "| same-identity | 2 | 1 | 1.00 |" in Path(report.files["markdown"]).read_text()


def test_cache_gives_the_same_numbers(shared_data, tmp_path):
    pair = _same_identity(shared_data)
    options = MotionOptions(max_frames=6, plots=False, cache_dir=tmp_path / "cache")
    first = run_motion_bench(pairs=[pair], out=tmp_path / "a", model=CopyDriver256(), options=options)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    second = run_motion_bench(pairs=[pair], out=tmp_path / "b", model=CopyDriver256(), options=options)
    assert first.pairs[0].signals == second.pairs[0].signals


def _grey_video(path: Path, frames: int = 8) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (128, 128))
    for i in range(frames):
        writer.write(np.full((128, 128, 3), 100 + i, np.uint8))
    writer.release()
    return path


def test_no_face_in_any_driver_frame_is_a_clear_error(tmp_path):
    video = _grey_video(tmp_path / "grey.mp4")
    image = tmp_path / "grey.png"
    cv2.imwrite(str(image), np.full((128, 128, 3), 90, np.uint8))
    pair = MotionPair(image, video, "real", "real", crop="none")
    with pytest.raises(FaceNotFoundError, match="grey.mp4: FaceMesh found no face in any driver frame"):
        run_motion_bench(
            pairs=[pair], out=tmp_path / "out", baseline="copy-source", options=MotionOptions(max_frames=8, plots=False)
        )
    assert not (tmp_path / "out" / "motion.json").exists()


def test_options_and_inputs_are_checked(tmp_path):
    with pytest.raises(UsageError, match="max_frames"):
        MotionOptions(max_frames=1)
    with pytest.raises(UsageError, match="unknown motion option"):
        run_motion_bench(pairs=[MotionPair(Path("a.png"), Path("b.mp4"))], out=tmp_path, max_frame=3)
    with pytest.raises(UsageError, match="no pairs"):
        run_motion_bench(pairs=[], out=tmp_path, baseline="copy-source")
    with pytest.raises(UsageError, match="source_domain"):
        MotionPair(Path("a.png"), Path("b.mp4"), "anime", "real")  # type: ignore[arg-type]


def test_heldout_protocol_is_fixed_and_round_trips(shared_data, tmp_path):
    from toontalker.bench.motion_heldout import (
        HELDOUT_REAL_VIDEOS,
        copy_heldout_files,
        heldout_pairs,
        write_heldout_protocols,
    )

    pairs = heldout_pairs(shared_data)
    assert len(pairs) == 20
    counts = pd.Series([p.setting for p in pairs]).value_counts().to_dict()
    assert counts == {
        s: 4
        for s in (
            "same-identity",
            "cross-identity-real",
            "real-to-cartoon",
            "cartoon-to-real",
            "cross-identity-cartoon",
        )
    }
    for p in pairs:
        if p.driving_domain == "real":
            assert p.driving.name in HELDOUT_REAL_VIDEOS
        if not p.same_identity:
            assert p.source.stem != p.driving.stem
    written = write_heldout_protocols(shared_data, tmp_path)
    again = [q for path in written for q in pairs_from_protocol(path)]
    assert [(q.source, q.driving, q.setting) for q in again] == [(p.source, p.driving, p.setting) for p in pairs]
    assert {q.crop for q in again} == {"animate"}  # read back as --heldout reads them: whole videos, faces found
    assert {q.crop for q in pairs_from_protocol(written[0], "none")} == {"none"}  # an explicit crop wins
    bare = tmp_path / "bare.csv"  # bench protocol's columns only: dataset items, face crops already
    pd.read_csv(written[0]).drop(columns="crop").to_csv(bare, index=False)
    assert {q.crop for q in pairs_from_protocol(bare)} == {"none"}
    odd = tmp_path / "odd.csv"
    pd.read_csv(written[0]).assign(crop="tight").to_csv(odd, index=False)
    with pytest.raises(InputError, match=r"odd\.csv: crop must be one of animate, none, not 'tight'"):
        pairs_from_protocol(odd)
    copied = copy_heldout_files(shared_data, tmp_path / "copy")
    assert len(copied) == 31  # 8 real clips, 8 THA2 clips, 7 THA2 headshots, 8 real photos
    moved = heldout_pairs(tmp_path / "copy")
    assert [p.pair_id for p in moved] == [p.pair_id for p in pairs]


def test_the_wide_heldout_protocol_widens_the_same_people_and_characters(shared_data, tmp_path):
    from toontalker.bench.motion_heldout import (
        HELDOUT_CARTOON_CHARACTERS,
        HELDOUT_REAL_VIDEOS,
        REAL_SOURCES,
        copy_heldout_files,
        heldout_pairs,
    )
    from toontalker.errors import UsageError

    pairs = heldout_pairs(shared_data, protocol="wide")
    assert len(pairs) == 80 and len({(p.source, p.driving) for p in pairs}) == 80  # no pair twice
    counts = pd.Series([p.setting for p in pairs]).value_counts().to_dict()
    assert counts == {
        "same-identity": 8,
        "cross-identity-real": 16,
        "real-to-cartoon": 16,
        "cartoon-to-real": 20,
        "cross-identity-cartoon": 20,
    }
    allowed = {*HELDOUT_REAL_VIDEOS, *HELDOUT_CARTOON_CHARACTERS, *REAL_SOURCES}
    for p in pairs:  # only held-out people and characters; photos as the standard protocol's
        for path, domain in ((p.driving, p.driving_domain), (p.source, p.source_domain)):
            assert (path.name if domain == "real" else path.stem) in allowed, p
        assert p.same_identity == (p.source == p.driving)
    drivers = pd.Series([p.driving.stem for p in pairs]).value_counts()
    assert set(drivers.index) == {Path(v).stem for v in HELDOUT_REAL_VIDEOS} | set(HELDOUT_CARTOON_CHARACTERS)
    assert drivers.min() == 4 and drivers.max() == 5  # 1 + 2 + 2 per real video, 2 + 2 per character
    standard = {(p.source, p.driving) for p in heldout_pairs(shared_data)}
    assert len(standard & {(p.source, p.driving) for p in pairs}) >= 8  # it overlaps, it does not replace
    assert len(copy_heldout_files(shared_data, tmp_path / "copy", "wide")) == 36  # 8 + 10 videos, 10 + 8 pictures
    assert [p.pair_id for p in heldout_pairs(tmp_path / "copy", protocol="wide")] == [p.pair_id for p in pairs]
    with pytest.raises(UsageError, match="standard, wide"):
        heldout_pairs(shared_data, protocol="huge")
    from toontalker.cli.bench_motion import collect_pairs  # what `bench motion --heldout-set wide` runs

    cli_pairs = collect_pairs([], [], shared_data, "cartoon", "real", None, heldout_set="wide")
    assert [(p.pair_id, p.crop) for p in cli_pairs] == [(p.pair_id, "animate") for p in pairs]


def test_the_styles_protocol_drives_real_photos_with_other_drawing_styles(shared_data, tmp_path):
    from toontalker.bench.motion_heldout import (
        HELDOUT_CARTOON_CHARACTERS,
        OTHER_STYLE_DRIVERS,
        REAL_SOURCES,
        copy_heldout_files,
        heldout_pairs,
    )
    from toontalker.cli.bench_motion import collect_pairs

    pairs = heldout_pairs(shared_data, protocol="styles")
    assert len(pairs) == 20 and len({(p.source, p.driving) for p in pairs}) == 20
    assert {p.setting for p in pairs} == {"cartoon-to-real"}
    assert pd.Series([p.driving.name for p in pairs]).value_counts().to_dict() == dict.fromkeys(OTHER_STYLE_DRIVERS, 2)
    assert all(p.driving.parent == shared_data / "cartoon/videos" for p in pairs)  # not a THA2 character's clip
    assert not {p.driving.stem for p in pairs} & set(HELDOUT_CARTOON_CHARACTERS)
    assert {p.source.name for p in pairs} == set(REAL_SOURCES)
    assert len(copy_heldout_files(shared_data, tmp_path / "copy", "styles")) == 18  # 10 videos, 8 photos
    assert [p.pair_id for p in heldout_pairs(tmp_path / "copy", protocol="styles")] == [p.pair_id for p in pairs]
    cli_pairs = collect_pairs([], [], shared_data, "cartoon", "real", None, heldout_set="styles")
    assert [(p.pair_id, p.crop) for p in cli_pairs] == [(p.pair_id, "animate") for p in pairs]


def test_cli_runs_pairs_and_reports_bad_input_in_one_line(shared_data, tmp_path, cli_runner):
    from toontalker.cli import app

    clip = shared_data / "real/videos/eamm_happy.mp4"
    source = shared_data / "cartoon/images/tha2_headshots/yuzuki_roa.png"
    done = cli_runner.invoke(
        app,
        [
            "bench",
            "motion",
            f"cartoon:{source}",
            f"real:{clip}",
            "--baseline",
            "copy-source",
            "--max-frames",
            "4",
            "--no-plots",
            "--no-cache",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "run"),
            "--json",
            "-q",
        ],
    )
    assert done.exit_code == 0, done.output[-2000:]
    payload = json.loads(done.stdout[done.stdout.index("{") :])
    assert payload["settings"][0]["setting"] == "real-to-cartoon" and payload["pairs"][0]["frames"] == 4
    odd = cli_runner.invoke(app, ["bench", "motion", str(source), "--baseline", "copy-source"])
    assert odd.exit_code == 2 and "pairs come as SOURCE DRIVER" in odd.output and "Traceback" not in odd.output
    grey = _grey_video(tmp_path / "grey.mp4")
    bad = cli_runner.invoke(
        app,
        [
            "bench",
            "motion",
            f"real:{source}",
            f"real:{grey}",
            "--baseline",
            "copy-source",
            "--crop",
            "none",
            "--no-cache",
            "--out",
            str(tmp_path / "bad"),
        ],
    )
    assert bad.exit_code != 0 and "no face in any driver frame" in bad.output and "Traceback" not in bad.output


def test_bench_quality_includes_the_motion_table(shared_data, tmp_path):
    from toontalker.bench.protocols import ProtocolOptions, generate_protocols
    from toontalker.bench.quality import QualityOptions
    from toontalker.bench.runner import Variant, quality_benchmark

    manifest = shared_manifest(shared_data)
    manifest = manifest[manifest["id"].isin(["lia_vox_driving2", "d19"])]  # one real driver, one real image
    protocols = generate_protocols(
        manifest,
        ["same-identity", "cross-identity-real"],
        ProtocolOptions(sources_per_driver=1, max_frames=6),
        tmp_path / "p",
    )
    options = QualityOptions(batch_size=4, metrics=("l1",), samples=0)
    model = CopyDriver256()
    report = quality_benchmark(
        [Variant("Ours", "unused")],
        [p.path for p in protocols],
        tmp_path / "out",
        options,
        model_loader=lambda w, d: model,
    )
    same, cross = report.runs[0].settings
    assert cross.motion is None  # not a cross-domain or same-identity setting
    assert same.motion.pairs == 1 and same.motion.signal("mouth").r == pytest.approx(1.0, abs=1e-6)
    rows = pd.read_parquet(same.pairs_path)
    assert rows.loc[0, "motion_mouth_r"] == pytest.approx(1.0, abs=1e-6) and rows.loc[0, "motion_driver_detected"] == 6
    assert "Motion (does the output follow the driver?)" in report.markdown.read_text()
    # a resumed run reads the motion summary back
    model.calls.clear()
    again = quality_benchmark(
        [Variant("Ours", "unused")],
        [p.path for p in protocols],
        tmp_path / "out",
        options,
        model_loader=lambda w, d: model,
    )
    assert model.calls == [] and again.runs[0].settings[0].motion.signals == same.motion.signals
    assert same.motion.psnr == float("inf")  # every output frame equals its ground truth


def test_heldout_drivers_are_held_out_of_the_training_split():
    """The protocol's real drivers are people the sample-data training split leaves out."""
    import importlib.util
    from pathlib import Path

    from toontalker.bench.motion_heldout import HELDOUT_REAL_VIDEOS

    spec = importlib.util.spec_from_file_location(
        "identities", Path(__file__).resolve().parents[1] / "scripts" / "sample_data_identities.py"
    )
    identities = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(identities)
    people = {identities.person_of(Path(v).stem) for v in HELDOUT_REAL_VIDEOS}
    assert people <= set(identities.HELD_OUT), people - set(identities.HELD_OUT)
