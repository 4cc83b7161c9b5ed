"""The shape arithmetic of torch's tensor operations: broadcasting, torch.cat, view and
basic indexing, on dims that are ints, symbolic sizes or None (unknown)."""

from __future__ import annotations

import math
from typing import Optional

from conv_lint.algebra import sizes, symbols
from conv_lint.algebra.symbols import Poly
from conv_lint.interpreter.pyvalues import MAX_UNROLL, is_int
from conv_lint.interpreter.values import UNKNOWN, Tensor


def broadcast_conflict(x, y) -> bool:
    """Can axes of sizes ``x`` and ``y`` surely not broadcast (torch raises)?"""
    if x is None or y is None or x is sizes.BATCH or y is sizes.BATCH:
        return False
    if is_int(x) and is_int(y):
        return x != y and x != 1 and y != 1
    return sizes.proven_unbroadcastable(x, y)


def broadcast_dim(x, y):
    """The size broadcasting ``x`` with ``y`` gives, where torch runs; None if unknown."""
    if x == 1:
        return y
    if y == 1:
        return x
    for known, other in ((x, y), (y, x)):
        if is_int(known) and known >= 2 and other is not sizes.BATCH:
            return known  # wherever torch runs, the other side is 1 or equal to it
    if x is y or x == y or (x is not None and y is not None and sizes.proven_equal(x, y)):
        return x
    return None


def concatenated(sizes_along):
    """The size torch.cat gives along its axis: a sum of ints and parameter channel counts."""
    total = 0
    for size in sizes_along:
        if not (is_int(size) or isinstance(size, Poly)):
            return None
        total = symbols.add(total, size)
        if total is None:
            return None
    return total


def cat_conflict(x, y) -> bool:
    """Do ``x`` and ``y`` surely differ (torch.cat raises on an axis it does not join)?"""
    if x is None or y is None or x is sizes.BATCH or y is sizes.BATCH:
        return False
    if is_int(x) and is_int(y):
        return x != y
    return sizes.proven_different(x, y)


def proven_unequal_size(per_sample, wanted: int) -> bool:
    """Is a sample of ``per_sample`` values surely not ``wanted`` values?"""
    if per_sample is None:
        return False
    if is_int(per_sample):
        return per_sample != wanted
    return sizes.can_be(per_sample, wanted) is False


def regroup_detail(per_sample, wanted: int) -> str:
    """What torch does with view(-1, wanted) on samples of ``per_sample`` values."""
    if not is_int(per_sample):
        return " for any input size"
    if per_sample % wanted == 0:
        return f"; torch silently splits each sample into {per_sample // wanted} rows"
    batches = wanted // math.gcd(wanted, per_sample)
    return f"; torch raises unless the batch size is a multiple of {batches}, " \
           "and then mixes samples"


def view_rest(per_sample, rest) -> Optional[tuple]:
    """Shape of x.view(x.size(0), *rest): -1 takes what is left of the per-sample size."""
    if not rest:
        return None
    holes = sum(1 for r in rest if r == -1)
    sized = [r for r in rest if r != -1]
    if holes > 1 or not all(is_int(r) and r > 0 or _symbolic_size(r) for r in sized):
        return None
    known = sizes.product(sized)
    if holes == 0:
        same = per_sample == known or sizes.proven_equal(per_sample, known)
        return (sizes.BATCH,) + tuple(rest) if same else None
    left = sizes.quotient(per_sample, known)
    if left is None:
        return None
    return (sizes.BATCH,) + tuple(left if r == -1 else r for r in rest)


def _symbolic_size(dim) -> bool:
    """A size of the input's symbols (``w`` of ``b, c, h, w = x.size()``)."""
    return isinstance(dim, (sizes.Expr, sizes.Product))


def index_shape(shape, items: list) -> Optional[tuple]:
    """The shape of ``x[items]`` under basic indexing (slices, ints, None, ...); else None."""
    if shape is None or any(item is UNKNOWN or isinstance(item, Tensor) for item in items):
        return None
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    if consumed > len(shape) or sum(1 for item in items if item is Ellipsis) > 1:
        return None  # torch raises IndexError: not ours to judge
    out, axis = [], 0
    for item in items:
        if item is None:
            out.append(1)
        elif item is Ellipsis:
            skip = len(shape) - consumed
            out.extend(shape[axis:axis + skip])
            axis += skip
        elif isinstance(item, slice):
            out.append(_sliced(shape[axis], item))
            axis += 1
        elif is_int(item):
            axis += 1  # an integer index drops the axis
        else:
            return None
    return tuple(out) + tuple(shape[axis:])


def _sliced(dim, item: slice):
    if item == slice(None):
        return dim
    if is_int(dim):
        return len(range(dim)[item])
    return None


def piece_sizes(n, how: str, size) -> Optional[list]:
    """The sizes ``torch.chunk`` (``how`` "chunk": ``size`` chunks) or ``torch.split`` (an int
    size, the last piece smaller, or a list of sections adding up to ``n``) cut an axis of
    ``n`` into; None when unknown, where torch raises (no claim), or for more pieces than the
    interpreter unrolls (x.split(1) of a long axis)."""
    if not is_int(n) or n < 1:
        return None
    if how == "chunk":
        if not is_int(size) or size < 1:
            return None
        size = -(-n // size)  # each chunk holds ceil(n / chunks)
    if is_int(size):
        if size < 1 or -(-n // size) > MAX_UNROLL:
            return None
        return [min(size, n - start) for start in range(0, n, size)]
    sections = list(size) if isinstance(size, (tuple, list)) else None
    if sections is None or len(sections) > MAX_UNROLL or not all(
            is_int(s) and s >= 0 for s in sections) or sum(sections) != n:
        return None
    return sections


def broadcast_batch(left: tuple, right: tuple) -> tuple:
    """(the broadcast of two batch shapes, the axis (from the right) that cannot broadcast)."""
    width = max(len(left), len(right))
    left = (1,) * (width - len(left)) + tuple(left)
    right = (1,) * (width - len(right)) + tuple(right)
    out = []
    for axis, (x, y) in enumerate(zip(left, right)):
        if broadcast_conflict(x, y):
            return None, axis - width
        out.append(broadcast_dim(x, y))
    return tuple(out), None
