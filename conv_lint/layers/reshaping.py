"""Reshaping: flatten, unflatten, squeeze, unsqueeze, permute, transpose and reductions."""

from __future__ import annotations


from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Problem, Shape, as_flag, as_int, as_ints, at_least, axis_index, differs, dim_problem,
    dim_text, first_of, invalid, shape_text, too_small, wrong_rank,
)


class Flatten(Family):
    """nn.Flatten (start_dim=1), torch.flatten and x.flatten (start_dim=0)."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        start, end, rank = as_int(b["start_dim"]), as_int(b["end_dim"]), len(shape)
        if start is None or end is None:
            return None, []
        for name, value in (("start_dim", start), ("end_dim", end)):
            problem = dim_problem(value, rank, name, shape)
            if problem is not None:
                return None, [problem]
        if rank == 0:
            return (1,), []
        first, last = start % rank, end % rank
        if first > last:
            return None, [invalid("start_dim", f"start_dim={start} comes after end_dim={end} "
                                               f"for a {rank}D input")]
        if first == last:
            return shape, []
        return shape[:first] + (sizes.product(shape[first:last + 1]),) + shape[last + 1:], []


class Unflatten(Family):
    def check(self, b: dict) -> list:
        value = b["unflattened_size"]
        if as_int(value) is not None:
            return [invalid("unflattened_size", "unflattened_size must be a tuple of ints",
                            "init")]
        values = as_ints(value)
        if values is None:
            return []
        if not values:
            return [invalid("unflattened_size", "unflattened_size must not be empty")]
        if values.count(-1) > 1 or any(v < -1 for v in values):
            return [invalid("unflattened_size", f"unflattened_size={value} may hold one -1 and "
                                                "otherwise sizes >= 0")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, values = as_int(b["dim"]), as_ints(b["unflattened_size"])
        problem = dim_problem(dim, len(shape), "dim", shape)
        if problem is not None or dim is None or values is None or not shape:
            return None, first_of(problem)
        axis = dim % len(shape)
        n, known = shape[axis], 1
        for v in values:
            known *= v if v != -1 else 1
        wrong = invalid("unflattened_size", f"unflattened_size={values} does not multiply up "
                                            f"to the size {dim_text(n)} of dim {dim}")
        if type(n) is int:
            if not (n % known == 0 if -1 in values and known else n == known):
                return None, [wrong]
        elif -1 not in values and differs(known, n):
            return None, [wrong]
        inferred = n // known if type(n) is int and known else None
        new = tuple(inferred if v == -1 else v for v in values)
        return shape[:axis] + new + shape[axis + 1:], []


def _named_axes(dim, shape: Shape) -> tuple:
    """The axes an int or tuple ``dim`` argument names, as a list: (axes, []); (None, []) when
    it is not known, (None, [problem]) when a dim is out of range."""
    rank = len(shape)
    dims = (dim,) if as_int(dim) is not None else as_ints(dim)
    if dims is None:
        return None, []
    for d in dims:
        problem = dim_problem(d, rank, "dim", shape)
        if problem is not None:
            return None, [problem]
    return [axis_index(d, rank) for d in dims], []


class Squeeze(Family):
    """torch.squeeze / x.squeeze: drops axes of size 1 (the batch is taken to be above 1)."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, rank = b["dim"], len(shape)
        if dim is None or dim == ():
            axes = range(rank)
        else:
            axes, problems = _named_axes(dim, shape)
            if axes is None:
                return None, problems
        kept = []
        for i, n in enumerate(shape):
            if i not in axes or n is sizes.BATCH:
                kept.append(n)
            elif type(n) is int:
                kept += [n] if n != 1 else []
            elif n is None or sizes.can_be(n, 1) is not False:
                return None, []  # maybe 1, maybe not: the rank is unknown
            else:
                kept.append(n)
        return tuple(kept), []


class Unsqueeze(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        dim = as_int(b["dim"])
        if dim is None:
            return None, []
        if not -len(shape) - 1 <= dim <= len(shape):
            return None, [Problem("CNV111", {"expected": at_least(dim + 1 if dim < 0 else dim - 1),
                                             "got": shape_text(shape)}, "dim", "forward")]
        axis = dim % (len(shape) + 1)
        return shape[:axis] + (1,) + shape[axis:], []


class Permute(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        dims = b["dims"]
        if isinstance(dims, tuple) and len(dims) == 1 and isinstance(dims[0], tuple):
            dims = dims[0]  # x.permute((0, 2, 1))
        dims = as_ints(dims)
        if dims is None:
            return None, []
        if len(dims) != len(shape):
            return None, [wrong_rank(f"{len(dims)}D", shape)]
        for d in dims:
            problem = dim_problem(d, len(shape), "dims", shape)
            if problem is not None:
                return None, [problem]
        axes = [d % len(shape) for d in dims]
        if len(set(axes)) != len(axes):
            return None, [invalid("dims", f"permute dims {dims} repeat an axis")]
        return tuple(shape[a] for a in axes), []


class Transpose(Family):
    """x.transpose(dim0, dim1), and swapaxes / swapdims under their own argument names."""

    def __init__(self, first: str = "dim0", second: str = "dim1") -> None:
        self.first, self.second = first, second

    def apply(self, b: dict, shape: Shape) -> tuple:
        first, second = as_int(b[self.first]), as_int(b[self.second])
        for name, value in ((self.first, first), (self.second, second)):
            problem = dim_problem(value, len(shape), name, shape)
            if problem is not None:
                return None, [problem]
        if first is None or second is None:
            return None, []
        if not shape:
            return shape, []
        out = list(shape)
        i, j = first % len(shape), second % len(shape)
        out[i], out[j] = out[j], out[i]
        return tuple(out), []


class Reduce(Family):
    """x.mean, sum, amax, std, argmax... over ``dim`` (all axes when None or ()), the reduced
    axes kept as 1 with ``keepdim``. ``single``: dim is one axis or None (argmax, argmin);
    ``nonempty``: an axis of size 0 cannot be reduced (amax, amin, argmax, argmin)."""

    def __init__(self, single: bool = False, nonempty: bool = False) -> None:
        self.single, self.nonempty = single, nonempty

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, keep = b["dim"], as_flag(b["keepdim"])
        if keep is None or (self.single and dim is not None and as_int(dim) is None):
            return None, []
        rank = len(shape)
        if dim is None or dim == ():
            axes = set(range(rank))
        else:
            axes, problems = _named_axes(dim, shape)
            if axes is None:
                return None, problems
            if len(set(axes)) != len(axes):
                return None, [invalid("dim", f"dim {dim} names an axis twice")]
        if self.nonempty and any(shape[i] == 0 and type(shape[i]) is int for i in axes):
            return None, [too_small(f"reduces an axis of size 0 of {shape_text(shape)}")]
        return tuple(1 if i in axes else n for i, n in enumerate(shape)
                     if keep or i not in axes), []
