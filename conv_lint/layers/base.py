"""What every family shares: :class:`Problem`, the :class:`Family` base, and the helpers
that read arguments and dims and word the problems."""

from __future__ import annotations

from typing import Optional, Union

from conv_lint.algebra import sizes
from conv_lint.algebra.symbols import Poly
from conv_lint.interpreter.values import UNKNOWN
from conv_lint.records import record

Shape = tuple
Channels = Union[int, Poly]  # a channel or feature count, exact in unresolved parameters


@record(frozen=True)
class Problem:
    """A code from codes.py with its template fields (the interpreter adds `layer` and `source`)."""

    code: str
    fields: dict
    arg: Optional[str] = None  # the argument the problem is about, for pointing at it
    when: str = "init"  # "init": torch's constructor raises; "forward": the call raises


@record(frozen=True)
class Shaped:
    """A tensor given to or given by a layer whose forward takes several tensors or returns a
    structure (LSTM's ``(output, (h_n, c_n))``): its full shape, None when unknown."""

    shape: Optional[Shape] = None


def invalid(arg: Optional[str], detail: str, when: str = "forward") -> Problem:
    """CNV110: an argument torch rejects (``detail`` says why)."""
    return Problem("CNV110", {"detail": detail}, arg, when)


def too_small(detail: str, arg: Optional[str] = None) -> Problem:
    """CNV105: the input is too small for the layer (a kernel larger than the padded map)."""
    return Problem("CNV105", {"detail": detail}, arg, "forward")


def wrong_rank(expected: str, shape: Shape) -> Problem:
    """CNV111: the input has a rank the layer does not take."""
    return Problem("CNV111", {"expected": expected, "got": shape_text(shape)}, None, "forward")


# ---------------------------------------------------------------- reading arguments and dims


def as_int(value) -> Optional[int]:
    """``value`` if it is a plain int (a bool is a flag, not a size), else None."""
    return value if type(value) is int else None


def as_channels(value) -> Optional[Channels]:
    """A channel or feature count: a plain int, or a Poly of unresolved parameters; else None."""
    return value if type(value) is int or isinstance(value, Poly) else None


def as_ints(value) -> Optional[tuple]:
    """A tuple of plain ints, else None."""
    if isinstance(value, tuple) and all(type(v) is int for v in value):
        return value
    return None


def as_number(value) -> Optional[float]:
    """``value`` if it is a plain int or float (not a bool), else None."""
    return value if type(value) in (int, float) else None


def as_flag(value) -> Optional[bool]:
    """Python truthiness of a plain value (torch tests flags with `if`); None if not plain."""
    if value is None or isinstance(value, (bool, int, float, str, tuple)):
        return bool(value)
    return None


def along_axes(value, rank: int) -> Optional[tuple]:
    """An int-or-tuple argument as one int per axis, expanded the way torch expands it."""
    if as_int(value) is not None:
        return (value,) * rank
    values = as_ints(value)
    if values is None or len(values) not in (1, rank):
        return None
    return values * rank if len(values) == 1 else values


def sized(dim) -> bool:
    """A dim that is a size: known, and not the batch axis."""
    return dim is not None and dim is not sizes.BATCH


def differs(expected, got) -> bool:
    """Is ``got`` (a dim) different from ``expected`` for every valid input size?"""
    return sized(got) and sizes.proven_different(got, expected)


def dim_text(dim) -> str:
    """A dim as messages show it: ``?`` when unknown."""
    return "?" if dim is None else str(sizes.describe(dim))


def shape_text(shape: Shape) -> str:
    """A shape as messages show it: ``(N, 3, 32, 32)``."""
    return "(" + ", ".join(dim_text(d) for d in shape) + ")"


def spatial_ranks(rank: int) -> str:
    """The ranks a layer of ``rank`` spatial axes takes, as torch words them."""
    return f"{rank + 1}D (unbatched) or {rank + 2}D (batched)"


def axis_index(dim, rank: int) -> Optional[int]:
    """``dim`` wrapped into 0..rank-1 as torch does (a 0-d tensor counts as 1-d); None if out."""
    span = max(rank, 1)
    if dim is None or not -span <= dim < span:
        return None
    return dim % span


def at_least(dim: int) -> str:
    """The ranks in which axis ``dim`` exists (``2D or higher`` for dim 1 or -2)."""
    return or_higher(dim + 1 if dim >= 0 else -dim)


def or_higher(rank: int) -> str:
    """``{rank}D or higher``."""
    return f"{rank}D or higher"


def dim_problem(dim, rank: int, arg: str, shape: Shape) -> Optional[Problem]:
    """CNV111 when a known ``dim`` argument is out of range for a tensor of ``rank`` axes."""
    value = as_int(dim)
    if value is None or axis_index(value, rank) is not None:
        return None
    return Problem("CNV111", {"expected": at_least(value), "got": shape_text(shape)}, arg,
                   "forward")


