"""The layer catalogue: torch's layers and functions as data.

Each entry (:class:`LayerType`) knows its torch signature, what torch rejects among its arguments
(:meth:`LayerType.check`), how it maps an input shape to an output shape and where its forward
raises (:meth:`LayerType.apply`), and how many parameters it has. Entries of one family (every
ConvNd, every pad, every activation) share one small :class:`Family` object parametrised by rank or
mode; the tables at the bottom of this file list the entries.

Arguments are plain Python values or ``UNKNOWN``; shapes are full shapes (dim 0 is
``sizes.BATCH`` when batched) whose dims are ints, symbolic sizes or ``None``. Precision first: a
check that involves anything unknown stays silent, and a problem is reported only where torch
itself raises (checked against torch in tests/test_layers.py).

A :class:`Problem` says ``when`` torch raises it: ``"init"`` (the constructor) or ``"forward"``
(the call). ``check`` reports the first argument error alone; ``apply`` then stays silent (the
layer cannot run) and otherwise reports the first error of the call, in torch's order.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, replace
from typing import Optional

from conv_lint import sizes
from conv_lint.values import UNKNOWN

Shape = tuple
NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Problem:
    """A code from codes.py with its template fields (the interpreter adds `layer` and `source`)."""

    code: str
    fields: dict
    arg: Optional[str] = None  # the argument the problem is about, for pointing at it
    when: str = "init"  # "init": torch's constructor raises; "forward": the call raises


def _invalid(arg: Optional[str], detail: str, when: str = "forward") -> Problem:
    return Problem("CNV110", {"detail": detail}, arg, when)


def _too_small(detail: str, arg: Optional[str] = None) -> Problem:
    return Problem("CNV105", {"detail": detail}, arg, "forward")


def _wrong_rank(expected: str, shape: Shape) -> Problem:
    return Problem("CNV111", {"expected": expected, "got": shape_text(shape)}, None, "forward")


# ---------------------------------------------------------------- reading arguments and dims


def _int(value) -> Optional[int]:
    """``value`` if it is a plain int (a bool is a flag, not a size), else None."""
    return value if type(value) is int else None


def _ints(value) -> Optional[tuple]:
    """A tuple of plain ints, else None."""
    if isinstance(value, tuple) and all(type(v) is int for v in value):
        return value
    return None


def _number(value) -> Optional[float]:
    return value if type(value) in (int, float) else None


def _flag(value) -> Optional[bool]:
    """Python truthiness of a plain value (torch tests flags with `if`); None if not plain."""
    if value is None or isinstance(value, (bool, int, float, str, tuple)):
        return bool(value)
    return None


def _per_axis(value, rank: int) -> Optional[tuple]:
    """An int-or-tuple argument as one int per axis, expanded the way torch expands it."""
    if _int(value) is not None:
        return (value,) * rank
    values = _ints(value)
    if values is None or len(values) not in (1, rank):
        return None
    return values * rank if len(values) == 1 else values


def _sized(dim) -> bool:
    return dim is not None and dim is not sizes.BATCH


def _differs(expected: int, got) -> bool:
    """Is ``got`` (a dim) different from ``expected`` for every valid input size?"""
    return _sized(got) and sizes.proven_different(got, expected)


def dim_text(dim) -> str:
    return "?" if dim is None else str(sizes.describe(dim))


def shape_text(shape: Shape) -> str:
    return "(" + ", ".join(dim_text(d) for d in shape) + ")"


def _spatial_ranks(rank: int) -> str:
    return f"{rank + 1}D (unbatched) or {rank + 2}D (batched)"


def _axis(dim, rank: int) -> Optional[int]:
    """``dim`` wrapped into 0..rank-1 as torch does (a 0-d tensor counts as 1-d); None if out."""
    span = max(rank, 1)
    if dim is None or not -span <= dim < span:
        return None
    return dim % span


def _at_least(dim: int) -> str:
    return _or_higher(dim + 1 if dim >= 0 else -dim)


def _or_higher(rank: int) -> str:
    return f"{rank}D or higher"


def _dim_problem(dim, rank: int, arg: str, shape: Shape) -> Optional[Problem]:
    """CNV111 when a known ``dim`` argument is out of range for a tensor of ``rank`` axes."""
    value = _int(dim)
    if value is None or _axis(value, rank) is not None:
        return None
    return Problem("CNV111", {"expected": _at_least(value), "got": shape_text(shape)}, arg,
                   "forward")


def _lengths(bound: dict, names, allowed, rank: int) -> Optional[Problem]:
    """CNV110 for a tuple argument whose length torch rejects (it allows ``allowed`` lengths)."""
    for name in names:
        value = bound.get(name)
        if isinstance(value, tuple) and len(value) not in allowed:
            return _invalid(name, f"{name}={value} needs {_count(allowed)} for {rank}d input")
    return None


def _count(allowed) -> str:
    if not allowed:
        return "a single int"
    return " or ".join(f"{n} value{'s' if n > 1 else ''}" for n in sorted(set(allowed)))


def _below(bound: dict, name: str, minimum: int, rank: int, what: str,
           when: str = "forward") -> Optional[Problem]:
    """CNV110 when some axis of a known argument is below ``minimum``."""
    values = _per_axis(bound.get(name), rank)
    if values is not None and any(v < minimum for v in values):
        return _invalid(name, f"{name} must be {what} (got {bound[name]})", when)
    return None


def _known(value) -> bool:
    """A plain value with no UNKNOWN in it (tuples looked into)."""
    if isinstance(value, tuple):
        return all(_known(v) for v in value)
    return value is not UNKNOWN


def _result(shape: Shape, problems: list) -> tuple:
    """(shape, []) when torch runs; (None, problems) when it raises."""
    return (None, problems) if problems else (shape, [])


def _first(*problems: Optional[Problem]) -> list:
    """The first problem torch would raise: checks are listed in torch's order."""
    for problem in problems:
        if problem is not None:
            return [problem]
    return []


# ---------------------------------------------------------------- families


class Family:
    """The rules one family of layers shares. Subclasses override what differs."""

    elementwise = False  # the output has the input's shape, whatever it is

    def check(self, bound: dict) -> list:
        return []

    def apply(self, bound: dict, shape: Shape) -> tuple:
        return shape, []

    def params(self, bound: dict) -> Optional[int]:
        return 0

    def in_channels(self, bound: dict) -> Optional[int]:
        return None

    def out_channels(self, bound: dict) -> Optional[int]:
        return None


