"""ConfigBase: presets, strict round trips, overrides, validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import pytest

from toontalker.config import ConfigBase
from toontalker.errors import ConfigError


@dataclass(frozen=True)
class Inner(ConfigBase):
    width: int = 8
    rate: float = 0.5


@dataclass(frozen=True)
class Demo(ConfigBase):
    PRESETS: ClassVar[dict] = {"small": {"size": 64}, "big": {"size": 256, "mode": "b"}}
    size: int = 128
    mode: Literal["a", "b"] = "a"
    scales: tuple[int, ...] = (16, 32)
    lr: float = 1e-3
    name: str | None = None
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self) -> None:
        self._check(self.size % 8 == 0, f"size must be a multiple of 8, got {self.size}")


def test_preset_and_overrides() -> None:
    cfg = Demo.from_name("big", lr=2e-4)
    assert (cfg.size, cfg.mode, cfg.lr) == (256, "b", 2e-4)
    with pytest.raises(ConfigError, match="unknown Demo preset 'nope'.*big, small"):
        Demo.from_name("nope")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    cfg = Demo.from_name("small", scales=(4, 8, 16), name="x", inner=Inner(width=3, rate=0.25))
    path = cfg.save(tmp_path / f"cfg{suffix}")
    loaded = Demo.load(path)
    assert loaded == cfg
    assert isinstance(loaded.scales, tuple) and isinstance(loaded.inner, Inner)


def test_with_overrides_parses_and_checks_types() -> None:
    cfg = Demo().with_overrides(["size=64", "lr=1e-4", "inner.width=16", "mode=b", "scales=[8, 16]"])
    assert (cfg.size, cfg.lr, cfg.inner.width, cfg.mode, cfg.scales) == (64, 1e-4, 16, "b", (8, 16))
    with pytest.raises(ConfigError, match="no field 'sise'"):
        Demo().with_overrides(["sise=64"])
    with pytest.raises(ConfigError, match="expected an integer"):
        Demo().with_overrides(["size=big"])
    with pytest.raises(ConfigError, match="not one of"):
        Demo().with_overrides(["mode=c"])
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        Demo().with_overrides(["size"])


def test_validation_and_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="multiple of 8"):
        Demo(size=10)
    with pytest.raises(ConfigError, match="unknown field"):
        Demo.from_dict({"size": 64, "colour": "red"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        Demo.load(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        Demo.load(tmp_path / "missing.yaml")


def test_frozen() -> None:
    cfg = Demo()
    with pytest.raises(AttributeError):
        cfg.size = 64  # type: ignore[misc]
    assert cfg.replace(size=64).size == 64 and cfg.size == 128