def tuple_lengths(bound: dict, names, allowed, rank: int) -> Optional[Problem]:
    """CNV110 for a tuple argument whose length torch rejects (it allows ``allowed`` lengths)."""
    for name in names:
        value = bound.get(name)
        if isinstance(value, tuple) and len(value) not in allowed:
            return invalid(name, f"{name}={value} needs {_count(allowed)} for {rank}d input")
    return None


def _count(allowed) -> str:
    if not allowed:
        return "a single int"
    return " or ".join(f"{n} value{'s' if n > 1 else ''}" for n in sorted(set(allowed)))


def below(bound: dict, name: str, minimum: int, rank: int, what: str,
          when: str = "forward") -> Optional[Problem]:
    """CNV110 when some axis of a known argument is below ``minimum``."""
    values = along_axes(bound.get(name), rank)
    if values is not None and any(v < minimum for v in values):
        return invalid(name, f"{name} must be {what} (got {bound[name]})", when)
    return None


def not_positive(bound: dict, name: str) -> list:
    """[CNV110] when a known int argument is zero or negative, else []."""
    value = as_int(bound[name])
    if value is not None and value <= 0:
        return [invalid(name, f"{name} must be positive (got {value})")]
    return []


def all_known(value) -> bool:
    """A plain value with no UNKNOWN in it (tuples looked into)."""
    if isinstance(value, tuple):
        return all(all_known(v) for v in value)
    return value is not UNKNOWN


def outcome(shape: Shape, problems: list) -> tuple:
    """(shape, []) when torch runs; (None, problems) when it raises."""
    return (None, problems) if problems else (shape, [])


def first_of(*problems: Optional[Problem]) -> list:
    """The first problem torch would raise: checks are listed in torch's order."""
    for problem in problems:
        if problem is not None:
            return [problem]
    return []


def kernel_detail(k: int, d: int, n: int, p: int) -> str:
    """CNV105's detail when a (dilated) kernel outgrows the padded input: convolutions, pools."""
    kernel = f"kernel {k}" if d == 1 else f"dilated kernel {d * (k - 1) + 1} (kernel {k}, " \
                                          f"dilation {d})"
    return f"{kernel} is larger than the padded input {n + 2 * p} (input {n}, padding {p})"


# ---------------------------------------------------------------- families


class Family:
    """The rules one family of layers shares. Subclasses override what differs."""

    elementwise = False  # the output has the input's shape, whatever it is
    # its arguments may hold sizes read from a tensor: the batch (x.size(0)) as sizes.BATCH,
    # a symbolic size (x.shape[2]) as itself
    reads_batch = False
    extra_inputs = False  # its forward takes more tensors than one (EmbeddingBag's offsets)
    token_ids = False  # its input is token ids of any rank (Embedding)
    takes_layers = False  # its arguments may be layers (TransformerEncoder's encoder_layer)

    def check(self, bound: dict) -> list:
        return []

    def apply(self, bound: dict, shape: Shape) -> tuple:
        return shape, []

    def params(self, bound: dict) -> Optional[int]:
        return 0

    def forward(self, bound: dict, call: dict) -> tuple:
        """(result, problems) of an entry with a call signature (LayerType.call): ``call`` binds
        forward's arguments, tensors as :class:`Shaped`; the result is a Shaped, None, UNKNOWN
        or a tuple of them, as torch's forward returns it."""
        return UNKNOWN, []

    def parameter_shape(self, bound: dict, name: str) -> Optional[tuple]:
        """The shape of the layer's parameter or buffer ``name`` (``conv.weight``), if known."""
        return None

    def in_channels(self, bound: dict) -> Optional[Channels]:
        return None

    def spatial_rank(self, bound: dict) -> Optional[int]:
        """The spatial axes an input must have (batch and channels first), when the arguments
        alone say so and the named convs, pools and norms do not: an einops pattern's."""
        return None

    def out_channels(self, bound: dict) -> Optional[Channels]:
        return None

    def materialised(self, bound: dict, shape: Optional[Shape]) -> Optional[dict]:
        """A lazy layer's arguments once a call on ``shape`` fixed its in-size, else None."""
        return None

    def becomes(self, bound: dict) -> Optional[str]:
        """The class torch turns the module into (a lazy layer after its first call)."""
        return None

    def demands(self, bound: dict, shape: Shape) -> dict:
        """{argument: the int this input shape requires of it}, for the size arguments that
        must equal what the layer receives (in_channels, num_features...): what a fix writes."""
        return {}


def demand(name: str, dim) -> dict:
    """``{name: dim}`` when ``dim`` is a concrete size, else {}: a fix needs an exact value."""
    return {name: dim} if type(dim) is int and dim > 0 else {}
