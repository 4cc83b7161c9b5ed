"""einops in forward: ``rearrange``, ``reduce`` and ``repeat``, and the ``Rearrange`` /
``Reduce`` layers of ``einops.layers.torch`` (``EinMix`` is ``einmix``'s). The pattern is
read by ``einops_patterns``; here every axis gets its size from the input shape and the
lengths given, the way einops resolves them, and the output is einops's shape. Errors only
where einops raises on the input: a rank the pattern does not take (CNV111), an axis not
divisible by the lengths given for its group or contradicting them (CNV114), for a symbolic
size only when every input size fails.
"""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.algebra.symbols import Poly
from conv_lint.layers.base import Family, Problem, Shape, differs, dim_text, shape_text, wrong_rank
from conv_lint.layers.einops_patterns import Anonymous, parse

_EMPTY_FAILS = ("min", "max")  # amax / amin of an axis of size 0 raise in torch: not claimed


class Einops(Family):
    """One einops operation: ``"rearrange"``, ``"repeat"``, or ``""`` for reduce (the
    operation is then the ``reduction`` argument). ``layer``: the einops.layers.torch class,
    which prepares its recipes for eight ranks of an ellipsis."""

    reads_batch = True  # repeat(self.cls_token, '1 1 d -> b 1 d', b=b) with b, n, _ = x.shape

    def __init__(self, operation: str = "", layer: bool = False) -> None:
        self.operation, self.layer = operation, layer

    def apply(self, b: dict, shape: Shape) -> tuple:
        operation = self.operation or b["reduction"]
        lengths = b["axes_lengths"]
        pattern = parse(b["pattern"], operation, tuple(lengths))
        known = {name: _length(value) for name, value in lengths.items()}
        if pattern is None or self.layer and not pattern.sized:
            return None, []
        spelt = pattern.at_rank(len(shape), self.layer)
        if spelt is None:
            if pattern.left.ellipsis and len(shape) >= len(pattern.left.groups) - 1:
                return None, []  # a layer's ninth ellipsis rank: a KeyError, not claimed
            return None, [wrong_rank(pattern.ranks(), shape)]  # einops checks the rank first
        if not pattern.sized or any(length is False for length in known.values()):
            return None, []
        left, right = spelt
        for axis in pattern.left.identifiers | pattern.right.identifiers:
            if isinstance(axis, Anonymous):
                known[axis] = axis.value
        for index, (group, dim) in enumerate(zip(left, shape)):
            detail = _resolve(group, dim, known, index)
            if detail is not None:
                return None, [Problem("CNV114", {"pattern": b["pattern"], "got": shape_text(shape),
                                                 "detail": detail}, None, "forward")]
        kept = {axis for group in right for axis in group}
        if operation in _EMPTY_FAILS and any(
                type(known[axis]) is int and known[axis] == 0
                for group in left for axis in group if axis not in kept):
            return None, []
        return tuple(_size([known[axis] for axis in group]) for group in right), []

    def spatial_rank(self, b: dict) -> Optional[int]:
        pattern = parse(b["pattern"], self.operation or b["reduction"], tuple(b["axes_lengths"]))
        if pattern is None or pattern.left.ellipsis:
            return None
        return len(pattern.left.groups) - 2


def _length(value):
    """A length given as a keyword: a positive int, the batch size, a symbolic size or channel
    count; None when unknown; False when einops would go on with a value torch then rejects
    (not claimed)."""
    if type(value) is int:
        return value if value > 0 else False
    if value is sizes.BATCH or isinstance(value, (sizes.Expr, sizes.Product, Poly)):
        return value  # a Poly: a constructor's parameter (p1=patch_height), >= 1
    return False if isinstance(value, (bool, float, str)) else None


def _resolve(group: tuple, dim, known: dict, index: int) -> Optional[str]:
    """Size the axes of one input ``group`` from the input's ``dim`` (into ``known``); the
    detail of CNV114 when einops raises on it."""
    unknown = [axis for axis in group if axis not in known]
    if len(group) == 1 and unknown:
        known[unknown[0]] = dim
        return None
    given = _size([known[axis] for axis in group if axis in known])
    spelt = " ".join(_axis_text(axis, known) for axis in group)
    if not unknown:
        if differs(given, dim):
            return f"axis {index} is {dim_text(dim)}, not {_wanted(group, spelt, given)}"
        return None
    quotient, fails = _divided(dim, given)
    if fails:
        return f"axis {index} of size {dim_text(dim)} does not split into ({spelt}): " \
               f"{dim_text(dim)} is not divisible by {given}"
    known[unknown[0]] = quotient
    return None


def _wanted(group: tuple, spelt: str, given) -> str:
    """What a group of known lengths asks of its axis: ``1``, ``c=3``, ``(b=4 c=2) = 8``."""
    if not group:
        return "1"
    return spelt if len(group) == 1 else f"({spelt}) = {dim_text(given)}"


def _axis_text(axis, known: dict) -> str:
    if isinstance(axis, Anonymous) or axis not in known:
        return str(axis)
    return f"{axis}={dim_text(known[axis])}"


def _divided(dim, by) -> tuple:
    """(dim // by, False) where ``by`` divides ``dim`` exactly for the inputs einops takes;
    (None, True) when it divides no input size; (None, False) when that cannot be told."""
    if isinstance(by, sizes.Expr):  # h=H given for (h w) of H*W, with B, C, H, W = x.shape
        if by == dim:
            return 1, False
        if isinstance(dim, sizes.Product) and by in dim.factors:
            rest = list(dim.factors)
            rest.remove(by)
            return sizes.product([dim.coeff] + rest), False
    if type(by) is not int:
        return None, False
    if by == 1:
        return dim, False
    if type(dim) is int:
        return (dim // by, False) if dim % by == 0 else (None, True)
    if isinstance(dim, sizes.Expr):
        floor = dim.then((1, 0, by))  # exact wherever einops runs: there by divides dim
        return (None, True) if sizes.proven_different(dim, floor.then((by, 0, 1))) \
            else (floor, False)
    if isinstance(dim, sizes.Product) and dim.coeff % by == 0:
        return sizes.product((dim.coeff // by,) + dim.factors), False
    return None, False


def _size(dims: list):
    """The size of a group of axes: an axis alone keeps its dim (the batch too)."""
    return dims[0] if len(dims) == 1 else sizes.product(dims)
