"""Conventions every layer shares, defined once and light to import (the CLI takes its defaults from here).

* the two face domains: ``Domain`` ("real" | "cartoon"), :data:`DOMAINS`, :func:`check_domain`; used by the
  detectors' auto order, the model's per-domain parts, the datasets, animate and its CLI;
* the face crop: :data:`CROP_SCALE`, crop side = ``CROP_SCALE`` x the face box's longer side (animate's
  source and driving crops, ``dataset build``'s clip crops, ``bench motion``'s inputs).
"""

from __future__ import annotations

from typing import Literal, get_args

from toontalker.errors import UsageError

Domain = Literal["real", "cartoon"]
DOMAINS: tuple[Domain, ...] = get_args(Domain)  # ("real", "cartoon"): the order of the model's ModuleDict

CROP_SCALE = 1.8


def check_domain(value: str, what: str = "domain") -> Domain:
    """``value`` as a :data:`Domain`; :class:`UsageError` naming ``what`` when it is neither name."""
    if value not in DOMAINS:
        raise UsageError(f"unknown {what} {value!r}: expected one of {', '.join(DOMAINS)}")
    return value


def other_domain(domain: Domain) -> Domain:
    """The domain that is not ``domain``."""
    return next(d for d in DOMAINS if d != check_domain(domain))
