"""The moving average of G's weights (recipe ``ema_decay``; ours, not in the paper: StyleGAN2's generator EMA).

After each G step ``ema = decay * ema + (1 - decay) * G`` over every parameter, starting from a copy of the
weights after the first step; buffers are copied as they are. The same numbers as torch's
``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))`` and the same state-dict layout
(``module.<name>`` tensors and ``n_averaged``), so checkpoints written with either resume with the other; but
the update never reads or writes a device tensor from the host: ``AveragedModel`` copies its step count from
host memory to the GPU on every update, which makes the host wait for the GPU once per training step.
"""

from __future__ import annotations

import copy
from typing import Any, Generic, TypeVar

import torch
from torch import nn

from toontalker.errors import ConfigError

M = TypeVar("M", bound=nn.Module)


class GeneratorAverage(Generic[M]):
    """An exponential moving average of ``model``'s weights (a frozen copy of it, on the same device)."""

    def __init__(self, model: M, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ConfigError(f"ema_decay must be in (0, 1) for an average, got {decay}")
        self.module: M = copy.deepcopy(model).requires_grad_(False)
        self.decay = decay
        self.n_averaged = 0  # updates so far, on the host

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold ``model``'s current weights into the average (the first update copies them)."""
        ours = [p.detach() for p in self.module.parameters()]
        theirs = [p.detach() for p in model.parameters()]
        if self.n_averaged == 0:
            torch._foreach_copy_(ours, theirs)
        else:
            torch._foreach_lerp_(ours, theirs, 1.0 - self.decay)
        buffers = list(self.module.buffers())
        if buffers:  # copied as they are, in one call: e.g. the layers' fixed blur kernels
            torch._foreach_copy_(buffers, list(model.buffers()))
        self.n_averaged += 1

    def state_dict(self) -> dict[str, Any]:
        """``module.<name>`` for each tensor of the averaged copy, and ``n_averaged`` (AveragedModel's layout)."""
        state: dict[str, Any] = {f"module.{k}": v for k, v in self.module.state_dict().items()}
        state["n_averaged"] = torch.tensor(self.n_averaged, dtype=torch.long)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict({k.removeprefix("module."): v for k, v in state.items() if k != "n_averaged"})
        self.n_averaged = int(state["n_averaged"])
