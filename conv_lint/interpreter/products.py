"""The shape rules of torch's tensor-tensor products: matmul (``@``), mm, bmm, addmm, baddbmm,
einsum, and torch.stack, on dims that are ints, symbolic sizes, the batch axis or None.

Each rule gives ``(shape, problem)``: the output shape wherever torch runs (None: unknown) and
the Problem torch's call raises, claimed only when sizes are proven different (a size-1 axis
broadcasts where torch broadcasts it).
"""

from __future__ import annotations

import string
from typing import Optional

from conv_lint.interpreter.tensor_shapes import (
    broadcast_batch, broadcast_conflict, broadcast_dim, cat_conflict,
)
from conv_lint.layers.base import Problem, dim_text, shape_text

Outcome = tuple  # (Optional[tuple], Optional[Problem])
UNSURE: Outcome = (None, None)


def mismatch(op: str, shapes, detail: str) -> Problem:
    """CNV113: the sizes a product contracts or broadcasts do not fit."""
    return Problem("CNV113", {"op": op, "shapes": " and ".join(shape_text(s) for s in shapes),
                              "detail": detail}, None, "forward")


def rank_problem(op: str, expected: str, shape: tuple) -> Problem:
    """CNV111: an operand of a rank the product does not take."""
    return Problem("CNV111", {"layer": op, "expected": expected, "got": shape_text(shape),
                              "source": ""}, None, "forward")


def matmul(a: tuple, b: tuple, op: str = "matmul") -> Outcome:
    """torch.matmul: 1-D operands get an axis for the product (removed after), the last two
    axes multiply, the axes before them broadcast."""
    if not a or not b:
        return None, rank_problem(op, "1D or higher", a if not a else b)
    left = a if len(a) > 1 else (1,) + tuple(a)
    right = b if len(b) > 1 else tuple(b) + (1,)
    batch, axis = broadcast_batch(left[:-2], right[:-2])  # torch broadcasts first
    if batch is None:  # torch's broadcasting error: CNV106, as for an elementwise op
        return None, Problem("CNV106", {
            "op": op, "left": shape_text(a), "right": shape_text(b),
            "detail": f"batch axis {axis} is {dim_text(left[:-2][axis])} vs "
                      f"{dim_text(right[:-2][axis])}"}, None, "forward")
    inner = _inner_problem(op, a, b, left[-1], right[-2])
    if inner is not None:
        return None, inner
    return batch + tuple(left[-2:-1] if len(a) > 1 else ()) + \
        tuple(right[-1:] if len(b) > 1 else ()), None


def _inner_problem(op: str, a: tuple, b: tuple, x, y) -> Optional[Problem]:
    if cat_conflict(x, y):
        return mismatch(op, (a, b), f"the inner sizes differ ({dim_text(x)} vs {dim_text(y)})")
    return None


def mm(a: tuple, b: tuple, op: str = "mm") -> Outcome:
    """torch.mm: two matrices."""
    for shape in (a, b):
        if len(shape) != 2:
            return None, rank_problem(op, "2D", shape)
    inner = _inner_problem(op, a, b, a[1], b[0])
    return (None, inner) if inner is not None else ((a[0], b[1]), None)


def bmm(a: tuple, b: tuple, op: str = "bmm") -> Outcome:
    """torch.bmm: batches of matrices, the batch sizes equal (bmm does not broadcast)."""
    for shape in (a, b):
        if len(shape) != 3:
            return None, rank_problem(op, "3D", shape)
    if cat_conflict(a[0], b[0]):
        return None, mismatch(op, (a, b), f"the batch sizes differ ({dim_text(a[0])} vs "
                                          f"{dim_text(b[0])})")
    inner = _inner_problem(op, a, b, a[2], b[1])
    if inner is not None:
        return None, inner
    return (a[0] if a[0] is b[0] or a[0] == b[0] else None, a[1], b[2]), None


def added(product: Outcome, bias: tuple, op: str) -> Outcome:
    """addmm / baddbmm: the bias broadcasts to the product's shape (it is expanded to it)."""
    shape, problem = product
    if shape is None or problem is not None:
        return product
    if len(bias) > len(shape):
        return UNSURE
    for x, y in zip(reversed(bias), reversed(shape)):
        if x != 1 and not (x is y or x == y):  # torch's expand error: CNV106, as for `+`
            return (None, Problem("CNV106", {
                "op": "add", "left": shape_text(bias), "right": shape_text(shape),
                "detail": f"the input of {op} does not expand to the product"}, None,
                "forward")) if cat_conflict(x, y) else UNSURE
    return product


