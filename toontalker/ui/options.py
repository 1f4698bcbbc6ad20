"""How ``toontalker ui`` serves (:class:`UiConfig`).

Light on purpose (no torch or gradio at import): the CLI takes its defaults from it (toontalker/cli/ui.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from toontalker.config import ConfigBase


@dataclass(frozen=True)
class UiConfig(ConfigBase):
    """How ``toontalker ui`` serves: address, the weights every run uses, upload limit, example folder."""

    host: str = "127.0.0.1"
    port: int = 7860
    weights: str | None = None  # folder or hub id; None: the shipped default weights
    preset: str | None = None  # with random_weights: the architecture to build
    random_weights: bool = False  # untrained model: tests the page, output meaningless
    device: str = "auto"
    dtype: str = "auto"
    max_upload_mb: float = 200.0
    examples: str | None = None  # folder of example media; None: the repository's examples/
    work_dir: str | None = None  # where results are written; None: a new temporary folder
    seed: int = 0

    def __post_init__(self) -> None:
        self._check(0 <= self.port <= 65535, f"port must be in 0..65535, got {self.port}")
        self._check(self.max_upload_mb > 0, f"max_upload_mb must be positive, got {self.max_upload_mb}")
        self._check(bool(self.host.strip()), "host must not be empty")
