"""The per-frame animate core as an ONNX graph, run with onnxruntime (the fast CPU path).

The graph is :class:`~toontalker.animation.core.FrameCore` for one (source domain, driving domain) pair:

    inputs   frames (B, 3, S, S) float32 in [-1, 1]  (B is a dynamic axis)
             offset (1, K, d)                          (see core.motion_offset)
             source_0 .. source_{n-1}                  S, low -> high resolution, batch 1
             source_n ..                               T_B keys / values, batch 1
    output   images (B, 3, S, S) float32

The source is encoded by the torch model once per call (the graph does the per-frame work). Exported
graphs are cached under ``$TOONTALKER_HOME/onnx`` keyed by a hash of the weights, so ``animate`` with
the onnx backend exports once per set of weights. Needs the ``onnx`` extra: ``pip install "toontalker[onnx]"``.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from toontalker.animation.core import FrameCore, flatten_source, motion_offset
from toontalker.config import ConfigBase
from toontalker.conventions import DOMAINS, Domain
from toontalker.errors import BackendUnavailableError, InputError, WeightsError
from toontalker.io_utils import atomic_path

INSTALL_HINT = 'pip install "toontalker[onnx]" (onnx, onnxruntime)'
OPSET = 17


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendUnavailableError(f"the onnx backend needs onnxruntime: {INSTALL_HINT}") from exc
    return onnxruntime


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401 - torch.onnx.export needs it
    except ImportError as exc:
        raise BackendUnavailableError(f"ONNX export needs the onnx package: {INSTALL_HINT}") from exc


def input_names(num_source: int) -> list[str]:
    return ["frames", "offset", *(f"source_{i}" for i in range(num_source))]


def example_inputs(
    model, source_domain: Domain, driving_domain: Domain, batch: int, seed: int = 0
) -> tuple[FrameCore, tuple[torch.Tensor, ...]]:
    """FrameCore of ``model`` and a random input tuple (frames, offset, *source) for tracing and checks."""
    size = model.config.image_size
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        src = model.encode_source(torch.rand(1, 3, size, size, generator=generator) * 2 - 1, source_domain)
        reference = model.encode_driving(torch.rand(1, 3, size, size, generator=generator) * 2 - 1, driving_domain)
        offset = motion_offset(src, "relative", reference)
    frames = torch.rand(batch, 3, size, size, generator=generator) * 2 - 1
    core = FrameCore(model, source_domain, driving_domain, len(src.features)).eval()
    return core, (frames, offset, *flatten_source(src))


def export_frame_core(
    model, path: str | Path, source_domain: Domain = "cartoon", driving_domain: Domain = "real", example_batch: int = 2
) -> Path:
    """Write the FrameCore of ``model`` (fp32, on the CPU) as an ONNX graph to ``path`` (atomically).

    The trace records the branches taken for a batch-1 source and ``example_batch`` frames: with
    ``example_batch >= 2`` that is the broadcast path (attention and warping fold the B frames against the
    one source), which is exact for every B >= 1; at batch 1 the same-batch path would be recorded instead,
    which breaks other batch sizes. The tracer's warnings about those branches are therefore silenced.
    """
    if example_batch < 2:
        raise ValueError("example_batch must be >= 2 (see the docstring)")
    _require_onnx()
    model = model.float().cpu().eval()
    core, inputs = example_inputs(model, source_domain, driving_domain, example_batch)
    names = input_names(len(inputs) - 2)
    path = Path(path)
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            core,
            inputs,
            str(tmp),
            input_names=names,
            output_names=["images"],
            dynamic_axes={"frames": {0: "batch"}, "images": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return path


class OnnxFrameCore:
    """An onnxruntime session of an exported FrameCore; ``set_source`` once, then call per batch.

    ``threads``: intra-op threads (None: onnxruntime's default, one per core). ``spin``: let idle worker
    threads spin-wait (onnxruntime's default); off by default because animate's decode and encode threads
    share the cores.
    """

    def __init__(self, path: str | Path, threads: int | None = None, spin: bool = False) -> None:
        ort = _onnxruntime()
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: ONNX model not found")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable graphs
            raise InputError(f"{self.path}: not a loadable ONNX model ({type(exc).__name__})") from exc
        self.names = [i.name for i in self.session.get_inputs()]
        self._fixed: dict[str, np.ndarray] = {}

    def set_source(self, source: tuple[torch.Tensor, ...]) -> None:
        """Bind the encoded source once: ``flatten_source(src)`` (all batch 1)."""
        if len(source) != len(self.names) - 2:
            raise InputError(
                f"{self.path}: the graph takes {len(self.names) - 2} source tensors, "
                f"this model gives {len(source)} (exported from other weights?)"
            )
        self._fixed = {name: t.detach().float().cpu().contiguous().numpy() for name, t in zip(self.names[2:], source)}

    def __call__(self, frames: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """frames (B, 3, S, S) in [-1, 1], offset (1, K, d) -> rendered images (B, 3, S, S), float32 on the CPU."""
        feeds = {
            "frames": frames.detach().float().cpu().contiguous().numpy(),
            "offset": offset.detach().float().cpu().contiguous().numpy(),
            **self._fixed,
        }
        return torch.from_numpy(self.session.run(["images"], feeds)[0])


def weights_digest(model) -> str:
    """A short hash of the model's config and weights (the cache key of its exported graphs)."""
    digest = hashlib.blake2b(digest_size=10)
    digest.update(repr(model.config).encode())
    digest.update(torch.__version__.encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def cached_export(model, source_domain: Domain, driving_domain: Domain) -> Path:
    """The exported graph of ``model`` for this domain pair from the cache, exporting it first if missing."""
    from toontalker.cache import toontalker_home

    path = toontalker_home() / "onnx" / f"{weights_digest(model)}-{source_domain}-from-{driving_domain}.onnx"
    if not path.is_file():
        export_frame_core(model, path, source_domain, driving_domain)
    return path


def max_difference(
    model,
    path: str | Path,
    source_domain: Domain = "cartoon",
    driving_domain: Domain = "real",
    batch: int = 3,
    seed: int = 1,
    threads: int | None = None,
) -> float:
    """Largest absolute difference between the torch FrameCore and the ONNX graph on random inputs.

    ``batch`` should differ from the export's example batch, so the dynamic batch axis is checked too.
    """
    model = model.float().cpu().eval()
    core, inputs = example_inputs(model, source_domain, driving_domain, batch, seed)
    with torch.inference_mode():
        expected = core(*inputs)
    session = OnnxFrameCore(path, threads)
    session.set_source(inputs[2:])
    return float((session(inputs[0], inputs[1]) - expected).abs().max())


@dataclass(frozen=True)
class OnnxExportConfig(ConfigBase):
    """What ``export_onnx`` writes: the graph for one source/driving domain pair, checked against torch."""

    PRESETS: ClassVar[dict] = {}

    source_domain: Domain = "cartoon"
    driving_domain: Domain = "real"
    check: bool = True  # compare onnxruntime's output with torch's on random inputs
    tolerance: float = 1e-3  # largest allowed absolute difference (outputs are ~[-1, 1])

    def __post_init__(self) -> None:
        for name in ("source_domain", "driving_domain"):
            self._check(getattr(self, name) in DOMAINS, f"{name} must be one of {', '.join(DOMAINS)}")
        self._check(self.tolerance > 0, f"tolerance must be positive, got {self.tolerance}")


@dataclass(frozen=True)
class OnnxExportResult:
    path: Path
    bytes: int
    seconds: float  # export time
    source_domain: str
    driving_domain: str
    max_abs_difference: float | None  # vs torch (None without the check)
    tolerance: float


def export_onnx(
    weights: str | Path | None, output: str | Path, config: OnnxExportConfig = OnnxExportConfig(), model=None
) -> OnnxExportResult:
    """Export the per-frame animate core of ``weights`` (folder, hub id, or the shipped default) to ``output``.

    With ``config.check`` the graph is run with onnxruntime on random inputs and compared with torch;
    a difference above ``config.tolerance`` raises :class:`WeightsError` and removes the file.
    """
    from toontalker.weights import load_model

    if model is None:
        model, _ = load_model(weights, None, False)
    output = Path(output)
    t0 = time.perf_counter()
    export_frame_core(model, output, config.source_domain, config.driving_domain)
    seconds = time.perf_counter() - t0
    difference = None
    if config.check:
        difference = max_difference(model, output, config.source_domain, config.driving_domain)
        if not difference <= config.tolerance:
            output.unlink(missing_ok=True)
            raise WeightsError(
                f"{output}: the ONNX graph differs from torch by {difference:.3g} "
                f"(> tolerance {config.tolerance:g}); removed"
            )
    return OnnxExportResult(
        path=output,
        bytes=output.stat().st_size,
        seconds=seconds,
        source_domain=config.source_domain,
        driving_domain=config.driving_domain,
        max_abs_difference=difference,
        tolerance=config.tolerance,
    )
