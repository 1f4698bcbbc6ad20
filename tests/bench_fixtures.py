"""Helpers for bench tests: a small manifest over ../shared/data, and an exact 'copy the driver' model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

REAL_CLIPS = ("liveportrait_d0.mp4", "liveportrait_d10.mp4", "lia_vox_driving2.mp4", "tpsmm_driving.mp4")
CARTOON_CLIPS = ("a_chan.mp4", "aduchi_momo.mp4", "aiba_uiha.mp4")
CARTOON_IMAGES = ("a_chan.png", "aduchi_momo.png", "aiba_uiha.png")


def shared_manifest(shared: Path) -> pd.DataFrame:
    """A dataset manifest (id, path, domain, identity, split, frames, fps) over a few shared files."""
    rows = []
    for name in REAL_CLIPS:
        rows.append((Path(name).stem, shared / "real/videos" / name, "real", Path(name).stem, "test", 50, 25.0))
    rows.append(("d19", shared / "real/images/liveportrait_d19.jpg", "real", "d19", "test", 1, None))
    rows.append(("d30", shared / "real/images/liveportrait_d30.jpg", "real", "d30", "train", 1, None))
    for name in CARTOON_CLIPS:
        rows.append(
            (
                f"clip-{Path(name).stem}",
                shared / "cartoon/videos/tha2_characters" / name,
                "cartoon",
                Path(name).stem,
                "test",
                150,
                30.0,
            )
        )
    for name in CARTOON_IMAGES:
        rows.append(
            (
                f"img-{Path(name).stem}",
                shared / "cartoon/images/tha2_headshots" / name,
                "cartoon",
                Path(name).stem,
                "test",
                1,
                None,
            )
        )
    return pd.DataFrame(rows, columns=["id", "path", "domain", "identity", "split", "frames", "fps"]).assign(
        path=lambda f: f["path"].astype(str)
    )


class CopyDriver(torch.nn.Module):
    """A stand-in model whose output is exactly the driving frame (motion codes = the frames themselves).

    It exercises the bench's call pattern (source encoded once, start frame, batched relative motion) and
    makes the expected scores known: in same-identity reconstruction, L1 is 0 and SSIM 1.
    """

    class config:  # noqa: N801 - mimics ModelConfig's attribute
        image_size = 64

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def encode_source(self, image, domain):
        self.calls.append(("source", image.shape[0]))
        return image

    def encode_driving(self, frames, domain):
        self.calls.append(("driving", frames.shape[0]))
        return frames

    def relative_motion(self, src, w_r2d, w_r2start, gain=1.0):
        assert w_r2d.shape == w_r2start.shape
        return w_r2d

    def absolute_motion(self, src, w_r2d):
        return w_r2d

    def render(self, src, w_s2d):
        return w_s2d
