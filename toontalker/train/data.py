"""The datasets the trainer reads: clips of a ``toontalker dataset build|import`` folder as frame pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from toontalker.dataset.torch_data import FramePairDataset
from toontalker.errors import InputError

# FramePairDataset item i uses clip i mod clips and draws its two frames from (seed, i): indexing it over a
# long virtual length gives every visit of a clip its own pair without changing the dataset's epoch.
_VIRTUAL_EPOCHS = 2**40


@dataclass(frozen=True)
class PairOptions:
    """How pairs are drawn: ``augment`` (flip + colour), ``expression_pairs`` (fraction of pairs whose driving
    frame is chosen for a large mouth/eye change, ours), ``blink_pairs`` (fraction of the pairs of clips with
    closed-eye frames that are one closed and one open frame, ours), ``need_landmarks`` (fail when the clips have
    none), ``uint8_frames`` (frames as uint8 tensors, converted to [-1, 1] when the batch moves to the device)."""

    split: str | None = "train"
    augment: bool = False
    seed: int = 0
    expression_pairs: float = 0.0
    blink_pairs: float = 0.0
    need_landmarks: bool = False
    uint8_frames: bool = False


class ClipPairs:
    """A :class:`~toontalker.train.stream.PairDataset` over one domain of a dataset folder.

    ``len()`` is the number of clips; ``pairs[i]`` for any ``i >= 0`` is ``(source, driving, driving_regions,
    points)``: two distinct frames of clip ``i mod len`` drawn for ``i`` (the training stream passes ``epoch *
    len + clip``), the driving frame's mouth/eye boxes ``(3, 4)`` in [0, 1] and both frames' FaceMesh points
    ``(2, 468, 2)`` in [0, 1] (NaN without landmarks).
    """

    def __init__(self, folder: Path, domain: str, image_size: int, options: PairOptions) -> None:
        def pairs(length: int | None) -> FramePairDataset:
            return FramePairDataset(
                folder,
                split=options.split,
                domain=domain,
                size=image_size,
                seed=options.seed,
                augment=options.augment,
                length=length,
                expression_pairs=options.expression_pairs,
                blink_pairs=options.blink_pairs,
                uint8=options.uint8_frames,
            )

        self.clips = len(pairs(None))
        self.pairs = pairs(self.clips * _VIRTUAL_EPOCHS)
        self.folder = folder
        self.landmark_coverage = self.pairs.clips.landmark_coverage() if options.need_landmarks else float("nan")
        if options.need_landmarks and self.landmark_coverage == 0.0:
            raise InputError(
                f"{folder}: the {domain} clips have no landmarks, which the recipe's region loss / "
                f"expression or blink pairs / flow term need (add them with the dataset landmarks command)"
            )

    def __len__(self) -> int:
        return self.clips

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        item = self.pairs[index]
        return item.source, item.driving, item.driving_regions, item.points


def open_pair_dataset(folder: Path, domain: str, image_size: int, options: PairOptions = PairOptions()) -> ClipPairs:
    """Frame pairs of ``domain``'s clips in ``folder`` (split ``options.split``; None = all), resized to
    ``image_size``."""
    return ClipPairs(folder, domain, image_size, options)
