"""The paper's reported numbers (ToonTalker, ICCV 2023, Tables 1-7), as data.

Each :class:`PaperNumber` is one cell: table, method (or ablation variant), setting, metric, value. The
bench prints them beside our numbers; nothing here is computed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperNumber:
    table: int
    method: str
    setting: str
    metric: str
    value: float


def _rows(table: int, setting: str, metrics: tuple[str, ...], rows: dict[str, tuple[float, ...]]) -> list[PaperNumber]:
    return [
        PaperNumber(table, method, setting, metric, value)
        for method, values in rows.items()
        for metric, value in zip(metrics, values, strict=True)
    ]


PAPER_NUMBERS: tuple[PaperNumber, ...] = tuple(
    # Table 1: cross-domain reenactment
    _rows(
        1,
        "real-to-cartoon",
        ("fid", "cpbd"),
        {"FOMM": (30.369, 0.0436), "LIA": (30.442, 0.0493), "DaGAN": (29.779, 0.0735), "Ours": (28.531, 0.0840)},
    )
    + _rows(
        1,
        "cartoon-to-real",
        ("fid", "csim", "cpbd"),
        {
            "FOMM": (51.929, 0.536, 0.0626),
            "LIA": (48.611, 0.515, 0.0727),
            "DaGAN": (47.222, 0.561, 0.0985),
            "Ours": (31.852, 0.655, 0.1230),
        },
    )
    # Table 2: same-identity reconstruction, real domain
    + _rows(
        2,
        "same-identity",
        ("l1", "lpips", "cpbd", "akd", "aed"),
        {
            "FOMM": (0.0466, 0.139, 0.0308, 1.388, 0.142),
            "LIA": (0.0461, 0.123, 0.0372, 1.512, 0.153),
            "DaGAN": (0.0442, 0.122, 0.0415, 1.300, 0.129),
            "Ours": (0.0457, 0.121, 0.0429, 1.335, 0.139),
        },
    )
    # Table 3: cross-identity reenactment, real domain
    + _rows(
        3,
        "cross-identity-real",
        ("fid", "csim", "cpbd"),
        {
            "FOMM": (54.411, 0.541, 0.0689),
            "LIA": (53.161, 0.522, 0.0787),
            "DaGAN": (49.920, 0.548, 0.1069),
            "Ours": (48.713, 0.526, 0.1132),
        },
    )
    # Table 4: cross-identity reenactment, cartoon domain
    + _rows(
        4,
        "cross-identity-cartoon",
        ("fid", "cpbd"),
        {"FOMM": (40.853, 0.0368), "LIA": (34.066, 0.0523), "DaGAN": (36.218, 0.0598), "Ours": (27.467, 0.0846)},
    )
    # Table 5: ablation of the analogy constraint
    + _rows(5, "real-to-cartoon", ("fid", "cpbd"), {"full": (28.531, 0.0840), "w/o analogy": (29.230, 0.0746)})
    + _rows(5, "cartoon-to-real", ("fid", "cpbd"), {"full": (31.852, 0.123), "w/o analogy": (43.353, 0.107)})
    # Table 6: ablation of lambda_m (FID)
    + _rows(
        6,
        "real-to-cartoon",
        ("fid",),
        {"lambda_m=0": (26.885,), "lambda_m=20": (28.531,), "lambda_m=40": (32.094,), "lambda_m=100": (41.936,)},
    )
    + _rows(
        6,
        "cartoon-to-real",
        ("fid",),
        {"lambda_m=0": (33.463,), "lambda_m=20": (31.852,), "lambda_m=40": (30.176,), "lambda_m=100": (28.166,)},
    )
    # Table 7: architecture ablation (FID)
    + _rows(
        7,
        "real-to-cartoon",
        ("fid",),
        {"full": (28.531,), "mlp": (116.740,), "w/o back": (28.904,), "w/o sft": (31.291,)},
    )
    + _rows(
        7,
        "cartoon-to-real",
        ("fid",),
        {"full": (31.852,), "mlp": (31.885,), "w/o back": (35.265,), "w/o sft": (41.077,)},
    )
)

TABLE_TITLES: dict[int, str] = {
    1: "Table 1. Cross-domain reenactment",
    2: "Table 2. Same-identity reconstruction in real domain",
    3: "Table 3. Cross-identity reenactment in real domain",
    4: "Table 4. Cross-identity reenactment in cartoon domain",
    5: "Table 5. Ablation study on the analogy constraint",
    6: "Table 6. Ablation study on hyper-parameter lambda_m",
    7: "Table 7. Ablation study on model architecture",
}

ABLATION_TABLES = (5, 6, 7)


def paper_numbers(table: int) -> list[PaperNumber]:
    return [n for n in PAPER_NUMBERS if n.table == table]


def table_settings(table: int) -> list[str]:
    """The protocol settings a table reports, in the paper's column order."""
    seen: list[str] = []
    for number in paper_numbers(table):
        if number.setting not in seen:
            seen.append(number.setting)
    return seen


def table_metrics(table: int, setting: str) -> list[str]:
    seen: list[str] = []
    for number in paper_numbers(table):
        if number.setting == setting and number.metric not in seen:
            seen.append(number.metric)
    return seen


def table_methods(table: int) -> list[str]:
    seen: list[str] = []
    for number in paper_numbers(table):
        if number.method not in seen:
            seen.append(number.method)
    return seen


def paper_value(table: int, method: str, setting: str, metric: str) -> float | None:
    for n in paper_numbers(table):
        if (n.method, n.setting, n.metric) == (method, setting, metric):
            return n.value
    return None
