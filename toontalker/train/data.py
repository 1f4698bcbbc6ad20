"""The datasets the trainer reads: clips of a ``toontalker dataset build|import`` folder as frame pairs."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from toontalker.dataset.torch_data import FramePairDataset

# FramePairDataset item i uses clip i mod clips and draws its two frames from (seed, i): indexing it over a
# long virtual length gives every visit of a clip its own pair without changing the dataset's epoch.
_VIRTUAL_EPOCHS = 2**40


class ClipPairs:
    """A :class:`~toontalker.train.stream.PairDataset` over one domain of a dataset folder.

    ``len()`` is the number of clips; ``pairs[i]`` for any ``i >= 0`` is two distinct frames of clip
    ``i mod len`` drawn for ``i`` (the training stream passes ``epoch * len + clip``).
    """

    def __init__(self, folder: Path, domain: str, image_size: int, split: str | None, augment: bool, seed: int) -> None:
        probe = FramePairDataset(folder, split=split, domain=domain, size=image_size, seed=seed, augment=augment)
        self.clips = len(probe)
        self.pairs = FramePairDataset(folder, split=split, domain=domain, size=image_size, seed=seed, augment=augment,
                                      length=self.clips * _VIRTUAL_EPOCHS)
        self.folder = folder

    def __len__(self) -> int:
        return self.clips

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        item = self.pairs[index]
        return item.source, item.driving


def open_pair_dataset(folder: Path, domain: str, image_size: int, split: str | None = "train",
                      augment: bool = False, seed: int = 0) -> ClipPairs:
    """Frame pairs of ``domain``'s clips in ``folder`` (split ``split``; None = all), resized to ``image_size``."""
    return ClipPairs(folder, domain, image_size, split, augment, seed)
