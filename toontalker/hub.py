"""The import path that model cards written before :mod:`toontalker.weights` existed name
(``from toontalker.hub import from_pretrained``; the shipped ``weights/default/README.md`` is one of them).

It only re-exports; the code lives in :mod:`toontalker.weights`.
"""

from toontalker.weights import from_pretrained, save_pretrained

__all__ = ["from_pretrained", "save_pretrained"]