def stacked(shapes: list, dim) -> Optional[tuple]:
    """torch.stack: equal shapes, a new axis of len(shapes) at ``dim``; None when unknown or
    unequal (torch's error for unequal shapes is not claimed)."""
    if not shapes or any(s is None for s in shapes) or type(dim) is not int:
        return None
    first = shapes[0]
    rank = len(first)
    if not -rank - 1 <= dim <= rank:
        return None
    for shape in shapes[1:]:
        if len(shape) != rank or any(not (x is y or x == y) for x, y in zip(first, shape)):
            return None
    axis = dim % (rank + 1)
    return tuple(first[:axis]) + (len(shapes),) + tuple(first[axis:])


# ---------------------------------------------------------------- einsum

_LETTERS = frozenset(string.ascii_letters)
ELLIPSIS = "..."


def parse_einsum(equation: str) -> Optional[tuple]:
    """(the operands' subscripts, the output's or None for an implicit output), each a tuple of
    letters and ELLIPSIS; None if the equation is not one conv-lint reads."""
    text = equation.replace(" ", "")
    if text.count("->") > 1:
        return None
    lhs, arrow, rhs = text.partition("->")
    terms = [_subscripts(term) for term in lhs.split(",")]
    output = _subscripts(rhs) if arrow else None
    if any(t is None for t in terms) or (arrow and output is None):
        return None
    return terms, output


def _subscripts(term: str) -> Optional[tuple]:
    if term.count(ELLIPSIS) > 1:
        return None
    before, dots, after = term.partition(ELLIPSIS)
    if not set(before + after) <= _LETTERS:
        return None
    return tuple(before) + ((ELLIPSIS,) if dots else ()) + tuple(after)


def einsum(equation: str, shapes: list) -> Outcome:
    """torch.einsum: each letter's sizes agree across operands (or are 1, which broadcasts),
    a letter repeated in one operand has one size, the ellipsis axes broadcast."""
    parsed = parse_einsum(equation)
    if parsed is None or len(parsed[0]) != len(shapes):
        return UNSURE
    terms, output = parsed
    op = f"einsum {equation!r}"
    letters: dict = {}
    ellipsis = ()
    for index, (term, shape) in enumerate(zip(terms, shapes)):
        axes = _axes(term, shape)
        if axes is None:
            return UNSURE
        named, spanned = axes
        for letter, size in named:
            if letter in letters:
                seen, operand = letters[letter]
                if operand == index:
                    if cat_conflict(seen, size):
                        return None, mismatch(op, shapes, f"subscript {letter} is repeated "
                                              f"with sizes {dim_text(seen)} and "
                                              f"{dim_text(size)}")
                    if not (seen is size or seen == size):
                        return UNSURE
                    continue
                if broadcast_conflict(seen, size):
                    return None, mismatch(op, shapes, f"subscript {letter} has sizes "
                                          f"{dim_text(seen)} and {dim_text(size)}")
                size = broadcast_dim(seen, size)
            letters[letter] = (size, index)
        if spanned is not None:
            ellipsis, axis = broadcast_batch(ellipsis, spanned)
            if ellipsis is None:
                return None, mismatch(op, shapes, f"the axes of '...' cannot broadcast "
                                                  f"(axis {axis})")
    if output is None:
        counts = [letter for term in terms for letter in term if letter != ELLIPSIS]
        output = ((ELLIPSIS,) if any(ELLIPSIS in t for t in terms) else ()) + tuple(
            sorted(letter for letter in set(counts) if counts.count(letter) == 1))
    if len(set(output)) != len(output) or any(
            letter != ELLIPSIS and letter not in letters for letter in output):
        return UNSURE  # torch raises: no claim
    out = []
    for letter in output:
        out.extend(ellipsis if letter == ELLIPSIS else (letters[letter][0],))
    return tuple(out), None


def _axes(term: tuple, shape: tuple) -> Optional[tuple]:
    """((letter, size) of each named axis, the sizes '...' spans or None); None when the
    operand's rank does not fit its subscripts."""
    named = [letter for letter in term if letter != ELLIPSIS]
    if ELLIPSIS not in term:
        return (tuple(zip(named, shape)), None) if len(shape) == len(named) else None
    if len(shape) < len(named):
        return None
    at = term.index(ELLIPSIS)
    tail = len(term) - at - 1
    spanned = tuple(shape[at:len(shape) - tail])
    return tuple(zip(named, tuple(shape[:at]) + tuple(shape[len(shape) - tail:]))), spanned