# ---- convolutions

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class Conv(Family):
    """ConvNd and ConvTransposeNd.

    torch's order at the call: (F.pad for a padding_mode other than zeros), the input rank, the
    argument lengths, negative padding and non-positive stride, the channels, then dilation,
    the kernel against the input, and last what the kernels themselves reject."""

    rank: int
    transposed: bool = False

    def check(self, b: dict) -> list:
        init = _first(*self._init_problems(b))
        if init or self._pads_first(b):  # F.pad's shape-dependent errors come first: apply()
            return init
        return _first(*self._early_problems(b), *self._late_problems(b))

    def _init_problems(self, b: dict):
        mode, padding = b["padding_mode"], b["padding"]
        if self.transposed and isinstance(mode, str) and mode != "zeros":
            yield _invalid("padding_mode", f"only padding_mode='zeros' is supported "
                                           f"(got {mode!r})", "init")
        groups = _int(b["groups"])
        if groups is not None and groups <= 0:
            yield _invalid("groups", f"groups must be a positive integer (got {groups})", "init")
        elif groups is not None:
            for name in ("in_channels", "out_channels"):
                value = _int(b[name])
                if value is not None and value % groups:
                    yield Problem("CNV109", {"what": name, "value": value, "groups": groups},
                                  "groups", "init")
        if isinstance(padding, str) and not self.transposed:  # ConvTranspose pairs the string
            if padding not in ("same", "valid"):
                yield _invalid("padding", f"padding={padding!r} is not 'same' or 'valid'",
                               "init")
            stride = (b["stride"],) if _int(b["stride"]) is not None else _ints(b["stride"])
            if padding == "same" and stride is not None and any(s != 1 for s in stride):
                yield Problem("CNV108", {"stride": b["stride"]}, "stride", "init")
        if isinstance(mode, str) and mode not in _PADDING_MODES:
            yield _invalid("padding_mode", f"padding_mode={mode!r} is not one of "
                                           f"{', '.join(_PADDING_MODES)}", "init")
        kernel = self._raw(b["kernel_size"])
        if kernel is not None and any(k < 0 for k in kernel):  # the weight cannot be allocated
            yield _invalid("kernel_size", f"kernel_size must be positive (got "
                                          f"{b['kernel_size']})", "init")

    def _early_problems(self, b: dict):
        """Argument errors torch raises before it looks at the channels."""
        r = self.rank
        if isinstance(b["padding"], str) and self.transposed:
            yield _invalid("padding", f"padding={b['padding']!r}: transposed convolutions take "
                                      "int padding only")
        kernel = b["kernel_size"]
        if isinstance(kernel, tuple) and len(kernel) != r:
            yield _invalid("kernel_size", f"kernel_size={kernel} needs {r} values for a "
                                          f"{r}d convolution")
        padded_here = not self._pads_first(b)
        names = ("stride", "dilation") + (("padding",) if padded_here else ()) + \
            (("output_padding",) if self.transposed else ())
        yield _lengths(b, names, (1, r), r)
        if not isinstance(b["padding"], str) and padded_here:
            yield _below(b, "padding", 0, r, "non-negative")
        if self.transposed:
            yield _below(b, "output_padding", 0, r, "non-negative")
        yield _below(b, "stride", 1, r, "positive")

    def _late_problems(self, b: dict):
        """Argument errors torch raises after the channel and kernel-size checks."""
        r = self.rank
        # some of torch's kernels run a transposed conv with dilation 0, others raise: no claim
        yield _below(b, "dilation", 0 if self.transposed else 1, r,
                     "non-negative" if self.transposed else "positive")
        if self.transposed:
            yield self._output_padding_problem(b)
        yield _below(b, "kernel_size", 1, r, "positive")

    def _output_padding_problem(self, b: dict) -> Optional[Problem]:
        r = self.rank
        op, s, d = (_per_axis(b[name], r) for name in ("output_padding", "stride", "dilation"))
        if op is None or s is None or d is None:
            return None
        if any(o >= si and o >= di for o, si, di in zip(op, s, d)):
            return _invalid("output_padding", f"output_padding={b['output_padding']} must be "
                            f"smaller than stride={b['stride']} or dilation={b['dilation']}")
        return None

    def _raw(self, value) -> Optional[tuple]:
        """An argument as torch's _pair/_triple leaves it: an int repeated, a tuple unchanged."""
        return (value,) * self.rank if _int(value) is not None else _ints(value)

    def _pads_first(self, b: dict) -> bool:
        """A padding_mode other than zeros: torch pads with F.pad, then convolves unpadded."""
        mode = b["padding_mode"]
        return not self.transposed and isinstance(mode, str) and mode != "zeros"

    def _explicit_pads(self, b: dict) -> Optional[tuple]:
        """The pad tuple torch hands F.pad (last axis first), built exactly as torch builds it."""
        padding = b["padding"]
        kernel, dilation = self._raw(b["kernel_size"]), self._raw(b["dilation"])
        if isinstance(padding, str):
            if kernel is None or (padding == "same" and dilation is None):
                return None
            pads = [0, 0] * len(kernel)
            if padding == "same":
                for d, k, i in zip(dilation, kernel, range(len(kernel) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            return tuple(pads)
        values = self._raw(padding)
        return None if values is None else tuple(v for v in reversed(values) for _ in (0, 1))

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        pads_first = self._pads_first(b)
        if pads_first:
            pads = self._explicit_pads(b)
            if pads is None:
                return None, []
            shape, problem = _pad_shape(b["padding_mode"], pads, shape)
            if problem is not None or shape is None:
                return None, _first(problem)
            b = dict(b, padding=0)
        if len(shape) not in (r + 1, r + 2):
            return None, [_wrong_rank(_spatial_ranks(r), shape)]
        early = _first(*self._early_problems(b)) if pads_first else []
        if early:
            return None, early
        if len(shape) == r + 1 and shape[0] is sizes.BATCH:
            return None, []  # torch would read the batch as channels: nothing sure to say
        c = len(shape) - r - 1
        expected = _int(b["in_channels"])
        if expected is not None and _differs(expected, shape[c]):
            return None, [Problem("CNV101", {"expected": expected, "got": dim_text(shape[c])},
                                  "in_channels")]
        dims = []
        for i, n in enumerate(shape[c + 1:]):  # the kernel against the input comes next
            out, problem = self._axis_out(b, i, n)
            if problem is not None:
                return None, [problem]
            dims.append(out)
        late = _first(*self._late_problems(b)) if pads_first else []
        if late:
            return None, late
        return shape[:c] + (_int(b["out_channels"]),) + tuple(dims), []

    def _axis_out(self, b: dict, i: int, n) -> tuple:
        r = self.rank
        k, s, d = (_per_axis(b[name], r) for name in ("kernel_size", "stride", "dilation"))
        padding = b["padding"]
        if k is None or s is None or d is None or not _sized(n):
            return (n if padding == "same" and not self.transposed else None), None
        k, s, d = k[i], s[i], d[i]
        if self.transposed:
            p, op = _per_axis(padding, r), _per_axis(b["output_padding"], r)
            if p is None or op is None:
                return None, None
            out = sizes.conv_transpose_out(n, k, s, p[i], d, op[i])
            # An empty output (0) is rejected by some of torch's kernels only: no claim.
            if type(out) is int and out < 0:
                return None, _too_small(f"output size {out} is negative (input {n}, kernel {k}, "
                                        f"stride {s}, padding {p[i]})")
            return out, None
        if padding == "same":  # stride 1: torch pads d*(k-1) in all, the output keeps the size
            return n, None
        p = _per_axis(0 if padding == "valid" else padding, r)
        if p is None:
            return None, None
        p = p[i]
        problem = None
        if type(n) is int and n + 2 * p < d * (k - 1) + 1:
            problem = _too_small(_kernel_detail(k, d, n, p))
        return sizes.conv_out(n, k, s, p, d), problem

    def params(self, b: dict) -> Optional[int]:
        c_in, c_out, groups = (_int(b[n]) for n in ("in_channels", "out_channels", "groups"))
        kernel, bias = self._raw(b["kernel_size"]), _flag(b["bias"])
        if None in (c_in, c_out, groups, kernel, bias) or groups <= 0:
            return None
        if c_in % groups or c_out % groups or any(k < 0 for k in kernel):
            return None
        weight = c_in * c_out // groups
        for k in kernel:
            weight *= k
        return weight + (c_out if bias else 0)

    def in_channels(self, b: dict) -> Optional[int]:
        return _int(b["in_channels"])

    def out_channels(self, b: dict) -> Optional[int]:
        return _int(b["out_channels"])


def _kernel_detail(k: int, d: int, n: int, p: int) -> str:
    kernel = f"kernel {k}" if d == 1 else f"dilated kernel {d * (k - 1) + 1} (kernel {k}, " \
                                          f"dilation {d})"
    return f"{kernel} is larger than the padded input {n + 2 * p} (input {n}, padding {p})"


# ---- pools


@dataclass(frozen=True)
class Pool(Family):
    """MaxPoolNd, AvgPoolNd, LPPoolNd and their functional twins."""

    rank: int
    kind: str  # "max", "avg" or "lp"

    def _kernel_lengths(self) -> tuple:
        if self.kind == "lp":  # LPPool unpacks the kernel itself: exactly one value per axis
            return () if self.rank == 1 else (self.rank,)
        return (1, self.rank)

    def check(self, b: dict) -> list:
        r, stride = self.rank, b.get("stride")
        kernel = _per_axis(b["kernel_size"], r)
        padding = _per_axis(b.get("padding", 0), r)
        over_half = None
        if kernel is not None and padding is not None and any(
                p > k // 2 for k, p in zip(kernel, padding)):
            over_half = _invalid("padding", f"padding={b.get('padding')} must be at most half "
                                            f"of kernel_size={b['kernel_size']}")
        divisor = b.get("divisor_override")
        return _first(
            _lengths(b, ["kernel_size"], self._kernel_lengths(), r),
            _lengths(b, ["stride", "padding", "dilation"], (1, r), r),
            _below(b, "kernel_size", 1, r, "positive"),
            _below(b, "stride", 1, r, "positive") if stride is not None else None,
            _below(b, "dilation", 1, r, "positive") if "dilation" in b else None,
            _below(b, "padding", 0, r, "non-negative") if "padding" in b else None,
            over_half,
            _invalid("divisor_override", "divisor_override must not be zero")
            if _int(divisor) == 0 else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [_wrong_rank(_spatial_ranks(r), shape)]
        kernel = _per_axis(b["kernel_size"], r)
        stride = kernel if b.get("stride") is None else _per_axis(b["stride"], r)
        padding = _per_axis(b.get("padding", 0), r)
        dilation = _per_axis(b.get("dilation", 1), r)
        ceil = _flag(b.get("ceil_mode", False))
        head, dims = shape[:-r], []
        for i, n in enumerate(shape[-r:]):
            if None in (kernel, stride, padding, dilation, ceil) or not _sized(n):
                dims.append(None)
                continue
            k, s, p, d = kernel[i], stride[i], padding[i], dilation[i]
            if self.kind in ("avg", "lp") and r == 3 and type(n) is int and n < k:
                # avg_pool3d compares the kernel with the unpadded input
                return None, [_too_small(f"kernel {k} is larger than the input {n} "
                                         "(avg_pool3d does not count the padding)")]
            out = sizes.pool_out(n, k, s, p, d, ceil)
            if type(out) is int and out < 1:
                detail = _kernel_detail(k, d, n, p) if n + 2 * p < d * (k - 1) + 1 else \
                    f"output size {out} is below 1 (input {n}, kernel {k}, stride {s}, " \
                    f"padding {p})"
                return None, [_too_small(detail)]
            dims.append(out)
        if _flag(b.get("return_indices", False)) is not False:
            return None, []  # a tuple (values, indices), not one tensor
        return head + tuple(dims), []


@dataclass(frozen=True)
class AdaptivePool(Family):
    """AdaptiveAvg/MaxPoolNd: the output size is the argument; None keeps that axis."""

    rank: int

    def _sizes(self, b: dict) -> Optional[tuple]:
        size = b["output_size"]
        if _int(size) is not None:
            return (size,) * self.rank
        if isinstance(size, tuple) and len(size) == self.rank and all(
                type(v) is int or (v is None and self.rank > 1) for v in size):
            return size
        return None

    def check(self, b: dict) -> list:
        size, r = b["output_size"], self.rank
        if size is None or (isinstance(size, tuple) and (
                len(size) != r or (r == 1 and None in size))):
            return [_invalid("output_size", f"output_size={size} needs "
                             f"{'an int' if r == 1 else f'an int or {r} values'}")]
        sizes_ = self._sizes(b)
        if sizes_ is not None and any(v is not None and v < 0 for v in sizes_):
            return [_invalid("output_size", f"output_size={size} must not be negative")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [_wrong_rank(_spatial_ranks(r), shape)]
        wanted = self._sizes(b)
        dims = []
        for i, n in enumerate(shape[-r:]):
            if n == 0 and type(n) is int:
                return None, [_too_small("cannot pool an empty input axis")]
            dims.append(None if wanted is None else (n if wanted[i] is None else wanted[i]))
        if _flag(b.get("return_indices", False)) is not False:
            return None, []
        return shape[:-r] + tuple(dims), []


# ---- normalisation


def _affine_params(b: dict, flag: str, count: Optional[int]) -> Optional[int]:
    """weight and (unless bias=False) bias of ``count`` elements each, when ``flag`` is on."""
    affine, bias = _flag(b[flag]), _flag(b.get("bias", True))
    if affine is None or bias is None or count is None:
        return None
    return count * (1 + bias) if affine else 0


def _features_problem(b: dict, got, compared: Optional[bool]) -> Optional[Problem]:
    """CNV102 when weights or running stats (``compared``: the layer has some) are sized for
    other features than the input's ``got``. Without either, torch never compares the two."""
    expected = _int(b["num_features"])
    if compared and expected is not None and _differs(expected, got):
        return Problem("CNV102", {"expected": expected, "got": dim_text(got),
                                  "what": "features"}, "num_features")
    return None


def _has_stats_or_weights(b: dict) -> Optional[bool]:
    affine, tracked = _flag(b["affine"]), _flag(b["track_running_stats"])
    return None if affine is None or tracked is None else affine or tracked


@dataclass(frozen=True)
class BatchNorm(Family):
    ranks: tuple  # accepted input ranks; () = any rank from 2 up (SyncBatchNorm)

    elementwise = True

    def apply(self, b: dict, shape: Shape) -> tuple:
        if _rank_ok(shape, self.ranks, 2) is False:
            expected = " or ".join(f"{n}D" for n in self.ranks) if self.ranks else _or_higher(2)
            return None, [_wrong_rank(expected, shape)]
        return _result(shape, _first(_features_problem(b, shape[1], _has_stats_or_weights(b))))

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", _int(b["num_features"]))

    def in_channels(self, b: dict) -> Optional[int]:
        return _int(b["num_features"])

    out_channels = in_channels


def _rank_ok(shape: Shape, ranks: tuple, minimum: int) -> bool:
    return len(shape) in ranks if ranks else len(shape) >= minimum


@dataclass(frozen=True)
class InstanceNorm(Family):
    rank: int

    elementwise = True

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [_wrong_rank(_spatial_ranks(r), shape)]
        channels, spatial = shape[-r - 1], shape[-r:]
        one_element = all(type(n) is int for n in spatial) and sizes.product(spatial) == 1
        # torch's order: the affine weights, the spatial size, then the running stats
        return _result(shape, _first(
            _features_problem(b, channels, _flag(b["affine"])),
            _too_small(f"needs more than 1 spatial element per channel (got "
                       f"{' x '.join(map(str, spatial))})") if one_element else None,
            _features_problem(b, channels, _has_stats_or_weights(b)),
        ))

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", _int(b["num_features"]))

    def in_channels(self, b: dict) -> Optional[int]:
        return _int(b["num_features"])

    out_channels = in_channels


@dataclass(frozen=True)
class GroupNorm(Family):
    """nn.GroupNorm (num_groups, num_channels) and F.group_norm (num_groups only)."""

    elementwise = True

    def check(self, b: dict) -> list:
        groups, channels = _int(b["num_groups"]), _int(b.get("num_channels"))
        if groups is None or channels is None:
            return []
        if groups == 0:
            return [_invalid("num_groups", "num_groups must not be zero", "init")]
        if channels % groups:
            return [Problem("CNV109", {"what": "num_channels", "value": channels,
                                       "groups": groups}, "num_groups", "init")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 2:
            return None, [_wrong_rank(_or_higher(2), shape)]
        groups, channels, got = _int(b["num_groups"]), _int(b.get("num_channels")), shape[1]
        if groups and type(got) is int and got % groups:  # torch checks this first
            return None, [Problem("CNV109", {"what": "input channels", "value": got,
                                             "groups": groups}, "num_groups")]
        if channels is not None and _flag(b.get("affine")) and _differs(channels, got):
            return None, [Problem("CNV102", {"expected": channels, "got": dim_text(got),
                                             "what": "channels"}, "num_channels")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", _int(b.get("num_channels")))

    def in_channels(self, b: dict) -> Optional[int]:
        return _int(b.get("num_channels"))

    out_channels = in_channels


@dataclass(frozen=True)
class LayerNorm(Family):
    """LayerNorm, RMSNorm, F.layer_norm: the last axes must equal normalized_shape."""

    bias_param: bool = True  # RMSNorm has a weight only
    functional: bool = False  # F.layer_norm takes a tuple only

    elementwise = True

    @staticmethod
    def _normalized(b: dict) -> Optional[tuple]:
        value = b["normalized_shape"]
        return (value,) if _int(value) is not None else _ints(value)

    def check(self, b: dict) -> list:
        if b["normalized_shape"] == ():
            return [_invalid("normalized_shape", "normalized_shape must not be empty")]
        if self.functional and _int(b["normalized_shape"]) is not None:
            return [_invalid("normalized_shape", "normalized_shape must be a tuple of ints")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        normalized = self._normalized(b)
        if normalized is None:
            return shape, []
        if len(shape) < len(normalized):
            return None, [_wrong_rank(_or_higher(len(normalized)), shape)]
        got = shape[len(shape) - len(normalized):]
        if any(_differs(e, g) for e, g in zip(normalized, got)):
            if len(normalized) == 1:
                fields = {"expected": normalized[0], "got": dim_text(got[0]),
                          "what": "features on the last axis"}
            else:
                fields = {"expected": shape_text(normalized), "got": shape_text(got),
                          "what": "as the last axes"}
            return None, [Problem("CNV102", fields, "normalized_shape")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        normalized, affine = self._normalized(b), _flag(b.get("elementwise_affine"))
        bias = _flag(b.get("bias", True)) if self.bias_param else False
        if normalized is None or affine is None or bias is None:
            return None
        count = 1
        for n in normalized:
            count *= n
        return count * (1 + bias) if affine else 0


@dataclass(frozen=True)
class LocalResponseNorm(Family):
    elementwise = True

    def check(self, b: dict) -> list:
        size = _int(b["size"])
        return _first(_invalid("size", f"size must be positive (got {size})")
                      if size is not None and size <= 0 else None)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [_wrong_rank(_or_higher(3), shape)]
        return shape, []


# ---- linear layers


def _linear_problem(expected: Optional[int], got, arg: str) -> Optional[Problem]:
    """CNV103; a symbolic ``got`` only when no input size fits, with the sizes that would."""
    if expected is None or not _sized(got):
        return None
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


@dataclass(frozen=True)
class Linear(Family):
    """Linear (and the first input of Bilinear): in_features on the last axis."""

    inputs: tuple = ("in_features",)  # Bilinear: ("in1_features", "in2_features")

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 1:
            return None, [_wrong_rank(_or_higher(1), shape)]
        first = self.inputs[0]
        problem = _linear_problem(_int(b[first]), shape[-1], first)
        if problem is not None:
            return None, [problem]
        return shape[:-1] + (_int(b["out_features"]),), []

    def params(self, b: dict) -> Optional[int]:
        counts = [_int(b[name]) for name in self.inputs + ("out_features",)]
        bias = _flag(b["bias"])
        if None in counts or bias is None or any(c < 0 for c in counts):
            return None
        weight = 1
        for c in counts:
            weight *= c
        return weight + (counts[-1] if bias else 0)

    def in_channels(self, b: dict) -> Optional[int]:
        return _int(b[self.inputs[0]])

    def out_channels(self, b: dict) -> Optional[int]:
        return _int(b["out_features"])


# ---- elementwise layers: activations, dropout, softmax


@dataclass(frozen=True)
class Elementwise(Family):
    """Shape in = shape out. ``min_rank``/``ranks`` say which ranks torch accepts; ``dim`` names a
    dim argument that must be in range; ``checks`` are argument rules (see _ARGUMENT_RULES)."""

    ranks: tuple = ()  # exact accepted ranks, if any
    min_rank: int = 0
    dim: Optional[str] = None
    checks: tuple = ()

    elementwise = True

    def check(self, b: dict) -> list:
        return _first(*(_ARGUMENT_RULES[name](b) for name in self.checks))

    def apply(self, b: dict, shape: Shape) -> tuple:
        if (self.ranks and len(shape) not in self.ranks) or len(shape) < self.min_rank:
            expected = " or ".join(f"{n}D" for n in self.ranks) if self.ranks \
                else _or_higher(self.min_rank)
            return None, [_wrong_rank(expected, shape)]
        if self.dim is not None:
            return _result(shape, _first(_dim_problem(b.get(self.dim), len(shape), self.dim,
                                                      shape)))
        return shape, []


def _probability(b: dict) -> Optional[Problem]:
    p = _number(b.get("p"))
    if p is not None and not 0 <= p <= 1:
        return _invalid("p", f"dropout probability has to be between 0 and 1 (got {p})", "init")
    return None


def _hardtanh_bounds(b: dict) -> Optional[Problem]:
    """nn.Hardtanh wants max_val > min_val (min_value/max_value are their deprecated names)."""
    low = b["min_val"] if b.get("min_value") is None else b["min_value"]
    high = b["max_val"] if b.get("max_value") is None else b["max_value"]
    low, high = _number(low), _number(high)
    if low is not None and high is not None and high <= low:
        return _invalid("max_val", f"max_val ({high}) must be greater than min_val ({low})",
                        "init")
    return None


def _hardtanh_function_bounds(b: dict) -> Optional[Problem]:
    """F.hardtanh accepts min_val == max_val."""
    low, high = _number(b["min_val"]), _number(b["max_val"])
    if low is not None and high is not None and low > high:
        return _invalid("min_val", f"min_val ({low}) cannot be greater than max_val ({high})")
    return None


def _gelu_approximate(b: dict) -> Optional[Problem]:
    value = b["approximate"]
    if isinstance(value, str) and value not in ("none", "tanh"):
        return _invalid("approximate", f"approximate={value!r} is not 'none' or 'tanh'")
    return None


def _rrelu_bounds(b: dict) -> Optional[Problem]:
    low, high = _number(b["lower"]), _number(b["upper"])
    if low is not None and high is not None and low > high:
        return _invalid("lower", f"lower ({low}) must not exceed upper ({high})")
    return None


def _celu_alpha(b: dict) -> Optional[Problem]:
    return _invalid("alpha", "alpha cannot be 0 for CELU") if _number(b["alpha"]) == 0 else None


_ARGUMENT_RULES = {
    "probability": _probability,
    "hardtanh": _hardtanh_bounds,
    "hardtanh_function": _hardtanh_function_bounds,
    "gelu": _gelu_approximate,
    "rrelu": _rrelu_bounds,
    "celu": _celu_alpha,
}


@dataclass(frozen=True)
class PReLU(Family):
    """One learnt slope, or one per channel (axis 1; a 1-d input has one channel)."""

    elementwise = True

    def apply(self, b: dict, shape: Shape) -> tuple:
        count = _int(b["num_parameters"])
        channels = shape[1] if len(shape) >= 2 else 1
        if count is not None and count != 1 and _differs(count, channels):
            return None, [Problem("CNV101", {"expected": count, "got": dim_text(channels)},
                                  "num_parameters")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        count = _int(b["num_parameters"])
        return count if count is not None and count >= 0 else None


@dataclass(frozen=True)
class GLU(Family):
    """Splits ``dim`` in two halves: the output has half its size."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        problem = _dim_problem(b["dim"], len(shape), "dim", shape)
        if problem is not None or _int(b["dim"]) is None:
            return None, _first(problem)
        axis = _axis(b["dim"], len(shape))
        n = shape[axis]
        if type(n) is int and n % 2:
            return None, [_invalid("dim", f"GLU halves dim {b['dim']}, whose size {n} is odd")]
        half = n // 2 if type(n) is int else sizes.pool_out(n, 2, 2) if _sized(n) else None
        return shape[:axis] + (half,) + shape[axis + 1:], []


@dataclass(frozen=True)
class ChannelShuffle(Family):
    elementwise = True

    def check(self, b: dict) -> list:
        groups = _int(b["groups"])
        return _first(_invalid("groups", f"groups must be positive (got {groups})")
                      if groups is not None and groups <= 0 else None)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [_wrong_rank(_or_higher(3), shape)]
        groups, channels = _int(b["groups"]), shape[1]
        if groups and type(channels) is int and channels % groups:
            return None, [Problem("CNV109", {"what": "channels", "value": channels,
                                             "groups": groups}, "groups")]
        return shape, []


# ---- reshaping


@dataclass(frozen=True)
class Flatten(Family):
    """nn.Flatten (start_dim=1), torch.flatten and x.flatten (start_dim=0)."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        start, end, rank = _int(b["start_dim"]), _int(b["end_dim"]), len(shape)
        if start is None or end is None:
            return None, []
        for name, value in (("start_dim", start), ("end_dim", end)):
            problem = _dim_problem(value, rank, name, shape)
            if problem is not None:
                return None, [problem]
        if rank == 0:
            return (1,), []
        first, last = start % rank, end % rank
        if first > last:
            return None, [_invalid("start_dim", f"start_dim={start} comes after end_dim={end} "
                                                f"for a {rank}D input")]
        if first == last:
            return shape, []
        return shape[:first] + (sizes.product(shape[first:last + 1]),) + shape[last + 1:], []


@dataclass(frozen=True)
class Unflatten(Family):
    def check(self, b: dict) -> list:
        value = b["unflattened_size"]
        if _int(value) is not None:
            return [_invalid("unflattened_size", "unflattened_size must be a tuple of ints",
                             "init")]
        values = _ints(value)
        if values is None:
            return []
        if not values:
            return [_invalid("unflattened_size", "unflattened_size must not be empty")]
        if values.count(-1) > 1 or any(v < -1 for v in values):
            return [_invalid("unflattened_size", f"unflattened_size={value} may hold one -1 and "
                                                 "otherwise sizes >= 0")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, values = _int(b["dim"]), _ints(b["unflattened_size"])
        problem = _dim_problem(dim, len(shape), "dim", shape)
        if problem is not None or dim is None or values is None or not shape:
            return None, _first(problem)
        axis = dim % len(shape)
        n, known = shape[axis], 1
        for v in values:
            known *= v if v != -1 else 1
        wrong = _invalid("unflattened_size", f"unflattened_size={values} does not multiply up "
                                             f"to the size {dim_text(n)} of dim {dim}")
        if type(n) is int:
            if not (n % known == 0 if -1 in values and known else n == known):
                return None, [wrong]
        elif -1 not in values and _differs(known, n):
            return None, [wrong]
        inferred = n // known if type(n) is int and known else None
        new = tuple(inferred if v == -1 else v for v in values)
        return shape[:axis] + new + shape[axis + 1:], []


@dataclass(frozen=True)
class Squeeze(Family):
    """torch.squeeze / x.squeeze: drops axes of size 1 (the batch is taken to be above 1)."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, rank = b["dim"], len(shape)
        if dim is None or dim == ():
            axes = range(rank)
        else:
            dims = (dim,) if _int(dim) is not None else _ints(dim)
            if dims is None:
                return None, []
            for d in dims:
                problem = _dim_problem(d, rank, "dim", shape)
                if problem is not None:
                    return None, [problem]
            axes = {_axis(d, rank) for d in dims}
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


@dataclass(frozen=True)
class Unsqueeze(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        dim = _int(b["dim"])
        if dim is None:
            return None, []
        if not -len(shape) - 1 <= dim <= len(shape):
            return None, [Problem("CNV111", {"expected": _at_least(dim + 1 if dim < 0 else dim - 1),
                                             "got": shape_text(shape)}, "dim", "forward")]
        axis = dim % (len(shape) + 1)
        return shape[:axis] + (1,) + shape[axis:], []


@dataclass(frozen=True)
class Permute(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        dims = b["dims"]
        if isinstance(dims, tuple) and len(dims) == 1 and isinstance(dims[0], tuple):
            dims = dims[0]  # x.permute((0, 2, 1))
        dims = _ints(dims)
        if dims is None:
            return None, []
        if len(dims) != len(shape):
            return None, [_wrong_rank(f"{len(dims)}D", shape)]
        for d in dims:
            problem = _dim_problem(d, len(shape), "dims", shape)
            if problem is not None:
                return None, [problem]
        axes = [d % len(shape) for d in dims]
        if len(set(axes)) != len(axes):
            return None, [_invalid("dims", f"permute dims {dims} repeat an axis")]
        return tuple(shape[a] for a in axes), []


@dataclass(frozen=True)
class Transpose(Family):
    def apply(self, b: dict, shape: Shape) -> tuple:
        first, second = _int(b["dim0"]), _int(b["dim1"])
        for name, value in (("dim0", first), ("dim1", second)):
            problem = _dim_problem(value, len(shape), name, shape)
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


@dataclass(frozen=True)
class Reduce(Family):
    """x.mean / x.sum over ``dim`` (all axes when None or ())."""

    def apply(self, b: dict, shape: Shape) -> tuple:
        dim, keep = b["dim"], _flag(b["keepdim"])
        if keep is None:
            return None, []
        rank = len(shape)
        if dim is None or dim == ():
            axes = set(range(rank))
        else:
            dims = (dim,) if _int(dim) is not None else _ints(dim)
            if dims is None:
                return None, []
            for d in dims:
                problem = _dim_problem(d, rank, "dim", shape)
                if problem is not None:
                    return None, [problem]
            axes = {_axis(d, rank) for d in dims}
            if len(axes) != len(dims):
                return None, [_invalid("dim", f"dim {dim} names an axis twice")]
        return tuple(1 if i in axes else n for i, n in enumerate(shape)
                     if keep or i not in axes), []


# ---- resizing: upsampling, pixel shuffle, padding

_INTERPOLATE_RANKS = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4, 5),
                      "linear": (3,), "bilinear": (4,), "bicubic": (4,), "trilinear": (5,),
                      "lanczos": (4,)}
_NOT_INTERPOLATING = ("nearest", "area", "nearest-exact")  # these take no align_corners


@dataclass(frozen=True)
class Upsample(Family):
    """nn.Upsample and its 2d subclasses, F.interpolate, F.upsample."""

    fixed: tuple = ()  # arguments a subclass passes itself: (("mode", "bilinear"), ...)
    module: bool = False  # nn.Upsample reads a falsy scale_factor as None

    def _args(self, b: dict) -> dict:
        args = dict(b, **dict(self.fixed))
        scale = args.get("scale_factor")
        if self.module and _number(scale) is not None and not scale:
            args["scale_factor"] = None
        args.setdefault("align_corners", None)
        args.setdefault("antialias", False)
        args.setdefault("recompute_scale_factor", None)
        return args

    def check(self, b: dict) -> list:
        a = self._args(b)
        size, scale, mode = a["size"], a["scale_factor"], a["mode"]
        antialias, recompute = _flag(a["antialias"]), _flag(a["recompute_scale_factor"])
        if not _known((size, scale, mode, a["align_corners"])) or None in (antialias, recompute):
            return []
        if isinstance(mode, str) and mode not in _INTERPOLATE_RANKS:
            return [_invalid("mode", f"mode={mode!r} is not one of "
                                     f"{', '.join(_INTERPOLATE_RANKS)}")]
        return _first(
            _invalid("size", "only one of size and scale_factor may be given")
            if size is not None and scale is not None else None,
            _invalid("size", "either size or scale_factor must be given")
            if size is None and scale is None else None,
            _invalid("size", f"size={size} must hold ints only")
            if isinstance(size, tuple) and not all(isinstance(v, int) for v in size) else None,
            _invalid("recompute_scale_factor", "recompute_scale_factor is not meaningful with "
                                               "an explicit size")
            if size is not None and recompute else None,
            _invalid("align_corners", f"align_corners can only be set with the interpolating "
                                      f"modes (mode={mode!r})")
            if mode in _NOT_INTERPOLATING and a["align_corners"] is not None else None,
            _invalid("antialias", "antialias needs mode 'bilinear', 'bicubic' or 'lanczos'")
            if antialias and mode not in ("bilinear", "bicubic", "lanczos") else None,
            _invalid("mode", "mode='lanczos' needs antialias=True and align_corners=False")
            if mode == "lanczos" and (not antialias or _flag(a["align_corners"])) else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        a = self._args(b)
        size, scale, mode = a["size"], a["scale_factor"], a["mode"]
        spatial = len(shape) - 2
        per_axis = size if size is not None else scale
        if isinstance(per_axis, tuple) and len(per_axis) != spatial:
            name = "size" if size is not None else "scale_factor"
            return None, [_wrong_rank(f"{len(per_axis) + 2}D (matching {name}={per_axis})",
                                      shape)]
        ranks = _INTERPOLATE_RANKS.get(mode) if isinstance(mode, str) else None
        if ranks is not None and len(shape) not in ranks:
            expected = "3D, 4D or 5D" if len(ranks) == 3 else f"{ranks[0]}D ({mode} mode)"
            return None, [_wrong_rank(expected, shape)]
        if spatial < 1:
            return None, []
        if not isinstance(per_axis, tuple):
            per_axis = (per_axis,) * spatial
        dims = []
        for n, target in zip(shape[2:], per_axis):
            if size is not None:
                out = _int(target)
            elif _number(target) is None or not _sized(n):
                out = None
            elif mode == "area" or _flag(a["recompute_scale_factor"]):  # n * scale made an int
                out = _truncated(n, target)
            else:
                out = sizes.scale_out(n, target)
            minimum = 0 if mode == "area" else 1  # area pools adaptively: 0 is allowed
            if type(out) is int and out < minimum and isinstance(mode, str):
                given = "size" if size is not None else "scale_factor"
                return None, [_too_small(f"output size {out} is below {minimum} (input "
                                         f"{dim_text(n)}, {given} {target})")]
            dims.append(out)
        return shape[:2] + tuple(dims), []


def _truncated(n, scale):
    """int(n * scale), toward zero, as torch computes a recomputed output size."""
    if type(n) is int:
        return int(n * scale)
    return sizes.scale_out(n, scale) if scale > 0 else None


@dataclass(frozen=True)
class PixelShuffle(Family):
    """PixelShuffle (C*r*r, H, W) -> (C, H*r, W*r) and PixelUnshuffle, its inverse."""

    factor: str  # "upscale_factor" or "downscale_factor"

    def check(self, b: dict) -> list:
        r = _int(b[self.factor])
        return _first(_invalid(self.factor, f"{self.factor} must be positive (got {r})")
                      if r is not None and r <= 0 else None)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [_wrong_rank(_or_higher(3), shape)]
        r = _int(b[self.factor])
        if r is None:
            return None, []
        c, h, w = shape[-3:]
        if self.factor == "upscale_factor":
            if type(c) is int and c % (r * r):
                return None, [_invalid(self.factor, f"input channels {c} are not divisible by "
                                                    f"upscale_factor**2 = {r * r}")]
            c = c // (r * r) if type(c) is int else None
            h, w = (sizes.scale_out(n, r) if _sized(n) else None for n in (h, w))
        else:
            for name, n in (("height", h), ("width", w)):
                if type(n) is int and n % r:
                    return None, [_invalid(self.factor, f"input {name} {n} is not divisible by "
                                                        f"downscale_factor {r}")]
            c = sizes.scale_out(c, r * r) if _sized(c) else None
            h, w = (n // r if type(n) is int else None for n in (h, w))
        return shape[:-3] + (c, h, w), []


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class Pad(Family):
    """ZeroPadNd, ConstantPadNd, ReflectionPadNd, ReplicationPadNd, CircularPadNd and F.pad.

    The pad tuple runs from the last axis backwards: (left, right, top, bottom, ...)."""

    rank: int = 0  # the module's rank (0 for F.pad)
    mode: str = ""  # the module's mode ("" for F.pad: the `mode` argument)

    def _pads(self, b: dict) -> Optional[tuple]:
        value = b["padding"] if self.rank else b["pad"]
        if self.rank and _int(value) is not None:
            return (value,) * (2 * self.rank)
        return _ints(value)

    def _mode(self, b: dict):
        return self.mode or b["mode"]

    def check(self, b: dict) -> list:
        mode, pads = self._mode(b), self._pads(b)
        return _first(
            _invalid("mode", f"mode={mode!r} is not one of {', '.join(_PAD_MODES)}")
            if isinstance(mode, str) and mode not in _PAD_MODES else None,
            _invalid("value", f"mode={mode!r} does not take a value")
            if not self.rank and mode != "constant" and _number(b.get("value")) else None,
            _invalid("padding" if self.rank else "pad",
                     f"the pad tuple {pads} needs an even number of values")
            if pads is not None and len(pads) % 2 else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        mode, pads = self._mode(b), self._pads(b)
        if pads is None or mode not in _PAD_MODES:
            return None, []
        if self.mode == "circular" and len(shape) not in (self.rank + 1, self.rank + 2):
            return None, [_wrong_rank(_spatial_ranks(self.rank), shape)]
        out, problem = _pad_shape(mode, pads, shape)
        return out, _first(problem)


def _pad_shape(mode: str, pads: tuple, shape: Shape) -> tuple:
    """F.pad: (output shape, problem) for an even-length pad tuple (last axis first)."""
    axes = len(pads) // 2
    if axes > len(shape):
        return None, _wrong_rank(_or_higher(axes), shape)
    if mode != "constant" and (axes not in (1, 2, 3) or len(shape) not in (axes + 1, axes + 2)):
        expected = f"{axes + 1}D or {axes + 2}D" if axes in (1, 2, 3) else \
            f"(non-constant padding of {axes} axes)"
        return None, _wrong_rank(expected, shape)
    out, padded = list(shape), []
    for i in range(axes):
        left, right = pads[2 * i], pads[2 * i + 1]
        axis = len(shape) - 1 - i
        n = shape[axis]
        if type(n) is int:
            problem = _pad_problem(mode, n, left, right)
            if problem is not None:
                return None, problem
            padded.append(n + left + right)
        out[axis] = sizes.shift(n, left + right) if _sized(n) else None
    if mode in ("reflect", "replicate") and len(padded) == axes and max(padded) < 1:
        return None, _too_small(f"padding leaves an empty map of {tuple(reversed(padded))}")
    return tuple(out), None


def _pad_problem(mode: str, n: int, left: int, right: int) -> Optional[Problem]:
    """Reflect padding must stay inside the input, circular wraps at most once; no output < 0."""
    if mode == "reflect" and max(left, right) >= n:
        return _too_small(f"reflect padding {max(left, right)} needs an input larger than "
                          f"{max(left, right)} (input {n})")
    if mode == "circular" and max(left, right) > n:
        return _too_small(f"circular padding {max(left, right)} wraps around an input of {n} "
                          "more than once")
    if n + left + right < 0:
        return _too_small(f"padding ({left}, {right}) leaves {n + left + right} of an input "
                          f"of {n}")
    return None


# ---------------------------------------------------------------- catalogue entries


def _signature(text: str) -> inspect.Signature:
    """An inspect.Signature from parameter text as torch writes it: "a, b=1, *, c=True"."""
    spec = ast.parse(f"def f({text}): pass").body[0].args
    kind = inspect.Parameter
    params = []
    positional = spec.posonlyargs + spec.args
    defaults = [NO_DEFAULT] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    for arg, default in zip(positional, defaults):
        params.append(kind(arg.arg, kind.POSITIONAL_OR_KEYWORD, default=_literal(default)))
    if spec.vararg:
        params.append(kind(spec.vararg.arg, kind.VAR_POSITIONAL))
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults):
        params.append(kind(arg.arg, kind.KEYWORD_ONLY,
                           default=NO_DEFAULT if default is None else _literal(default)))
    if spec.kwarg:
        params.append(kind(spec.kwarg.arg, kind.VAR_KEYWORD))
    return inspect.Signature(params)


def _literal(node):
    return node if node is NO_DEFAULT else ast.literal_eval(node)


@dataclass(frozen=True, eq=False)
class LayerType:
    """One catalogue entry: a torch layer class, a torch function or a tensor method."""

    name: str  # "Conv2d": what explain prints as the type
    qualname: str  # "torch.nn.Conv2d"
    signature: inspect.Signature
    family: Family
    is_call: bool = False  # functions and methods: whatever torch rejects, it rejects at the call

    @property
    def elementwise(self) -> bool:
        return self.family.elementwise

    def bind(self, args: list, kwargs: dict) -> Optional[dict]:
        """Call arguments by parameter name, defaults filled; None if Python could not bind."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return dict(bound.arguments)

    def check(self, bound: dict) -> list:
        """What torch rejects among the arguments alone: at most one Problem, the first raised."""
        problems = self.family.check(bound)
        if self.is_call:
            problems = [replace(p, when="forward") for p in problems]
        return problems[:1]

    def apply(self, bound: dict, shape: Optional[Shape]) -> tuple:
        """(output shape, problems where torch's forward raises) for a full input shape."""
        if shape is None or self.family.check(bound):
            return None, []
        out, problems = self.family.apply(bound, tuple(shape))
        return out, [replace(p, when="forward") for p in problems[:1]]

    def params(self, bound: dict) -> Optional[int]:
        """sum(p.numel() for p in module.parameters()), None if unknown or never built."""
        if self.is_call:
            return 0  # a function or method owns no parameters
        if any(p.when == "init" for p in self.family.check(bound)):
            return None
        return self.family.params(bound)

    def in_channels(self, bound: dict) -> Optional[int]:
        return self.family.in_channels(bound)

    def out_channels(self, bound: dict) -> Optional[int]:
        return self.family.out_channels(bound)


LAYERS: dict = {}
FUNCTIONS: dict = {}
METHODS: dict = {}


def _nn(name: str, signature: str, family: Family) -> None:
    LAYERS[f"torch.nn.{name}"] = LayerType(name, f"torch.nn.{name}", _signature(signature),
                                           family)


def _fn(qualname: str, signature: str, family: Family) -> None:
    name = qualname.rsplit(".", 1)[1]
    FUNCTIONS[qualname] = LayerType(name, qualname, _signature(signature), family, is_call=True)


def _method(name: str, signature: str, family: Family) -> None:
    METHODS[name] = LayerType(name, f"torch.Tensor.{name}", _signature(signature), family,
                              is_call=True)


def lookup(qualname: str) -> Optional[LayerType]:
    """The catalogue entry for a qualified name: a layer first, then a function."""
    return LAYERS.get(qualname) or FUNCTIONS.get(qualname)


# ---- torch.nn layers (signatures copied from torch 2.13)

_CONV = "in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, " \
        "bias=True, padding_mode='zeros', device=None, dtype=None"
_CONV_T = "in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, " \
          "groups=1, bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None"
_BATCH_NORM = "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, " \
              "device=None, dtype=None, *, bias=True"
_INSTANCE_NORM = "num_features, eps=1e-05, momentum=0.1, affine=False, " \
                 "track_running_stats=False, device=None, dtype=None, *, bias=True"
_DROPOUT = "p=0.5, inplace=False"
_INPLACE = "inplace=False"

for _n in (1, 2, 3):
    _nn(f"Conv{_n}d", _CONV, Conv(_n))
    _nn(f"ConvTranspose{_n}d", _CONV_T, Conv(_n, transposed=True))
    _nn(f"MaxPool{_n}d", "kernel_size, stride=None, padding=0, dilation=1, "
                         "return_indices=False, ceil_mode=False", Pool(_n, "max"))
    _nn(f"AvgPool{_n}d", "kernel_size, stride=None, padding=0, ceil_mode=False, "
                         "count_include_pad=True" + (", divisor_override=None" if _n > 1 else ""),
        Pool(_n, "avg"))
    _nn(f"LPPool{_n}d", "norm_type, kernel_size, stride=None, ceil_mode=False", Pool(_n, "lp"))
    _nn(f"AdaptiveAvgPool{_n}d", "output_size", AdaptivePool(_n))
    _nn(f"AdaptiveMaxPool{_n}d", "output_size, return_indices=False", AdaptivePool(_n))
    _nn(f"BatchNorm{_n}d", _BATCH_NORM, BatchNorm((2, 3) if _n == 1 else (_n + 2,)))
    _nn(f"InstanceNorm{_n}d", _INSTANCE_NORM, InstanceNorm(_n))
    _nn(f"ZeroPad{_n}d", "padding", Pad(_n, "constant"))
    _nn(f"ConstantPad{_n}d", "padding, value", Pad(_n, "constant"))
    _nn(f"ReflectionPad{_n}d", "padding", Pad(_n, "reflect"))
    _nn(f"ReplicationPad{_n}d", "padding", Pad(_n, "replicate"))
    _nn(f"CircularPad{_n}d", "padding", Pad(_n, "circular"))

_nn("SyncBatchNorm", "num_features, eps=1e-05, momentum=0.1, affine=True, "
                     "track_running_stats=True, process_group=None, device=None, dtype=None, *, "
                     "bias=True", BatchNorm(()))
_nn("GroupNorm", "num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None, *, "
                 "bias=True", GroupNorm())
_nn("LayerNorm", "normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None, "
                 "dtype=None", LayerNorm())
_nn("RMSNorm", "normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None",
    LayerNorm(bias_param=False))
_nn("LocalResponseNorm", "size, alpha=0.0001, beta=0.75, k=1.0", LocalResponseNorm())
_nn("Linear", "in_features, out_features, bias=True, device=None, dtype=None", Linear())
_nn("Bilinear", "in1_features, in2_features, out_features, bias=True, device=None, dtype=None",
    Linear(("in1_features", "in2_features")))
_nn("Identity", "*args, **kwargs", Elementwise())
_nn("Flatten", "start_dim=1, end_dim=-1", Flatten())
_nn("Unflatten", "dim, unflattened_size", Unflatten())
_nn("Upsample", "size=None, scale_factor=None, mode='nearest', align_corners=None, "
                "recompute_scale_factor=None", Upsample(module=True))
_nn("UpsamplingNearest2d", "size=None, scale_factor=None",
    Upsample((("mode", "nearest"),), module=True))
_nn("UpsamplingBilinear2d", "size=None, scale_factor=None",
    Upsample((("mode", "bilinear"), ("align_corners", True)), module=True))
_nn("PixelShuffle", "upscale_factor", PixelShuffle("upscale_factor"))
_nn("PixelUnshuffle", "downscale_factor", PixelShuffle("downscale_factor"))
_nn("ChannelShuffle", "groups", ChannelShuffle())
_nn("Dropout", _DROPOUT, Elementwise(checks=("probability",)))
_nn("Dropout1d", _DROPOUT, Elementwise(ranks=(2, 3), checks=("probability",)))
_nn("Dropout2d", _DROPOUT, Elementwise(min_rank=2, checks=("probability",)))
_nn("Dropout3d", _DROPOUT, Elementwise(checks=("probability",)))
_nn("AlphaDropout", _DROPOUT, Elementwise(checks=("probability",)))
_nn("FeatureAlphaDropout", _DROPOUT, Elementwise(min_rank=2, checks=("probability",)))

# activations (torch.nn.modules.activation, except MultiheadAttention)
for _name, _params in (
    ("ReLU", _INPLACE), ("ReLU6", _INPLACE), ("SELU", _INPLACE), ("SiLU", _INPLACE),
    ("Mish", _INPLACE), ("Hardswish", _INPLACE), ("Hardsigmoid", _INPLACE),
    ("Sigmoid", ""), ("Tanh", ""), ("LogSigmoid", ""), ("Softsign", ""), ("Tanhshrink", ""),
    ("ELU", "alpha=1.0, inplace=False"), ("LeakyReLU", "negative_slope=0.01, inplace=False"),
    ("Softplus", "beta=1.0, threshold=20.0"), ("Softshrink", "lambd=0.5"),
    ("Hardshrink", "lambd=0.5"), ("Threshold", "threshold, value, inplace=False"),
):
    _nn(_name, _params, Elementwise())
_nn("CELU", "alpha=1.0, inplace=False", Elementwise(checks=("celu",)))
_nn("GELU", "approximate='none'", Elementwise(checks=("gelu",)))
_nn("RReLU", "lower=0.125, upper=0.3333333333333333, inplace=False",
    Elementwise(checks=("rrelu",)))
_nn("Hardtanh", "min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None",
    Elementwise(checks=("hardtanh",)))
_nn("PReLU", "num_parameters=1, init=0.25, device=None, dtype=None", PReLU())
_nn("GLU", "dim=-1", GLU())
for _name in ("Softmax", "Softmin", "LogSoftmax"):
    _nn(_name, "dim=None", Elementwise(dim="dim"))
_nn("Softmax2d", "", Elementwise(ranks=(3, 4)))

# ---- torch.nn.functional (the tensor is the first parameter, `input`)

_F = "torch.nn.functional."
for _name, _params in (
    ("relu", "input, inplace=False"), ("relu6", "input, inplace=False"),
    ("selu", "input, inplace=False"), ("silu", "input, inplace=False"),
    ("mish", "input, inplace=False"), ("hardswish", "input, inplace=False"),
    ("hardsigmoid", "input, inplace=False"), ("sigmoid", "input"), ("tanh", "input"),
    ("logsigmoid", "input"), ("softsign", "input"), ("tanhshrink", "input"),
    ("elu", "input, alpha=1.0, inplace=False"),
    ("leaky_relu", "input, negative_slope=0.01, inplace=False"),
    ("softplus", "input, beta=1, threshold=20"),
):
    _fn(_F + _name, _params, Elementwise())
_fn(_F + "gelu", "input, approximate='none'", Elementwise(checks=("gelu",)))
_fn(_F + "celu", "input, alpha=1.0, inplace=False", Elementwise(checks=("celu",)))
_fn(_F + "hardtanh", "input, min_val=-1.0, max_val=1.0, inplace=False",
    Elementwise(checks=("hardtanh_function",)))
for _name in ("softmax", "softmin", "log_softmax"):
    _fn(_F + _name, "input, dim=None, _stacklevel=3, dtype=None", Elementwise(dim="dim"))
_fn(_F + "glu", "input, dim=-1", GLU())
_fn(_F + "normalize", "input, p=2.0, dim=1, eps=1e-12, out=None", Elementwise(dim="dim"))
_fn(_F + "dropout", "input, p=0.5, training=True, inplace=False",
    Elementwise(checks=("probability",)))
_fn(_F + "alpha_dropout", "input, p=0.5, training=False, inplace=False",
    Elementwise(checks=("probability",)))
_fn(_F + "dropout1d", "input, p=0.5, training=True, inplace=False",
    Elementwise(ranks=(2, 3), checks=("probability",)))
_fn(_F + "dropout2d", "input, p=0.5, training=True, inplace=False",
    Elementwise(min_rank=2, checks=("probability",)))
_fn(_F + "dropout3d", "input, p=0.5, training=True, inplace=False",
    Elementwise(checks=("probability",)))
for _n in (1, 2, 3):
    _fn(f"{_F}max_pool{_n}d", "input, kernel_size, stride=None, padding=0, dilation=1, "
                              "ceil_mode=False, return_indices=False", Pool(_n, "max"))
    _fn(f"{_F}avg_pool{_n}d", "input, kernel_size, stride=None, padding=0, ceil_mode=False, "
                              "count_include_pad=True"
                              + (", divisor_override=None" if _n > 1 else ""), Pool(_n, "avg"))
    _fn(f"{_F}adaptive_avg_pool{_n}d", "input, output_size", AdaptivePool(_n))
    _fn(f"{_F}adaptive_max_pool{_n}d", "input, output_size, return_indices=False",
        AdaptivePool(_n))
for _n in (1, 2):
    _fn(f"{_F}lp_pool{_n}d", "input, norm_type, kernel_size, stride=None, ceil_mode=False",
        Pool(_n, "lp"))
_fn(_F + "interpolate", "input, size=None, scale_factor=None, mode='nearest', "
                        "align_corners=None, recompute_scale_factor=None, antialias=False",
    Upsample())
_fn(_F + "upsample", "input, size=None, scale_factor=None, mode='nearest', align_corners=None",
    Upsample())
_fn(_F + "pad", "input, pad, mode='constant', value=None", Pad())
_fn(_F + "layer_norm", "input, normalized_shape, weight=None, bias=None, eps=1e-05",
    LayerNorm(functional=True))
_fn(_F + "group_norm", "input, num_groups, weight=None, bias=None, eps=1e-05", GroupNorm())
_fn(_F + "pixel_shuffle", "input, upscale_factor", PixelShuffle("upscale_factor"))
_fn(_F + "pixel_unshuffle", "input, downscale_factor", PixelShuffle("downscale_factor"))

# ---- torch functions

for _name in ("relu", "sigmoid", "tanh"):
    _fn(f"torch.{_name}", "input" if _name == "relu" else "input, *, out=None", Elementwise())
for _name in ("softmax", "log_softmax"):
    _fn(f"torch.{_name}", "input, dim, dtype=None", Elementwise(dim="dim"))
_fn("torch.flatten", "input, start_dim=0, end_dim=-1", Flatten())
_fn("torch.squeeze", "input, dim=None", Squeeze())
_fn("torch.unsqueeze", "input, dim", Unsqueeze())
_fn("torch.transpose", "input, dim0, dim1", Transpose())
_fn("torch.permute", "input, dims", Permute())

# ---- tensor methods (the receiver is bound as `self`)

for _name in ("relu", "sigmoid", "tanh"):
    _method(_name, "self", Elementwise())
for _name in ("softmax", "log_softmax"):
    _method(_name, "self, dim, dtype=None", Elementwise(dim="dim"))
_method("contiguous", "self, memory_format=None", Elementwise())
_method("flatten", "self, start_dim=0, end_dim=-1", Flatten())
_method("squeeze", "self, dim=None", Squeeze())
_method("unsqueeze", "self, dim", Unsqueeze())
_method("transpose", "self, dim0, dim1", Transpose())
_method("permute", "self, *dims", Permute())
_method("mean", "self, dim=None, keepdim=False, *, dtype=None", Reduce())
_method("sum", "self, dim=None, keepdim=False, *, dtype=None", Reduce())
