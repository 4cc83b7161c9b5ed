"""einops's EinMix layer (einops.layers.torch.EinMix): a Rearrange into the pattern's flat axes
when its left side groups axes, an einsum with a weight of ``weight_shape``, a bias, and a
Rearrange composing the right side's groups. The weight's (and bias's) axes are sized by the
lengths given, which gives the parameter count. Its rearranges report as Rearrange does; an
einsum whose axes do not match the weight is left unknown and unclaimed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import Family, Shape
from conv_lint.layers.einops import Einops
from conv_lint.layers.einops_patterns import (
    ELLIPSIS, Anonymous, PatternError, parse, side, valid_name,
)
from conv_lint.records import record

_REARRANGE = Einops("rearrange", layer=True)


@record(frozen=True)
class _Mix:
    """What EinMix's constructor prepares, when it accepts its arguments."""

    left: tuple  # the flat axes the einsum reads (ELLIPSIS among them)
    right: tuple  # the flat axes it writes
    weight: tuple  # the weight's axes, in order
    bias: tuple  # the bias's axes (empty without a bias)
    lengths: dict
    before: Optional[str]  # the Rearrange into the flat left axes, if the left groups any
    after: Optional[str]  # the Rearrange composing the right side's groups, if any


class EinMix(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        mix = _prepared(b)
        if mix is None:
            return None, []
        if mix.before is not None:
            lengths = {k: v for k, v in mix.lengths.items() if k in mix.left}
            shape, problems = _REARRANGE.apply({"pattern": mix.before, "axes_lengths": lengths},
                                               shape)
            if shape is None:  # its problems said in EinMix's own pattern
                return None, [replace(p, fields={**p.fields, "pattern": b["pattern"]})
                              for p in problems]
        extra = len(shape) - (len(mix.left) - (ELLIPSIS in mix.left))
        if extra < 0 or extra and ELLIPSIS not in mix.left:
            return None, []  # einsum's rank error: not claimed
        dims, ellipsis = {}, ()
        spelt = list(shape)
        for axis in mix.left:
            if axis == ELLIPSIS:
                ellipsis, spelt = tuple(spelt[:extra]), spelt[extra:]
                continue
            dims[axis], spelt = spelt[0], spelt[1:]
        for axis in mix.weight:
            n, m = dims.get(axis), mix.lengths[axis]
            if type(n) is int and n not in (1, m):
                return None, []  # the einsum fails: unclaimed
            dims[axis] = m
        out = []
        for axis in mix.right:
            out.extend(ellipsis if axis == ELLIPSIS else (dims[axis],))
        if any(type(dims[axis]) is int and dims[axis] != mix.lengths[axis] for axis in mix.bias):
            return None, []  # an in-place bias add that cannot broadcast: unclaimed
        if mix.after is None:
            return tuple(out), []
        return _REARRANGE.apply({"pattern": mix.after, "axes_lengths": {}}, tuple(out))

    def params(self, b: dict) -> Optional[int]:
        mix = _prepared(b)
        if mix is None:
            return None
        counts = [sizes.product([mix.lengths[a] for a in axes])
                  for axes in (mix.weight,) + ((mix.bias,) if b["bias_shape"] is not None else ())]
        return sum(counts) if all(type(c) is int for c in counts) else None

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        mix = _prepared(b)
        if mix is None or name != "weight":
            return None
        return tuple(mix.lengths[a] for a in mix.weight)


def _prepared(b: dict) -> Optional[_Mix]:
    pattern, weight, bias = b["pattern"], b["weight_shape"], b["bias_shape"]
    lengths = b["axes_lengths"]
    if not all(isinstance(t, str) for t in (pattern, weight)) or \
            not (bias is None or isinstance(bias, str)) or \
            not all(type(v) is int and v > 0 for v in lengths.values()):
        return None
    try:
        return _checked(pattern, weight, bias, lengths)
    except (PatternError, ValueError):
        return None


def _checked(pattern: str, weight_text: str, bias_text, lengths: dict) -> _Mix:
    """EinMix's constructor, where it raises on its arguments (PatternError)."""
    left_text, right_text = pattern.split("->")  # ValueError unless one arrow
    left, right, weight = side(left_text), side(right_text), side(weight_text)
    named = left.identifiers | weight.identifiers
    if right.identifiers - named or weight.ellipsis or left.ellipsis != right.ellipsis \
            or any(ELLIPSIS in g for g in left.groups if g != ELLIPSIS) \
            or any(isinstance(a, Anonymous) for s in (left, right, weight) for a in s.identifiers) \
            or "(" in weight_text or ")" in weight_text:
        raise PatternError("EinMix pattern")
    before = after = None
    flat_left = _flat(left.groups)
    if any(g != ELLIPSIS and len(g) != 1 for g in left.groups):
        before = f"{left_text}-> {' '.join(_names(flat_left))}"
    flat_right = _flat(right.groups)
    if any(g != ELLIPSIS and len(g) != 1 for g in right.groups) or any(
            ELLIPSIS in g for g in right.groups if g != ELLIPSIS):
        after = f"{' '.join(_names(flat_right))} ->{right_text}"
    given = tuple(n for n in lengths if n in flat_left)
    for text, names in ((before, given), (after, ())):
        if text is not None:
            built = parse(text, "rearrange", names)  # a Rearrange made in the constructor
            if built is None or not built.sized:
                raise PatternError("rearrange")
    weight_axes = tuple(a for (a,) in weight.groups)  # ValueError for a 1, as in einops
    if any(a not in lengths for a in weight.identifiers) or set(lengths) - named \
            or weight.identifiers - left.identifiers - right.identifiers \
            or not all(valid_name(n) for n in lengths):
        raise PatternError("EinMix lengths")
    bias_axes: tuple = ()
    if bias_text is not None:
        bias = side(bias_text)
        if bias.identifiers - right.identifiers or bias.identifiers - set(lengths):
            raise PatternError("EinMix bias")
        bias_axes = tuple(a for a in flat_right if a in bias.identifiers)
        if ELLIPSIS in flat_right and any(
                a in bias.identifiers for a in flat_right[:flat_right.index(ELLIPSIS)]):
            raise PatternError("bias before the ellipsis")
    return _Mix(tuple(flat_left), tuple(flat_right), weight_axes, bias_axes, dict(lengths),
                before, after)


def _flat(groups: tuple) -> list:
    return [axis for group in groups for axis in ((group,) if group == ELLIPSIS else group)]


def _names(axes: list) -> list:
    return ["..." if axis == ELLIPSIS else axis for axis in axes]
