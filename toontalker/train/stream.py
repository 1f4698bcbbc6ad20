"""A deterministic, resumable, rank-aware stream of training samples.

Every sample the run will ever see is fixed by ``(seed, position)``: position ``p`` of a dataset of ``n``
items is item ``perm_e[p % n]`` of epoch ``e = p // n`` (a seeded permutation per epoch), and whatever the
dataset draws at random for it (which two frames of the clip) is drawn under a seed derived from
``(seed, p)``. So the data a run sees does not depend on the number of processes, on DataLoader workers, or
on whether it was interrupted: resuming at step ``s`` restarts the stream at position ``s * batch_size``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from toontalker.dataset.torch_data import to_unit
from toontalker.faces.landmarks import MESH_POINTS


class PairDataset(Protocol):
    """Two frames of one clip: ``dataset[i] -> (source, driving)``, each ``(3, H, W)`` float in [-1, 1] (or uint8
    in [0, 255], converted when the batch moves to the device),
    optionally followed by the driving frame's mouth/eye boxes ``(3, 4)`` in [0, 1] and then by both frames'
    FaceMesh points ``(2, 468, 2)`` x, y in [0, 1] (NaN where unknown).

    ``len()`` is the number of clips; any ``i >= 0`` is valid and means clip ``i mod len`` (the stream asks
    for ``epoch * len + clip``, so a dataset may draw other frames of the clip each epoch).
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[Tensor, ...]: ...


@dataclass(frozen=True)
class FramePairs:
    """A batch of (source, driving) frame pairs of one domain: each ``(B, 3, H, W)`` in [-1, 1] (uint8 in [0, 255]
    as collated from a uint8 loader; :meth:`to` converts them); ``regions``
    (B, 3, 4): the driving frames' mouth and eye boxes in [0, 1]; ``points`` (B, 2, 468, 2): the source's and
    the driving frame's FaceMesh points in [0, 1]. NaN where unknown, None where none is known at all."""

    source: Tensor
    driving: Tensor
    regions: Tensor | None = None
    points: Tensor | None = None

    def to(self, device: torch.device, memory_format: torch.memory_format) -> FramePairs:
        def move(x: Tensor) -> Tensor:
            x = x.to(device, non_blocking=True)
            return (to_unit(x) if x.dtype == torch.uint8 else x).contiguous(memory_format=memory_format)

        def move_known(x: Tensor | None) -> Tensor | None:
            return None if x is None else x.to(device, non_blocking=True)

        return FramePairs(move(self.source), move(self.driving), move_known(self.regions), move_known(self.points))


@dataclass(frozen=True)
class TrainBatch:
    """Stage 1: real pairs only. Stage 2: real and cartoon pairs; the analogy tuples are formed from them
    (real pair + cartoon source for R->C, cartoon pair + real source for C->R)."""

    real: FramePairs
    cartoon: FramePairs | None = None

    @property
    def size(self) -> int:
        return int(self.real.source.shape[0])

    @classmethod
    def from_collated(cls, tensors: Sequence[Tensor]) -> TrainBatch:
        """(src, drv, regions, points) of the real domain, then of the cartoon domain in stage 2."""

        def known(x: Tensor) -> Tensor | None:
            return x if bool(torch.isfinite(x).any()) else None  # on the CPU, before the batch moves

        def pairs(source: Tensor, driving: Tensor, regions: Tensor, points: Tensor) -> FramePairs:
            return FramePairs(source, driving, known(regions), known(points))

        real = pairs(*tensors[:SAMPLE_PARTS])
        cartoon = pairs(*tensors[SAMPLE_PARTS:]) if len(tensors) == 2 * SAMPLE_PARTS else None
        return cls(real, cartoon)

    def to(self, device: torch.device, channels_last: bool) -> TrainBatch:
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        return TrainBatch(self.real.to(device, fmt), None if self.cartoon is None else self.cartoon.to(device, fmt))


SAMPLE_PARTS = 4  # per domain: source, driving, driving regions, points of both frames


