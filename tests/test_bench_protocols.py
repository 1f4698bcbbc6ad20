"""Protocol generation: settings, seeds, identities, CSV round trip, bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from toontalker.bench.protocols import (
    PROTOCOL_COLUMNS,
    ProtocolOptions,
    generate_pairs,
    generate_protocols,
    read_protocol,
)
from toontalker.errors import InputError, UsageError


def _manifest() -> pd.DataFrame:
    rows = []
    for i in range(6):
        rows.append((f"real{i}", f"/r/{i}.mp4", "real", f"person{i % 3}", "test" if i < 5 else "train", 40 + i))
    for i in range(4):
        rows.append((f"toon{i}", f"/c/{i}.mp4", "cartoon", f"char{i}", "test", 30))
        rows.append((f"toonimg{i}", f"/c/{i}.png", "cartoon", f"char{i}", "test", 1))
    return pd.DataFrame(rows, columns=["id", "path", "domain", "identity", "split", "frames"])


def test_settings_pair_the_right_domains_and_identities():
    manifest = _manifest()
    options = ProtocolOptions(sources_per_driver=3, max_frames=32, seed=7)
    same = generate_pairs(manifest, "same-identity", options)
    assert list(same.columns) == list(PROTOCOL_COLUMNS)
    assert len(same) == 5 and (same["source"] == same["driving"]).all() and (same["frame"] == 0).all()
    assert (same["driving_frames"] == 32).all()
    assert "real5" not in set(same["driving"])  # train split stays out

    cross = generate_pairs(manifest, "cross-identity-real", options)
    assert (cross["source_identity"] != cross["driving_identity"]).all()
    assert len(cross) == 5 * 3
    r2c = generate_pairs(manifest, "real-to-cartoon", options)
    assert set(r2c["source_domain"]) == {"cartoon"} and set(r2c["driving_domain"]) == {"real"}
    c2r = generate_pairs(manifest, "cartoon-to-real", options)
    assert set(c2r["driving"]) <= {"toon0", "toon1", "toon2", "toon3"}  # images never drive
    assert all(0 <= f < 46 for f in c2r["frame"])


def test_protocols_are_seeded():
    manifest = _manifest()
    a = generate_pairs(manifest, "cross-identity-cartoon", ProtocolOptions(sources_per_driver=2, seed=1))
    b = generate_pairs(manifest, "cross-identity-cartoon", ProtocolOptions(sources_per_driver=2, seed=1))
    pd.testing.assert_frame_equal(a, b)
    others = [
        generate_pairs(manifest, "cartoon-to-real", ProtocolOptions(sources_per_driver=2, seed=s)) for s in range(2, 6)
    ]
    assert any(not o[["source", "frame"]].equals(others[0][["source", "frame"]]) for o in others[1:])


def test_csv_round_trip_and_bad_files(tmp_path):
    written = generate_protocols(_manifest(), ["same-identity", "real-to-cartoon"], ProtocolOptions(), tmp_path)
    assert [w.setting for w in written] == ["same-identity", "real-to-cartoon"]
    back = read_protocol(written[1].path)
    assert len(back) == written[1].pairs and back["setting"].unique().tolist() == ["real-to-cartoon"]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"bad\.csv: not a protocol CSV"):
        read_protocol(bad)
    with pytest.raises(InputError, match="protocol file not found"):
        read_protocol(tmp_path / "nope.csv")
    with pytest.raises(UsageError, match="unknown protocol setting"):
        generate_pairs(_manifest(), "table-9", ProtocolOptions())
    with pytest.raises(UsageError):
        ProtocolOptions(max_frames=1)
