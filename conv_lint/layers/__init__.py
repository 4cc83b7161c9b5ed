"""The layer catalogue: torch's layers and functions as data.

Each entry (:class:`LayerType`) knows its torch signature, what torch rejects among its arguments
(:meth:`LayerType.check`), how it maps an input shape to an output shape and where its forward
raises (:meth:`LayerType.apply`), and how many parameters it has. Entries of one family (every
ConvNd, every pad, every activation) share one small :class:`Family` object parametrised by rank or
mode; the tables in :mod:`catalogue` list the entries.

Arguments are plain Python values or ``UNKNOWN``; shapes are full shapes (dim 0 is
``sizes.BATCH`` when batched) whose dims are ints, symbolic sizes or ``None``. Precision first: a
check that involves anything unknown stays silent, and a problem is reported only where torch
itself raises (checked against torch in tests/test_layers.py).

A :class:`Problem` says ``when`` torch raises it: ``"init"`` (the constructor) or ``"forward"``
(the call). ``check`` reports the first argument error alone; ``apply`` then stays silent (the
layer cannot run) and otherwise reports the first error of the call, in torch's order.

The package, one job a module: ``base`` (Problem, Family, argument helpers), one module per family
group (``convolution``, ``pooling``, ``normalisation``, ``linear``, ``elementwise``,
``reshaping``, ``resizing``, ``embedding``, ``fold``, ``lazy``, ``recurrent``, ``attention``,
``transformer``; ``einops``, ``einmix`` and ``einops_patterns`` for einops's operations and
layers), ``entry`` (LayerType) and ``catalogue`` (the tables).
"""

from __future__ import annotations

from conv_lint.layers.base import Problem, Shaped, dim_text, shape_text
from conv_lint.layers.catalogue import FUNCTIONS, LAYERS, METHODS, lookup
from conv_lint.layers.entry import LayerType, signature_of

# signature_of too: tests/test_layers.py builds torch's own signatures with it
__all__ = ["FUNCTIONS", "LAYERS", "METHODS", "LayerType", "Problem", "Shaped", "dim_text",
           "lookup", "shape_text", "signature_of"]