def _sample_parts(item: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A PairDataset item as (source, driving, regions, points): NaN for what the dataset does not give."""
    if not 2 <= len(item) <= SAMPLE_PARTS:
        raise ValueError(f"a pair dataset item has 2 to {SAMPLE_PARTS} parts, got {len(item)}")
    unknown = (torch.full((3, 4), float("nan")), torch.full((2, MESH_POINTS, 2), float("nan")))
    source, driving, regions, points = (*item, *unknown[len(item) - 2 :])
    return source, driving, regions, points


def sample_seed(seed: int, position: int, domain: int) -> int:
    """The seed under which the dataset draws its random choices for one sample."""
    return int(np.random.SeedSequence([seed, position, domain]).generate_state(1)[0])


class _SeededCall:
    """Run a call under fixed python/numpy/torch (CPU) seeds, restoring the caller's RNG states afterwards."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        self._states = (random.getstate(), np.random.get_state(), torch.get_rng_state())
        random.seed(self.seed)
        np.random.seed(self.seed)
        # the CPU generator only: torch.manual_seed would also queue a re-seed of every CUDA generator (with a
        # stack trace, ~0.4 ms a sample) and, where CUDA is up (num_workers=0), re-seed the training's own
        # GPU randomness, which __exit__ does not restore
        torch.default_generator.manual_seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        py, npy, th = self._states
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(th)


class TrainStream(Dataset):
    """Position -> sample: ``(src, drv, regions, points)`` for stage 1, the same four of the real domain then of
    the cartoon domain for stage 2."""

    def __init__(self, real: PairDataset, cartoon: PairDataset | None, seed: int) -> None:
        for name, ds in (("real", real), ("cartoon", cartoon)):
            if ds is not None and len(ds) == 0:
                from toontalker.errors import InputError

                raise InputError(f"the {name} training dataset has no clips")
        self.datasets = (real,) if cartoon is None else (real, cartoon)
        self.seed = seed
        self._perm_cache: dict[tuple[int, int], Tensor] = {}

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(ds) for ds in self.datasets)

    def _item_index(self, domain: int, position: int) -> int:
        """``epoch * n + clip``: the clip is ``perm_epoch[position mod n]``."""
        n = len(self.datasets[domain])
        epoch, offset = divmod(position, n)
        key = (domain, epoch)
        if key not in self._perm_cache:
            if len(self._perm_cache) > 4:
                self._perm_cache.clear()
            gen = torch.Generator().manual_seed(self.seed * 7919 + epoch * 2 + domain)
            self._perm_cache[key] = torch.randperm(n, generator=gen)
        return epoch * n + int(self._perm_cache[key][offset])

    def __len__(self) -> int:  # an infinite stream; the sampler decides positions
        return 2**62

    def __getitem__(self, position: int) -> tuple[Tensor, ...]:
        out: list[Tensor] = []
        for domain, ds in enumerate(self.datasets):
            with _SeededCall(sample_seed(self.seed, position, domain)):
                out.extend(_sample_parts(ds[self._item_index(domain, position)]))
        return tuple(out)


class StreamSampler(Sampler[int]):
    """This rank's positions, step after step, from ``start_step`` on (an infinite sampler).

    Step ``s`` covers global positions ``[s * B, (s + 1) * B)`` with ``B = micro * world * accum``; micro-step
    ``m`` of rank ``r`` takes ``micro`` consecutive positions starting at ``s*B + (m*world + r) * micro``.
    """

    def __init__(self, micro_batch: int, world_size: int, rank: int, grad_accum: int, start_step: int = 0) -> None:
        super().__init__()
        self.micro, self.world, self.rank, self.accum = micro_batch, world_size, rank, grad_accum
        self.start_step = start_step

    @property
    def global_batch(self) -> int:
        return self.micro * self.world * self.accum

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        while True:
            base = step * self.global_batch
            for m in range(self.accum):
                first = base + (m * self.world + self.rank) * self.micro
                yield from range(first, first + self.micro)
            step += 1
