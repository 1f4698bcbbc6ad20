"""The edge term: L1 between image gradients of the output and the driving frame (``lambda_edge``).

Not in the paper. A blurred output keeps a small L1 to the target where the target is flat but loses its
edges, and L1 barely notices (the mean of a blurred image is the mean of the sharp one). Comparing the finite
differences in x and y, the gradient difference loss of Mathieu et al. (ICLR 2016, "Deep multi-scale video
prediction beyond mean square error"), penalises exactly the edges the output lost or invented, with no
network to download.
"""

from __future__ import annotations

from torch import Tensor


def image_gradient_l1(output: Tensor, target: Tensor) -> Tensor:
    """Mean |d_x output - d_x target| + mean |d_y output - d_y target| for (B, C, H, W) images, in float32.

    Zero for an output that differs from the target by a constant; positive where the output's edges are
    blurred, moved or invented.
    """
    B, C, H, W = output.shape
    if target.shape != output.shape:
        raise ValueError(f"image_gradient_l1: output {tuple(output.shape)} and target {tuple(target.shape)} differ")
    diff = output.float() - target.float()
    along_x = (diff[..., :, 1:] - diff[..., :, :-1]).abs().mean()
    along_y = (diff[..., 1:, :] - diff[..., :-1, :]).abs().mean()
    return along_x + along_y
