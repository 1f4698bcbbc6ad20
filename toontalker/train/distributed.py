"""torchrun / DistributedDataParallel plumbing: one process per GPU, the same command as on one GPU.

``torchrun --nproc-per-node N -m toontalker train ...`` sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``;
:func:`setup_distributed` reads them, joins the process group (NCCL on CUDA, gloo on CPU) and pins each
process to its GPU. Without them it is a single process and nothing is initialised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from toontalker.devices import enable_fast_kernels, resolve_device


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> DistInfo:
    """Join the torchrun process group if there is one; the device this process trains on."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    base = resolve_device(device)
    enable_fast_kernels(base)
    if world <= 1:
        return DistInfo(device=base)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if base.type == "cuda":
        base = torch.device("cuda", local_rank)
        torch.cuda.set_device(base)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if base.type == "cuda" else "gloo")
    return DistInfo(rank=rank, local_rank=local_rank, world_size=world, device=base)


def teardown_distributed(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def any_rank_set(flag: bool, info: DistInfo) -> bool:
    """True when the host-side ``flag`` is set on any process; a single process never touches the device (no
    host-to-device copy, so no wait for the GPU)."""
    if not info.enabled:
        return flag
    return any_rank_true(torch.tensor(flag, device=info.device), info)


def any_rank_true(flag: torch.Tensor, info: DistInfo) -> bool:
    """True when ``flag`` (a 0-d bool/int tensor) is set on any process."""
    value = flag.detach().to(torch.int32)
    if info.enabled:
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj`` (in rank order) on every rank."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def reduce_mean(values: dict[str, torch.Tensor], info: DistInfo) -> dict[str, float]:
    """Average scalar tensors over ranks (one collective) and return Python floats."""
    if not values:
        return {}
    keys = sorted(values)
    stacked = torch.stack([values[k].detach().float() for k in keys])
    if info.enabled:
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        stacked /= info.world_size
    return dict(zip(keys, stacked.cpu().tolist()))
