"""Build the small real + cartoon dataset for the GPU training demo, within a disk budget (no ffmpeg needed
to train from it: clips are stored as JPEG frame folders).

    python scripts/gpu_training_data.py ../shared/data .gpu/data        # ~53 MiB; copy .gpu/data to the GPU machine

Real: the cropped, frontal talking-head videos of ../shared/data (LivePortrait d*/s*, LIA vox, SadTalker,
TPSMM, AnimeCeleb's vox example), the first ``--real-frames`` frames of each. Cartoon: the THA2 character
videos, the first ``--cartoon-frames`` frames of ``--cartoon-clips`` characters. Frames are decoded here
(ffmpeg) into frame folders and registered with ``toontalker dataset import`` at 256 px (jpg). Wide shots
(LIA TED, VToonify) are left out: their faces are small and the demo does no face cropping.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

from toontalker.dataset.importer import ImportOptions, import_clips
from toontalker.video import iter_frames

REAL_PREFIXES = ("liveportrait_", "lia_vox_", "sadtalker_", "tpsmm_", "animeceleb_vox")


def _frames_to_folder(video: Path, folder: Path, max_frames: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for batch in iter_frames(video, batch_size=32, max_frames=max_frames):
        for frame in batch:
            Image.fromarray(frame).save(folder / f"{count:05d}.png")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared_data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--real-frames", type=int, default=80)
    parser.add_argument("--cartoon-clips", type=int, default=32)
    parser.add_argument("--cartoon-frames", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    real = sorted(p for p in (args.shared_data / "real" / "videos").iterdir() if p.name.startswith(REAL_PREFIXES))
    cartoon = sorted((args.shared_data / "cartoon" / "videos" / "tha2_characters").glob("*.mp4"))[: args.cartoon_clips]
    with tempfile.TemporaryDirectory() as tmp:
        for domain, videos, frames in (("real", real, args.real_frames), ("cartoon", cartoon, args.cartoon_frames)):
            src = Path(tmp) / domain
            for video in videos:  # identity = the folder name (one per video: no identity known across videos)
                n = _frames_to_folder(video, src / video.stem / "clip", frames)
                print(f"{domain}: {video.name}: {n} frames", file=sys.stderr)
            summary = import_clips(
                src,
                args.out,
                ImportOptions(domain=domain, size=args.size, format="jpg", fps=25.0, identity_from="parent"),
            )
            print(f"{domain}: {summary}", file=sys.stderr)
            shutil.rmtree(src)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{args.out}: {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
