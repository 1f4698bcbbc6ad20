"""The ToonTalker model: layers, encoders (Ea, Em), motion (p, T_{s->r}, T_{r->d}), T_B, G, D."""

from toontalker.model.config import ModelConfig
from toontalker.model.discriminator import Discriminator
from toontalker.model.toontalker import (
    DOMAINS,
    Analogy,
    ParameterCounts,
    Reenactment,
    SourceEncoding,
    ToonTalker,
)

__all__ = [
    "DOMAINS",
    "Analogy",
    "Discriminator",
    "ModelConfig",
    "ParameterCounts",
    "Reenactment",
    "SourceEncoding",
    "ToonTalker",
]
