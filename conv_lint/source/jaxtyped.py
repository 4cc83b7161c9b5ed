"""Input shapes from jaxtyping annotations on forward's parameters, the ecosystem's notation:

    def forward(self, x: Float[Tensor, "batch 3 32 32"]) -> ...

Any jaxtyping dtype (``Float``, ``Shaped``, ``Int``, ``Bool``, ``Real``, ``Num``, ``Float32``...)
under any alias or module path counts; the array type (``Tensor``, ``torch.Tensor``) does not
matter. The shape string reads as jaxtyping reads it, with these choices:

- The first axis must be the batch: a variadic axis (``*batch``, ``*b``, ``...``) or a batch
  name (``batch``, ``b``, ``n``, ``bs``, ``batch_size``, ``bsz``, any case). A variadic batch is
  read as one axis. Any other first axis (``"3 32 32"``, ``"1 3 224 224"``) leaves the
  annotation unused: an unbatched input and a batch of fixed size are told apart by nothing
  in the string.
- Digits are sizes; a name is a symbol of the size algebra, and one name on two axes (or two
  parameters) is one symbol, so ``"b c h h"`` says the map is square, as jaxtyping checks it.
- What jaxtyping does not bind to one size is unknown: ``#c`` (may broadcast), ``_`` and ``_c``
  (unchecked), expressions (``h+1``) and a second variadic axis.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from conv_lint.algebra import sizes

BATCH_NAMES = frozenset({"b", "n", "bs", "batch", "batch_size", "batchsize", "bsz", "nbatch"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DTYPE = re.compile(r"^jaxtyping\.[A-Z][A-Za-z0-9]*$")  # jaxtyping.Float, jaxtyping.UInt8...


def annotated_shape(param: cst.Param, imports) -> Optional[tuple]:
    """The full shape (``sizes.BATCH`` first) a jaxtyping annotation of ``param`` gives, else
    None. ``imports`` is the file's ``imports.ImportMap``."""
    annotation = param.annotation.annotation if param.annotation is not None else None
    if not isinstance(annotation, cst.Subscript) or len(annotation.slice) != 2:
        return None
    dtype = imports.resolve(annotation.value)
    text = annotation.slice[1].slice
    if dtype is None or not _DTYPE.match(dtype) or not isinstance(text, cst.Index):
        return None
    value = text.value
    if not isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    shape = value.evaluated_value
    return parse_dims(shape) if isinstance(shape, str) else None


def parse_dims(text: str) -> Optional[tuple]:
    """``"batch 3 h w"`` -> ``(BATCH, 3, h, w)`` with ``h``, ``w`` symbols; None when the first
    axis is not the batch or nothing follows it."""
    tokens = text.split()
    if len(tokens) < 2 or not _is_batch(tokens[0]):
        return None
    return (sizes.BATCH,) + tuple(_dim(token) for token in tokens[1:])


def _is_batch(token: str) -> bool:
    if token == "..." or (token.startswith("*") and _NAME.match(token[1:])):
        return True
    return token.lower() in BATCH_NAMES


def _dim(token: str):
    if token.isascii() and token.isdigit():
        return int(token) if int(token) > 0 else None
    if _NAME.match(token):
        return sizes.symbol(token)
    return None  # "#c", "_c", "_", "h+1", "*rest", "...": not one known size
