"""The quality pipeline on ../shared/data: real media, real metrics, a stand-in model with known output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bench_fixtures import CopyDriver, shared_manifest
from toontalker.bench.paired import paired_cartoon_pairs
from toontalker.bench.protocols import ProtocolOptions, generate_protocols
from toontalker.bench.quality import QualityOptions
from toontalker.bench.runner import Variant, paired_benchmark, parse_variants, quality_benchmark
from toontalker.errors import InputError, UsageError

pytestmark = pytest.mark.slow


def test_quality_pipeline_scores_a_perfect_reconstruction(shared_data, tmp_path):
    protocols = generate_protocols(
        shared_manifest(shared_data),
        ["same-identity", "real-to-cartoon"],
        ProtocolOptions(sources_per_driver=1, max_frames=5, seed=0),
        tmp_path / "p",
    )
    model = CopyDriver()
    options = QualityOptions(batch_size=2, metrics=None, samples=2)
    report = quality_benchmark(
        [Variant("Ours", "unused")],
        [p.path for p in protocols],
        tmp_path / "out",
        options,
        model_loader=lambda w, d: model,
    )
    same, r2c = report.runs[0].settings
    # the stand-in copies the driver, so same-identity reconstruction is exact
    assert same.metric("l1").value == 0.0 and same.metric("ssim").value == pytest.approx(1.0)
    assert same.metric("lpips").text.startswith("unavailable:") or same.metric("lpips").value == pytest.approx(
        0, abs=1e-6
    )
    assert same.frames == 4 * 5 and same.metric("cpbd").count == 20
    assert same.metric("akd-dlib").count + same.metric("akd-dlib").skipped == 20
    if same.metric("akd-dlib").value is not None:
        assert same.metric("akd-dlib").value == 0.0
    assert r2c.metric("l1") is None  # no ground truth across identities
    # call pattern: per pair one source encode, one start-frame encode, then batches of <= 2
    assert ("source", 1) in model.calls and max(n for kind, n in model.calls if kind == "driving") == 2
    rows = pd.read_parquet(same.pairs_path)
    assert len(rows) == 4 and set(rows["l1"]) == {0.0} and (rows["frames_scored"] == 5).all()
    markdown = report.markdown.read_text()
    assert "Table 2. Same-identity reconstruction" in markdown and "0.0457" in markdown  # paper's L1, Ours
    assert "Table 1. Cross-domain reenactment" in markdown
    summary = pd.read_csv(report.csv)
    assert set(summary["setting"]) == {"same-identity", "real-to-cartoon"}
    sheet = Image.open(same.contact_sheet)
    assert sheet.size == (3 * 64, 18 + 2 * 64)  # source, driving, output; ground truth = driving here

    # resume: a second run reuses the finished settings without calling the model
    model.calls.clear()
    again = quality_benchmark(
        [Variant("Ours", "unused")],
        [p.path for p in protocols],
        tmp_path / "out",
        options,
        model_loader=lambda w, d: model,
    )
    assert model.calls == [] and again.runs[0].settings[0].metric("l1").value == 0.0
    # other weights (or other pairs/metrics) are not reused
    quality_benchmark(
        [Variant("Ours", "other")],
        [protocols[0].path],
        tmp_path / "out",
        QualityOptions(batch_size=8, metrics=("l1",), samples=0),
        model_loader=lambda w, d: model,
    )
    assert model.calls


def test_paired_cartoon_benchmark_against_ground_truth(shared_data, tmp_path):
    pairs = paired_cartoon_pairs(shared_data)
    assert len(pairs) == 28 and (pairs["source_identity"] != pairs["driving_identity"]).all()
    assert len(paired_cartoon_pairs(shared_data, include_self=True)) == 32
    options = QualityOptions(batch_size=4, metrics=("l1", "psnr", "ssim"), max_pairs=3, samples=1)
    report = paired_benchmark(
        Variant("Ours", "unused"), shared_data, tmp_path, options, max_frames=6, model_loader=lambda w, d: CopyDriver()
    )
    result = report.runs[0].settings[0]
    # copying another character's frames is far from the target's ground truth
    assert result.pairs == 3 and result.frames == 18
    assert 0.02 < result.metric("l1").value < 0.5 and result.metric("ssim").value < 0.95
    assert Image.open(result.contact_sheet).size == (4 * 64, 18 + 64)  # with a ground-truth column
    with pytest.raises(InputError, match="paired cartoon benchmark folder not found"):
        paired_cartoon_pairs(tmp_path)


def test_variant_parsing():
    assert parse_variants("w", [], None) == [Variant("Ours", "w")]
    assert parse_variants(None, ["full=a", "w/o analogy=b"], 5)[1] == Variant("w/o analogy", "b")
    assert parse_variants(None, ["lambda_m=20=runs/lm20"], 6) == [Variant("lambda_m=20", "runs/lm20")]
    with pytest.raises(UsageError, match="table 5, 6 or 7"):
        parse_variants(None, ["full=a"], None)
    with pytest.raises(UsageError, match="Table 7 rows are"):
        parse_variants(None, ["bogus=a"], 7)
    with pytest.raises(UsageError, match="give weights"):
        parse_variants(None, [], None)


def test_fid_in_the_pipeline_uses_outputs_against_source_images(shared_data, tmp_path):
    """FID plumbing with a stand-in feature extractor (the Inception network is tested on its own)."""
    import torch

    from toontalker.bench.frames import read_frames
    from toontalker.bench.protocols import generate_pairs
    from toontalker.bench.quality import run_setting
    from toontalker.bench.scoring import MetricSuite
    from toontalker.metrics.fid import fid_from_features

    def colour_stats(images: torch.Tensor) -> np.ndarray:
        return torch.cat([images.mean(dim=(2, 3)), images.std(dim=(2, 3))], dim=1).double().numpy()

    pairs = generate_pairs(
        shared_manifest(shared_data), "real-to-cartoon", ProtocolOptions(sources_per_driver=2, max_frames=3, seed=0)
    ).iloc[:3]
    suite = MetricSuite(("fid",), "cpu", fid_extractor=colour_stats)
    result = run_setting(CopyDriver(), pairs, suite, options=QualityOptions(samples=0), out_dir=tmp_path)
    outputs = np.concatenate([read_frames(p, 64, count=3) for p in pairs["driving_path"]])
    sources = np.concatenate(
        [read_frames(p, 64, start=int(f), count=1)[:1] for p, f in zip(pairs["source_path"], pairs["frame"])]
    )
    to_t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    expected = fid_from_features(colour_stats(to_t(outputs)), colour_stats(to_t(sources)))
    fid = result.metric("fid")
    assert fid.count == 9 and fid.value == pytest.approx(expected, rel=1e-6)


def test_frames_from_stored_dataset_clips(shared_data, tmp_path):
    """Frame folders and .npy clips (the dataset's storage formats) read like the video they came from."""
    import cv2

    from toontalker.bench.frames import read_frames

    video = shared_data / "cartoon/videos/tha2_characters/a_chan.mp4"
    frames = read_frames(video, 256, count=4)
    folder = tmp_path / "clip"
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:06d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    np.save(tmp_path / "clip.npy", frames)
    np.testing.assert_array_equal(read_frames(folder, 256, start=1, count=2), frames[1:3])
    np.testing.assert_array_equal(read_frames(tmp_path / "clip.npy", 256, start=2), frames[2:])
    assert read_frames(folder, 64, count=1).shape == (1, 64, 64, 3)
    with pytest.raises(InputError, match="no .jpg or .png frames"):
        read_frames(tmp_path, 64)  # a folder with no frames
