"""torch.compile must trace the training step's layers without a graph break: a break splits the step into pieces
that CUDA graphs capture one by one and that dynamo recompiles per shape (past its recompile limit it falls back
to eager). Found when a ``torch.is_inference_mode_enabled()`` check in the layers that fold a blur into their
filters broke the graph in every one of them (compiled training on one H200 stalled in compilation and crashed)."""

from __future__ import annotations

import pytest
import torch

from toontalker.model.layers import ConvLayer
from toontalker.model.styleconv import StyleConv


@pytest.mark.parametrize("grad", [True, False], ids=["training", "no_grad"])
def test_the_blur_folding_layers_compile_as_one_graph(grad: bool) -> None:
    torch.manual_seed(0)
    down = ConvLayer(4, 8, 3, downsample=True)
    up = StyleConv(8, 4, style_dim=16, upsample=True)

    def step(x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return up(down(x), style)

    x, style = torch.randn(2, 4, 16, 16), torch.randn(2, 16)
    compiled = torch.compile(step, fullgraph=True, backend="eager")  # fullgraph: a graph break raises
    with torch.set_grad_enabled(grad):
        expected = step(x, style)
        assert torch.allclose(compiled(x, style), expected, atol=1e-5)
