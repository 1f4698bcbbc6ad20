"""Fixtures for the training tests: a fake VGG19 file in a temporary torch hub cache, synthetic clips."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from toontalker.train.perceptual import VGG19Features


@pytest.fixture(scope="session")
def fake_torch_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TORCH_HOME whose hub cache holds random VGG19 weights saved in torchvision's key layout (the
    unit under test is our loader and loss, which are real; only the ImageNet training is missing)."""
    home = tmp_path_factory.mktemp("torch_home")
    target = home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    target.parent.mkdir(parents=True)
    torch.manual_seed(1234)
    state = VGG19Features().state_dict()
    state["classifier.0.weight"] = torch.zeros(4, 4)  # extra keys of the real file must be ignored
    torch.save(state, target)
    return home


@pytest.fixture()
def vgg_cached(fake_torch_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(fake_torch_home))
    return fake_torch_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"


@pytest.fixture(scope="session")
def vgg_module(fake_torch_home: Path) -> VGG19Features:
    from toontalker.train.perceptual import vgg19_features

    return vgg19_features(fake_torch_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Training tests run with one intra-op thread: on the shared 2-core machine, two OpenMP threads
    competing with other jobs made a tiny step 10-30x slower than one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
