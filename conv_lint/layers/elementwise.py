"""Elementwise layers: activations, dropout, softmax; also PReLU, ChannelShuffle and GLU
(which halves one axis)."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Problem, Shape, as_int, as_number, axis_index, differs, dim_problem, dim_text, first_of,
    invalid, not_positive, or_higher, outcome, sized, wrong_rank,
)
from conv_lint.records import record


@record(frozen=True)
class Elementwise(Family):
    """Shape in = shape out. ``min_rank``/``ranks`` say which ranks torch accepts; ``dim`` names a
    dim argument that must be in range; ``checks`` are argument rules (see _ARGUMENT_RULES)."""

    ranks: tuple = ()  # exact accepted ranks, if any
    min_rank: int = 0
    dim: Optional[str] = None
    checks: tuple = ()

    elementwise = True

    def check(self, b: dict) -> list:
        return first_of(*(_ARGUMENT_RULES[name](b) for name in self.checks))

    def apply(self, b: dict, shape: Shape) -> tuple:
        if (self.ranks and len(shape) not in self.ranks) or len(shape) < self.min_rank:
            expected = " or ".join(f"{n}D" for n in self.ranks) if self.ranks \
                else or_higher(self.min_rank)
            return None, [wrong_rank(expected, shape)]
        if self.dim is not None:
            return outcome(shape, first_of(dim_problem(b.get(self.dim), len(shape), self.dim,
                                                       shape)))
        return shape, []


def _probability(b: dict) -> Optional[Problem]:
    p = as_number(b.get("p"))
    if p is not None and not 0 <= p <= 1:
        return invalid("p", f"dropout probability has to be between 0 and 1 (got {p})", "init")
    return None


def _hardtanh_bounds(b: dict) -> Optional[Problem]:
    """nn.Hardtanh wants max_val > min_val (min_value/max_value are their deprecated names)."""
    low = b["min_val"] if b.get("min_value") is None else b["min_value"]
    high = b["max_val"] if b.get("max_value") is None else b["max_value"]
    low, high = as_number(low), as_number(high)
    if low is not None and high is not None and high <= low:
        return invalid("max_val", f"max_val ({high}) must be greater than min_val ({low})",
                       "init")
    return None


def _hardtanh_function_bounds(b: dict) -> Optional[Problem]:
    """F.hardtanh accepts min_val == max_val."""
    low, high = as_number(b["min_val"]), as_number(b["max_val"])
    if low is not None and high is not None and low > high:
        return invalid("min_val", f"min_val ({low}) cannot be greater than max_val ({high})")
    return None


def _gelu_approximate(b: dict) -> Optional[Problem]:
    value = b["approximate"]
    if isinstance(value, str) and value not in ("none", "tanh"):
        return invalid("approximate", f"approximate={value!r} is not 'none' or 'tanh'")
    return None


def _rrelu_bounds(b: dict) -> Optional[Problem]:
    low, high = as_number(b["lower"]), as_number(b["upper"])
    if low is not None and high is not None and low > high:
        return invalid("lower", f"lower ({low}) must not exceed upper ({high})")
    return None


def _celu_alpha(b: dict) -> Optional[Problem]:
    return invalid("alpha", "alpha cannot be 0 for CELU") if as_number(b["alpha"]) == 0 else None


_ARGUMENT_RULES = {
    "probability": _probability,
    "hardtanh": _hardtanh_bounds,
    "hardtanh_function": _hardtanh_function_bounds,
    "gelu": _gelu_approximate,
    "rrelu": _rrelu_bounds,
    "celu": _celu_alpha,
}


class PReLU(Family):
    """One learnt slope, or one per channel (axis 1; a 1-d input has one channel)."""

    elementwise = True

    def apply(self, b: dict, shape: Shape) -> tuple:
        count = as_int(b["num_parameters"])
        channels = shape[1] if len(shape) >= 2 else 1
        if count is not None and count != 1 and differs(count, channels):
            return None, [Problem("CNV101", {"expected": count, "got": dim_text(channels)},
                                  "num_parameters")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        count = as_int(b["num_parameters"])
        return count if count is not None and count >= 0 else None


class GLU(Family):
    """Splits ``dim`` in two halves: the output has half its size."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        problem = dim_problem(b["dim"], len(shape), "dim", shape)
        if problem is not None or as_int(b["dim"]) is None:
            return None, first_of(problem)
        axis = axis_index(b["dim"], len(shape))
        n = shape[axis]
        if type(n) is int and n % 2:
            return None, [invalid("dim", f"GLU halves dim {b['dim']}, whose size {n} is odd")]
        half = n // 2 if type(n) is int else sizes.pool_out(n, 2, 2) if sized(n) else None
        return shape[:axis] + (half,) + shape[axis + 1:], []


class ChannelShuffle(Family):
    elementwise = True

    def check(self, b: dict) -> list:
        return not_positive(b, "groups")

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [wrong_rank(or_higher(3), shape)]
        groups, channels = as_int(b["groups"]), shape[1]
        if groups and type(channels) is int and channels % groups:
            return None, [Problem("CNV109", {"what": "channels", "value": channels,
                                             "groups": groups}, "groups")]
        return shape, []
