"""Discriminator feature matching ("dfm"): an explicit alternative perceptual term for L_per (Eq. 11).

Where the ImageNet VGG19 weights cannot be used, the user may choose (``--perceptual dfm``, never chosen
silently) to compare the output and the target through the intermediate features of the target domain's
discriminator D instead: the L1 distance of D's stem and residual-block activations, summed over layers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from toontalker.errors import ConfigError
from toontalker.train.perceptual import feature_l1


def discriminator_features(discriminator: nn.Module, image: Tensor) -> list[Tensor]:
    """The activations of D's stem and of each of its down-sampling blocks, ``(B, C_i, H_i, W_i)``."""
    stem = getattr(discriminator, "stem", None)
    blocks = getattr(discriminator, "blocks", None)
    if stem is None or not isinstance(blocks, nn.Sequential):
        raise ConfigError("perceptual 'dfm' needs a discriminator with .stem and .blocks (toontalker's D has them)")
    x = stem(image)
    features = [x]
    for block in blocks:
        x = block(x)
        features.append(x)
    return features


class DiscriminatorFeatureMatching:
    """Callable ``(output, target, domain) -> scalar``: L1 between D_domain's features of output and target.

    The discriminators are trained by their own objective; here they only provide features (their
    parameters are frozen during the generator step, gradients reach the generator through them).
    """

    def __init__(self, discriminators: nn.ModuleDict) -> None:
        self.discriminators = discriminators

    def __call__(self, output: Tensor, target: Tensor, domain: str) -> Tensor:
        d = self.discriminators[domain]
        with torch.no_grad():
            targets = discriminator_features(d, target)
        return feature_l1(discriminator_features(d, output), targets)
