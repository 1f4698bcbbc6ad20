"""Opening the datasets the trainer reads: the dataset tools' clip folders as (source, driving) pairs."""

from __future__ import annotations

from pathlib import Path

from toontalker.train.stream import PairDataset


def open_pair_dataset(path: Path, domain: str, image_size: int) -> PairDataset:
    """Pairs of frames of one clip from a dataset built by ``toontalker dataset build|import``."""
    from toontalker.dataset.torch_data import FramePairDataset  # noqa: F401  (wired once the dataset tools land)

    raise NotImplementedError
