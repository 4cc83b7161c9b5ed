"""Sliding blocks: nn.Unfold / F.unfold (im2col) and nn.Fold / F.fold (col2im), 2-D only.

Unfold takes ``(N, C, H, W)`` (or ``(C, H, W)``) to ``(N, C * kh * kw, L)``, L the number of
blocks (a convolution's output positions); Fold takes ``(N, C * kh * kw, L)`` back to
``(N, C, *output_size)``, L being the blocks that output_size holds."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Problem, Shape, along_axes, dim_text, first_of, invalid, shape_text, sized,
    too_small, wrong_rank,
)
from conv_lint.records import record

_RULES = {  # torch's check of each argument's values; the lengths are checked first
    "kernel_size": (1, "kernel size should be greater than zero"),
    "dilation": (1, "dilation should be greater than zero"),
    "padding": (0, "padding should be non-negative"),
    "stride": (1, "stride should be greater than zero"),
}
_UNFOLD_ORDER = ("kernel_size", "dilation", "padding", "stride")
_FOLD_ORDER = ("kernel_size", "stride", "dilation", "padding")


def _pair(value) -> Optional[tuple]:
    return along_axes(value, 2)


def _argument_problems(b: dict, names: tuple, order: tuple):
    for name in names:  # torch converts each to two ints in signature order
        value = b[name]
        if isinstance(value, tuple) and len(value) != 2:
            yield invalid(name, f"It is expected {name} equals to 2, but got size {len(value)}")
    for name in order:
        minimum, wording = _RULES[name]
        values = _pair(b[name])
        if values is not None and min(values) < minimum:
            yield invalid(name, f"{wording}, but got {name}={b[name]}")


def _blocks(n, k: int, s: int, p: int, d: int):
    """Blocks along one axis, as torch counts them (a floor division)."""
    if type(n) is int:
        return (n + 2 * p - d * (k - 1) - 1) // s + 1
    return sizes.conv_out(n, k, s, p, d) if sized(n) else None


def _geometry(b: dict) -> Optional[tuple]:
    values = [_pair(b[name]) for name in ("kernel_size", "stride", "padding", "dilation")]
    return None if None in values else tuple(zip(*values))  # per axis: (k, s, p, d)


def _empty_axis(shape: Shape, first: int) -> Optional[Problem]:
    """CNV105 for an axis of size 0 after the batch: torch takes no empty block or map."""
    if any(type(n) is int and n == 0 for n in shape[first:]):
        return too_small(f"cannot take an input with an empty axis (input {shape_text(shape)})")
    return None


@record(frozen=True)
class Unfold(Family):
    """nn.Unfold and F.unfold."""

    def check(self, b: dict) -> list:
        return first_of(*_argument_problems(b, _UNFOLD_ORDER, _UNFOLD_ORDER))

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) not in (3, 4):
            return None, [wrong_rank("3D (unbatched) or 4D (batched)", shape)]
        problem = _empty_axis(shape, len(shape) - 3)
        geometry = _geometry(b)
        if problem is not None or geometry is None:
            return None, first_of(problem)
        blocks = [_blocks(n, *axis) for n, axis in zip(shape[-2:], geometry)]
        if any(type(n) is int and n < 1 for n in blocks):
            return None, [too_small(f"gives {' x '.join(map(dim_text, blocks))} blocks: the "
                                    f"kernel is larger than the padded input "
                                    f"{shape_text(shape)}")]
        kernel = geometry[0][0] * geometry[1][0]
        channels = sizes.product([shape[-3], kernel]) if sized(shape[-3]) else None
        return shape[:-3] + (channels, sizes.product(blocks)), []


@record(frozen=True)
class Fold(Family):
    """nn.Fold and F.fold."""

    def check(self, b: dict) -> list:
        names = ("output_size",) + _UNFOLD_ORDER
        return first_of(*_argument_problems(b, names, _FOLD_ORDER))

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) not in (2, 3):
            return None, [wrong_rank("2D (unbatched) or 3D (batched)", shape)]
        problem = _empty_axis(shape, len(shape) - 2)
        geometry, output = _geometry(b), _pair(b["output_size"])
        if problem is not None or geometry is None or output is None:
            return None, first_of(problem)
        columns, count = shape[-2:]
        kernel = geometry[0][0] * geometry[1][0]
        if not sized(columns):
            return None, []  # the batch read as columns: nothing sure to say
        if type(columns) is int and columns % kernel:
            return None, [invalid(None, f"expects input.size({len(shape) - 2}) divisible by "
                                        f"the kernel's {kernel} elements, got {columns}")]
        blocks = [_blocks(n, *axis) for n, axis in zip(output, geometry)]
        expected = blocks[0] * blocks[1]
        if sized(count) and sizes.proven_different(count, expected):
            return None, [invalid(None, f"output_size={b['output_size']} holds {blocks[0]} * "
                                        f"{blocks[1]} = {expected} blocks, but the input has "
                                        f"{dim_text(count)}")]
        if min(blocks) < 1:
            return None, [too_small(f"output_size={b['output_size']} holds {blocks[0]} x "
                                    f"{blocks[1]} blocks (non-positive)")]
        channels = columns // kernel if type(columns) is int else None
        return shape[:-2] + (channels,) + output, []
