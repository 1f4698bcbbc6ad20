"""Person identities and the held-out split of the sample real videos (../shared/data/real/videos).

Several sources hold many clips of one person (MEAD speakers, StyleTalk clip series, Obama in five sources);
`dataset build` names each clip's identity after its video file. This rewrites the `identity` column of a
built dataset's manifest to the person (rules below, from MANIFEST.csv's notes) and puts the held-out people
in the `test` split (everyone else `train`), so no person is in both.

    python scripts/sample_data_identities.py data/real          # rewrites data/real/manifest.{csv,parquet}
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from toontalker.dataset.manifest import read_manifest, write_manifest

# (regex on the source video's file stem, person)
PERSON_RULES: tuple[tuple[str, str], ...] = (
    (r"^dreamtalk_(M030|W009|W011)_", r"mead_\1"),
    (r"^spectre_(M0\d\d|W0\d\d)_", r"mead_\1"),
    (r"obama", "obama"),
    (r"^fomm_00$", "obama"),
    (r"^liax_driving4$", "obama"),
    (r"trump", "trump"),
    (r"^fomm_04$", "trump"),
    (r"AlexandriaOcasioCortez|^videoretalking_3$", "ocasio_cortez"),
    (r"^styletalk_(andrew|feifeili|furious_talk1|furious_talk2|happyenglish)_", r"styletalk_\1"),
    (r"^hellomeme_xzy\d$", "hellomeme_xzy"),
    (r"^eamm_(fear|surprised)$", "eamm_woman_curly"),
    (r"^megaportraithack_-2KGPYEFnsU_", "megaportraithack_-2KGPYEFnsU"),
    (r"^vtoonify_529", "vtoonify_529"),
)

# People never trained on: the held-out set of `bench motion` and the evaluations in docs/results.md.
HELD_OUT: tuple[str, ...] = (
    "eamm_happy",
    "liax_driving1",
    "liax_driving2",
    "headgan_driving",
    "xportrait_driving_video",
    "dagan_driving",
    "actalker_video",
    "iplap_129",
    "styletalk_KristiNoem",
    "fomm_08",
    "liveportrait_d8",
    "mead_W011",
    "hellomeme_tiktok",
)


def person_of(stem: str) -> str:
    for pattern, person in PERSON_RULES:
        if re.search(pattern, stem):
            match = re.search(pattern, stem)
            assert match is not None
            return match.expand(person)
    return stem


def main() -> None:
    folder = Path(sys.argv[1])
    frame = read_manifest(folder)
    frame["identity"] = [person_of(Path(str(s)).stem) for s in frame["source"]]
    frame["split"] = ["test" if p in HELD_OUT else "train" for p in frame["identity"]]
    write_manifest(frame, folder)
    for split, part in frame.groupby("split"):
        print(f"{split}: {part['identity'].nunique()} people, {len(part)} clips, {int(part['frames'].sum())} frames")


if __name__ == "__main__":
    main()
