"""Helpers shared by the model tests: one torch thread, tiny random images."""

from __future__ import annotations

import pytest
import torch

from toontalker.model import ModelConfig


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: thread start-up costs more than the work, and other processes share the cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def random_images(config: ModelConfig, batch: int, seed: int = 0) -> torch.Tensor:
    """(batch, 3, S, S) uniform in [-1, 1], reproducible by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, config.image_size, config.image_size, generator=g) * 2 - 1
