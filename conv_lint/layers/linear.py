"""Linear layers: Linear and Bilinear."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Channels, Family, Problem, Shape, as_channels, as_flag, as_int, demand, dim_text, invalid,
    or_higher, sized, wrong_rank,
)
from conv_lint.records import record


def _linear_problem(expected: Optional[int], got, arg: str) -> Optional[Problem]:
    """CNV103; a symbolic ``got`` only when no input size fits, with the sizes that would."""
    if expected is None or not sized(got):
        return None
    if isinstance(expected, sizes.Poly) or isinstance(got, sizes.Poly):
        return Problem("CNV103", {"expected": expected, "got": dim_text(got)}, arg) \
            if sizes.proven_different(got, expected) else None
    if type(got) is int:
        return None if got == expected else Problem(
            "CNV103", {"expected": expected, "got": got}, arg)
    if sizes.can_be(got, expected) is not False:
        return None
    return Problem("CNV103", {"expected": expected,
                              "got": f"{dim_text(got)} for every input size"
                                     + _closest_input(got, expected)}, arg)


def _closest_input(got, k: int) -> str:
    """"; an input of H=32..35, W=32..35 would give 576": the square input coming closest to k.

    Symbolic sizes never shrink as the input grows, so the scan stops once it passes k."""
    factors = [got] if isinstance(got, sizes.Expr) else list(getattr(got, "factors", ()))
    if not factors:
        return ""
    names = {f.var for f in factors}
    closest = None
    for size in range(max(f.min_input for f in factors), 4096):
        value = sizes.value_at(got, {name: size for name in names})
        if value is None:
            return ""
        if closest is None or abs(value - k) < abs(closest - k):
            closest = value
        if value > k:
            break
    fits = sizes.fitting_inputs(got, closest) if closest is not None else []
    if not fits:
        return ""
    ranges = ", ".join(f"{var}={lo}" if lo == hi else f"{var}={lo}..{hi}"
                       for var, (lo, hi) in sorted(fits[0].items()))
    return f"; an input of {ranges} would give {closest}"


@record(frozen=True)
class Linear(Family):
    """Linear (and the first input of Bilinear): in_features on the last axis."""

    inputs: tuple = ("in_features",)  # Bilinear: ("in1_features", "in2_features")

    def check(self, b: dict) -> list:
        """torch allocates the weight at construction: a negative size cannot be allocated."""
        for name in ("out_features",) + self.inputs:  # the weight's axes, in torch's order
            value = as_int(b[name])
            if value is not None and value < 0:
                return [invalid(name, f"{name} must not be negative (got {value})", "init")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 1:
            return None, [wrong_rank(or_higher(1), shape)]
        first = self.inputs[0]
        problem = _linear_problem(as_channels(b[first]), shape[-1], first)
        if problem is not None:
            return None, [problem]
        return shape[:-1] + (as_channels(b["out_features"]),), []

    def demands(self, b: dict, shape: Shape) -> dict:
        return demand(self.inputs[0], shape[-1]) if shape else {}

    def params(self, b: dict) -> Optional[int]:
        counts = [as_int(b[name]) for name in self.inputs + ("out_features",)]
        bias = as_flag(b["bias"])
        if None in counts or bias is None or any(c < 0 for c in counts):
            return None
        weight = 1
        for c in counts:
            weight *= c
        return weight + (counts[-1] if bias else 0)

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        """weight (out_features, in_features) of a Linear; bias (out_features,)."""
        c_in, c_out = as_channels(b[self.inputs[0]]), as_channels(b["out_features"])
        if c_in is None or c_out is None or len(self.inputs) != 1:
            return None
        if name == "bias":
            return (c_out,) if as_flag(b["bias"]) else None
        return (c_out, c_in) if name == "weight" else None

    def in_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b[self.inputs[0]])

    def out_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b["out_features"])
