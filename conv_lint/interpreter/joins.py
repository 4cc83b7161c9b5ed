"""Joining what two branches of an undecided `if` leave behind: equal values stay, others become
unknown (tensors keep the axes both branches agree on)."""

from __future__ import annotations

from conv_lint.algebra import sizes
from conv_lint.algebra.symbols import Poly
from conv_lint.interpreter.values import UNKNOWN, Tensor


def replace(target: dict, source: dict) -> None:
    target.clear()
    target.update(source)


def join(a, b):
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.lazy is not None and a.lazy is b.lazy and a.shape is None and b.shape is None:
            return a
        sa, sb = a.shape, b.shape
        if sa is None or sb is None or len(sa) != len(sb):
            return Tensor(origin=a.origin if a.origin == b.origin else "")
        dims = tuple(x if (x is y or x == y or sizes.proven_equal(x, y)) else None
                     for x, y in zip(sa, sb))
        return Tensor(dims, origin=a.origin if a.origin == b.origin else "")
    if type(a) is type(b) and isinstance(a, (int, float, str, bool, type(None), Poly)) and a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(join(x, y) for x, y in zip(a, b))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Tensor()
    return UNKNOWN


def join_all(values: list):
    if not values:
        return UNKNOWN
    result = values[0]
    for value in values[1:]:
        result = join(result, value)
    return result


def join_dicts(dicts: list) -> dict:
    keys: list = []
    for d in dicts:
        keys.extend(k for k in d if k not in keys)
    return {k: join_all([d.get(k, UNKNOWN) for d in dicts]) for k in keys}
