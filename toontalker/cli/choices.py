"""The closed sets of values CLI options accept, as ``Literal`` types (Typer shows and checks them: a value
outside the set is a usage error, exit 2, before any work).

Each mirrors a set the library defines (tests/test_cli_choices.py checks they agree); they are spelled out
here so that ``import toontalker.cli`` stays light (no torch, numpy or OpenCV before a command runs).
Repeatable options take an ``Enum`` (Typer has no lists of ``Literal``); ``values`` turns them back into the
library's strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Literal

from toontalker.conventions import Domain  # noqa: F401  (re-exported; its one home, light to import)

Detector = Literal["auto", "s3fd", "haar", "dlib-hog", "dlib-cnn", "mediapipe"]  # "auto" + faces.BACKENDS
InferenceBackend = Literal["torch", "onnx"]  # animation.core.Backend
Dtype = Literal["auto", "fp32", "bf16", "fp16"]  # devices.resolve_dtype
Precision = Literal["auto", "bf16", "fp32"]  # train.recipe.Precision
Perceptual = Literal["vgg19", "dfm"]  # train.recipe.Perceptual
TrainCompileMode = Literal["default", "reduce-overhead", "max-autotune-no-cudagraphs"]  # train.recipe.TrainCompileMode
MotionBackend = Literal["auto", "torch", "onnx"]  # bench.options.MotionBackend
Motion = Literal["relative", "absolute"]  # AnimateOptions.motion, QualityOptions.motion
ClipFormat = Literal["jpg", "png", "npy", "mp4"]  # dataset.storage.FORMATS
SceneDetector = Literal["content", "adaptive", "none"]  # dataset.options.SCENE_DETECTORS
IdentityFrom = Literal["stem", "parent", "pattern"]  # dataset.sources.IDENTITY_SOURCES
SplitBy = Literal["identity", "source"]  # dataset.split.GROUP_BY
BaselineName = Literal["copy-source"]  # bench.baselines.BASELINES
PairedSource = Literal["face-image", "gt-first-frame"]  # bench.paired.paired_cartoon_pairs
MotionCrop = Literal["animate", "none"]  # bench motion's face crop
HeldoutSet = Literal["standard", "wide", "styles"]  # bench.motion_heldout.HELDOUT_SETS
CompileMode = Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]  # torch.compile


class Setting(str, Enum):
    """A protocol setting of the paper (bench.protocols.SETTINGS but paired-cartoon, which `bench paired` runs)."""

    same_identity = "same-identity"
    cross_identity_real = "cross-identity-real"
    cross_identity_cartoon = "cross-identity-cartoon"
    real_to_cartoon = "real-to-cartoon"
    cartoon_to_real = "cartoon-to-real"


class PrecisionChoice(str, Enum):
    """A training-step precision (repeatable options; train.recipe.Precision)."""

    auto = "auto"
    bf16 = "bf16"
    fp32 = "fp32"


class ClipFormatChoice(str, Enum):
    """A clip storage format (repeatable options)."""

    jpg = "jpg"
    png = "png"
    npy = "npy"
    mp4 = "mp4"


def values(choices: Iterable[Enum]) -> tuple[str, ...]:
    """The library strings of repeated Enum choices, in the order given."""
    return tuple(str(choice.value) for choice in choices)
