"""dataset import + the torch Datasets (frame pairs, cross-domain tuples) on clips made from ../shared/data."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from toontalker.cli import app
from toontalker.dataset.manifest import read_manifest
from toontalker.dataset.torch_data import CrossDomainTuple, CrossDomainTupleDataset, FramePair, FramePairDataset
from toontalker.errors import InputError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def imported(shared_data, tmp_path_factory):
    """Real clips imported from a video folder, cartoon clips from frame folders (one per character)."""
    from toontalker.video import read_frames, write_image

    base = tmp_path_factory.mktemp("imp")
    vids = base / "vox" / "id_a"
    vids.mkdir(parents=True)
    (vids / "clip.mp4").symlink_to(shared_data / "real/videos/vtoonify_908.mp4")  # 392x360: centre-cropped
    (base / "vox" / "id_b").mkdir()
    (base / "vox" / "id_b" / "clip.mp4").symlink_to(shared_data / "real/videos/lia_vox_driving2.mp4")
    for name in ("a_chan", "aiba_uiha"):
        folder = base / "frames" / name
        for k, frame in enumerate(
            read_frames(shared_data / f"cartoon/videos/tha2_characters/{name}.mp4", max_frames=12)
        ):
            write_image(folder / f"{k:04d}.png", frame)
    return base


def test_import_then_datasets(imported, cli_runner):
    out = imported / "data"
    r = cli_runner.invoke(
        app, ["dataset", "import", str(imported / "vox"), str(out), "--domain", "real", "--size", "64"]
    )
    assert r.exit_code == 0, r.output
    r = cli_runner.invoke(
        app,
        ["dataset", "import", str(imported / "frames"), str(out), "--domain", "cartoon", "--size", "64", "--fps", "30"],
    )
    assert r.exit_code == 0, r.output
    manifest = read_manifest(out)
    assert sorted(manifest["identity"]) == ["a_chan", "aiba_uiha", "id_a", "id_b"]
    assert manifest.loc[manifest.identity == "id_a", "frames"].item() == 39
    assert manifest.loc[manifest.identity == "a_chan", "fps"].item() == 30.0
    assert cli_runner.invoke(app, ["dataset", "verify", str(out), "--all-frames"]).exit_code == 0

    pairs = FramePairDataset(out, domain="real", seed=1)
    assert len(pairs) == 2
    item = pairs[0]
    assert isinstance(item, FramePair) and item.domain == "real"
    assert item.source.shape == (3, 64, 64) and item.source.dtype == torch.float32
    assert -1.0 <= item.source.min() and item.source.max() <= 1.0 and item.source.std() > 0.05
    assert not torch.equal(item.source, item.driving)  # two distinct frames
    again = FramePairDataset(out, domain="real", seed=1)[0]
    assert torch.equal(again.source, item.source) and torch.equal(again.driving, item.driving)
    pairs.set_epoch(1)
    assert not torch.equal(pairs[0].source, item.source) or not torch.equal(pairs[0].driving, item.driving)

    tuples = CrossDomainTupleDataset(out, motion_domain="cartoon", size=32, length=6, augment=True)
    batch = next(iter(DataLoader(tuples, batch_size=3, num_workers=0)))
    assert isinstance(batch, CrossDomainTuple)
    assert batch.motion_source.shape == (3, 3, 32, 32) and batch.other.shape == (3, 3, 32, 32)
    assert list(batch.motion_domain) == ["cartoon"] * 3 and list(batch.other_domain) == ["real"] * 3
    reverse = CrossDomainTupleDataset(out, motion_domain="real")[1]
    assert reverse.motion_domain == "real" and reverse.other.shape == (3, 64, 64)

    with pytest.raises(InputError, match="both domains"):
        CrossDomainTupleDataset(out, split="test")


def _closer_to_mirror(reference: torch.Tensor, candidate: torch.Tensor) -> bool:
    def corr(a, b):
        return torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]

    return bool(corr(torch.flip(reference, dims=[2]), candidate) > corr(reference, candidate))


def test_augmentation_is_shared_by_the_frames_of_a_pair(imported):
    out = imported / "data"
    if not (out / "manifest.parquet").exists():  # this test run alone
        from toontalker.dataset.importer import ImportOptions, import_clips

        import_clips(imported / "frames", out, ImportOptions(domain="cartoon", size=64))
    plain = FramePairDataset(out, domain="cartoon", seed=5, length=8)
    aug = FramePairDataset(out, domain="cartoon", seed=5, length=8, augment=True)
    flipped = []
    for i in range(len(plain)):
        p, a = plain[i], aug[i]  # same frames (same draws), then one flip / colour change for both
        assert not torch.equal(p.source, a.source)
        flips = (_closer_to_mirror(p.source, a.source), _closer_to_mirror(p.driving, a.driving))
        assert flips[0] == flips[1]
        flipped.append(flips[0])
    assert any(flipped) and not all(flipped)


def test_uint8_pairs_become_the_float_pairs_where_the_batch_moves(imported):
    """The training loader hands uint8 frames over (4x fewer bytes from its workers); FramePairs.to turns them
    into exactly the float frames of the default path."""
    from toontalker.train.stream import FramePairs

    out = imported / "data"
    if not (out / "manifest.parquet").exists():  # this test run alone
        from toontalker.dataset.importer import ImportOptions, import_clips

        import_clips(imported / "frames", out, ImportOptions(domain="cartoon", size=64))
    floats = FramePairDataset(out, domain="cartoon", seed=3, length=4, augment=True)
    bytes_ = FramePairDataset(out, domain="cartoon", seed=3, length=4, augment=True, uint8=True)
    a, b = floats[1], bytes_[1]
    assert b.source.dtype == torch.uint8 and b.source.shape == a.source.shape
    assert torch.equal(b.points.nan_to_num(), a.points.nan_to_num())
    moved = FramePairs(b.source[None], b.driving[None]).to(torch.device("cpu"), torch.channels_last)
    assert moved.source.dtype == torch.float32 and moved.source.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(moved.source[0], a.source) and torch.equal(moved.driving[0], a.driving)
    assert torch.equal(
        FramePairs(a.source[None], a.driving[None]).to(torch.device("cpu"), torch.channels_last).source, moved.source
    )
