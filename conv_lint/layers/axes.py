"""Axes moved and repeated: x.t(), movedim, repeat, tile and expand."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Shape, as_int, as_ints, axis_index, dim_problem, invalid, wrong_rank,
)


def _dims(value) -> Optional[tuple]:
    """An int-or-tuple dims argument as a tuple of ints, else None."""
    return (value,) if as_int(value) is not None else as_ints(value)


def _sizes(value, batch: bool = False) -> Optional[tuple]:
    """``x.repeat(2, 1)`` or ``x.repeat((2, 1))``: the ints given, else None; with ``batch``,
    ``x.size(0)`` may stand among them (``cls.expand(x.size(0), -1, -1)``)."""
    if isinstance(value, tuple) and len(value) == 1 and isinstance(value[0], tuple):
        value = value[0]
    if batch and isinstance(value, tuple) and all(
            v is sizes.BATCH or type(v) is int for v in value):
        return value
    return _dims(value)


def _times(dim, count: int):
    """An axis of size ``dim`` repeated ``count`` times: exact for ints, kept when once."""
    if count == 1:
        return dim
    if type(dim) is int:
        return dim * count
    return 0 if count == 0 else None  # a batch or symbolic size times k: no claim


class MatrixTranspose(Family):
    """x.t() / torch.t: a matrix transposed, a vector or a scalar as it is; more axes fail."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) > 2:
            return None, [wrong_rank("2D or lower", shape)]
        return tuple(reversed(shape)), []


class MoveDim(Family):
    """x.movedim(source, destination): the source axes land at the destination positions, the
    other axes keep their order."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        source, destination = _dims(b["source"]), _dims(b["destination"])
        if source is None or destination is None:
            return None, []
        rank = len(shape)
        if len(source) != len(destination):
            return None, [invalid("destination", f"movedim: {len(source)} source dims but "
                                                 f"{len(destination)} destination dims")]
        for name, dims in (("source", source), ("destination", destination)):
            for d in dims:
                problem = dim_problem(d, rank, name, shape)
                if problem is not None:
                    return None, [problem]
        moved = [axis_index(d, rank) for d in source]
        places = [axis_index(d, rank) for d in destination]
        for name, axes in (("source", moved), ("destination", places)):
            if len(set(axes)) != len(axes):
                return None, [invalid(name, f"movedim: repeated dim in {name} {list(axes)}")]
        out: list = [None] * rank
        for axis, place in zip(moved, places):
            out[place] = shape[axis]
        rest = iter(n for i, n in enumerate(shape) if i not in moved)
        return tuple(next(rest) if i not in places else out[i] for i in range(rank)), []


class Repeat(Family):
    """x.repeat(*sizes), and x.tile(dims) (``pads``: fewer counts than axes are padded with 1s):
    each axis times its count, new leading axes for extra counts."""

    def __init__(self, arg: str, pads: bool = False) -> None:
        self.arg, self.pads = arg, pads

    def apply(self, b: dict, shape: Shape) -> tuple:
        counts = _sizes(b[self.arg])
        if not counts or any(c < 0 for c in counts):  # x.repeat(): a TypeError, not a shape
            return None, []
        rank = len(shape)
        if len(counts) < rank:
            if not self.pads:
                return None, [wrong_rank(f"{len(counts)}D or lower", shape)]
            counts = (1,) * (rank - len(counts)) + counts
        padded = (1,) * (len(counts) - rank) + tuple(shape)
        return tuple(_times(n, c) for n, c in zip(padded, counts)), []


class Expand(Family):
    """x.expand(*sizes): axes of size 1 stretched, -1 keeps an axis, new axes in front."""

    reads_batch = True  # cls_token.expand(x.size(0), -1, -1)

    def apply(self, b: dict, shape: Shape) -> tuple:
        wanted = _sizes(b["size"], batch=True)
        if not wanted:
            return None, []
        extra = len(wanted) - len(shape)
        if extra < 0:
            return None, [wrong_rank(f"{len(wanted)}D or lower", shape)]
        out = []
        for i, size in enumerate(wanted):
            current = shape[i - extra] if i >= extra else None
            if size is sizes.BATCH:  # the batch size: kept, or stretched from 1
                out.append(size if current in (1, sizes.BATCH) or i < extra else None)
            elif i < extra:
                if size < 0:
                    return None, [invalid("size", f"expand: size {size} in a new leading axis")]
                out.append(size)
            elif size == -1:
                out.append(current)
            elif size < -1:
                return None, []
            elif current == size or current == 1:
                out.append(size)
            elif type(current) is int:
                return None, [invalid("size", f"expand: size {size} does not match the existing "
                                              f"size {current} of axis {i}")]
            elif current is sizes.BATCH or current is None or sizes.can_be(current, size) \
                    is not False:
                out.append(None)  # maybe the size, maybe 1: torch gives ``size`` if it runs
            else:
                return None, []
        return tuple(out), []
