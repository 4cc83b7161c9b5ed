"""Shared geometry of the design rules: a conv call's arguments as one value per axis, what a
stride-1 conv does to the map size, and how to word sizes in messages.

Only plain ints count: any unknown argument makes :func:`conv_geometry` answer None (silence).
"""

from __future__ import annotations

from typing import Optional, Union

from conv_lint.algebra import sizes
from conv_lint.layers.convolution import Conv
from conv_lint.layers.pooling import Pool
from conv_lint.layers.resizing import Pad
from conv_lint.records import record

AXIS_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def per_axis(value, rank: int) -> Optional[tuple]:
    """An int-or-sequence argument as one int per axis, the way torch expands it; else None."""
    if type(value) is int:
        return (value,) * rank
    if isinstance(value, (tuple, list)) and all(type(v) is int for v in value):
        if len(value) == rank:
            return tuple(value)
        if len(value) == 1:
            return tuple(value) * rank
    return None


@record(frozen=True)
class ConvGeometry:
    """A ConvNd / ConvTransposeNd call's size arguments, one int per spatial axis."""

    rank: int
    kernel: tuple
    stride: tuple
    dilation: tuple
    padding: Union[tuple, str]  # ints per axis, or "same" ('valid' is read as zeros)
    transposed: bool

    @property
    def reach(self) -> tuple:
        """d*(k-1) per axis: the effective kernel minus one, the padding a stride-1 conv
        needs in all to keep the size."""
        return tuple(d * (k - 1) for k, d in zip(self.kernel, self.dilation))

    @property
    def stride_one(self) -> bool:
        return all(s == 1 for s in self.stride)

    @property
    def growth(self) -> tuple:
        """out - in per axis at stride 1 (2p - d*(k-1)); 'same' keeps every axis."""
        if self.padding == "same":
            return (0,) * self.rank
        return tuple(2 * p - r for p, r in zip(self.padding, self.reach))

    def even_kernel_axes(self) -> tuple:
        """Axes whose effective kernel d*(k-1)+1 is even: no symmetric padding keeps them."""
        return tuple(i for i, r in enumerate(self.reach) if r % 2)


def conv_geometry(call) -> Optional[ConvGeometry]:
    """The geometry of a conv call (a layer or function of the Conv family); None when it is
    not a conv or an argument is not a plain int."""
    family = getattr(call.kind, "family", None)
    if not isinstance(family, Conv) or "kernel_size" not in call.bound:
        return None
    rank, bound = family.rank, call.bound
    kernel, stride, dilation = (per_axis(bound.get(name), rank)
                                for name in ("kernel_size", "stride", "dilation"))
    padding = bound.get("padding")
    if padding == "valid":
        padding = 0
    if padding != "same":
        padding = per_axis(padding, rank)
    if None in (kernel, stride, dilation, padding) or (padding == "same" and family.transposed):
        return None
    return ConvGeometry(rank, kernel, stride, dilation, padding, family.transposed)


def grows_even_axis(geometry: ConvGeometry) -> bool:
    """An even effective kernel whose padding grows its axis (CNV202's case)."""
    if geometry.padding == "same":
        return False
    growth = geometry.growth
    return any(growth[i] > 0 for i in geometry.even_kernel_axes())


# ---- the calls around a call


def is_pad(call) -> bool:
    """A padding layer or F.pad: a conv it feeds is padded by it too."""
    return call is not None and isinstance(getattr(call.kind, "family", None), Pad)


def consumed(run, call) -> bool:
    """Does a later call of the run take ``call``'s output as it is (not sliced or cropped)?"""
    return any(other.fed_by is call for other in run.calls)


def cropped_full_padding(run, call, geometry: ConvGeometry) -> bool:
    """Padding d*(k-1) on every growing axis, and no call uses the output as it is: the causal
    convolution idiom (pad fully, then crop the extra), not a mistake."""
    if geometry.padding == "same":
        return False
    growing = [i for i, g in enumerate(geometry.growth) if g > 0]
    full = all(geometry.padding[i] == geometry.reach[i] for i in growing)
    return bool(growing) and full and not consumed(run, call)


def spatial(shape, rank: int) -> Optional[tuple]:
    """The last ``rank`` dims of a full shape; None if the shape is too short."""
    if shape is None or len(shape) < rank:
        return None
    return tuple(shape[len(shape) - rank:])


# ---- wording


def size_text(dims) -> str:
    """A map size for messages: "100", "28x28", "(H - 2)xW"."""
    return _times(["?" if d is None else str(sizes.describe(d)) for d in dims])


def _times(texts: list) -> str:
    if len(texts) == 1:
        return texts[0]
    return "x".join(f"({t})" if _compound(t) else t for t in texts)


def _compound(text: str) -> bool:
    """Has ``text`` a space outside parentheses ("H - 2", not "floor((H - 1)/2))")?"""
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            return True
    return False


def size_change(before, growth: tuple) -> tuple:
    """(before, after) texts of a stride-1 conv's change of the map size by ``growth`` per
    axis: the sizes themselves when they are ints or short formulas ("28x28 -> 26x26",
    "HxW -> (H - 2)x(W - 2)", "floor(H/4) -> floor(H/4) - 6"), else the change on lowercase
    stand-ins ("hxw -> (h - 2)x(w - 2)": a deep layer's full formula would drown the point).
    """
    rank = len(growth)
    pairs = [_dim_change(d, g) for d, g in zip(before, growth)] if before is not None else []
    if not pairs or None in pairs:
        names = [s.lower() for s in AXIS_SYMBOLS.get(rank, tuple(f"n{i}" for i in range(rank)))]
        pairs = [(n, _plus(n, g)) for n, g in zip(names, growth)]
    return _times([b for b, _ in pairs]), _times([a for _, a in pairs])


def _dim_change(dim, growth: int) -> Optional[tuple]:
    """(before, after) texts of one axis, or None when its size is unknown or too long."""
    if type(dim) is int:
        return str(dim), str(dim + growth)
    if not isinstance(dim, sizes.Expr) or len(str(dim)) > _SHORT:
        return None
    if dim.atomic or growth == 0:  # "floor(H/4) - 6" says more than "floor((H - 24)/4)"
        return str(dim), _plus(str(dim), growth)
    after = str(sizes.describe(sizes.shift(dim, growth)))
    return (str(dim), after) if len(after) <= _SHORT else None


_SHORT = 16  # longest size formula worth quoting in a message


def _plus(text: str, growth: int) -> str:
    if growth == 0:
        return text
    return f"{text} {'+' if growth > 0 else '-'} {abs(growth)}"


def value_text(value) -> str:
    """An argument as the user would write it: 3, (1, 3), 'same'."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def names_text(names: list, most: int = 3) -> str:
    """"a", "a and b", "a, b and c", "a, b, c and 2 more"."""
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


# ---- sliding windows: convs and pools, as the input rows they read


@record(frozen=True)
class Window:
    """Where a conv's or pool's windows fall on each spatial axis of its input.

    On an axis, window ``o`` (0 <= o < outputs) reads the input rows
    ``o*stride - before + dilation*j`` for ``j < kernel``, ``before`` being the padding in front;
    rows outside ``[0, n)`` are padding.
    """

    rank: int
    kernel: tuple
    stride: tuple
    dilation: tuple
    padding: tuple  # (before, after) per axis
    ceil_mode: bool
    padding_mode: str  # "zeros" unless a conv pads by reflection, replication or wrapping
    pool: bool

    @property
    def span(self) -> tuple:
        """The effective kernel d*(k-1)+1 per axis: how many rows one window stretches over."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def skipping_axes(self) -> tuple:
        """Axes whose stride is larger than the effective kernel: rows between windows."""
        return tuple(i for i in range(self.rank) if self.stride[i] > self.span[i])

    def is_patchify(self) -> bool:
        """Non-overlapping patches (ViT, Swin, ConvNeXt stems): every strided axis has an
        effective kernel equal to its stride, so every row is read exactly once."""
        strided = [i for i in range(self.rank) if self.stride[i] > 1]
        return bool(strided) and all(self.span[i] == self.stride[i] for i in strided)

    def outputs(self, n: int, axis: int) -> int:
        """torch's output size on ``axis`` for an input of ``n`` rows (pools: ceil_mode too)."""
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        before, after = self.padding[axis]
        if self.pool and self.ceil_mode:
            out = sizes.pool_out(n, k, s, before, d, ceil_mode=True)
            return out if type(out) is int else 0
        return (n + before + after - d * (k - 1) - 1) // s + 1

    def rows_read(self, n: int, axis: int, windows: range) -> set:
        """The input rows (in ``[0, n)``) that the given windows of ``axis`` read."""
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        before = self.padding[axis][0]
        return {o * s - before + d * j for o in windows for j in range(k)
                if 0 <= o * s - before + d * j < n}

    def dropped(self, n: int, axis: int) -> int:
        """Rows at the end of an ``n``-row input that no window reads but further windows would
        (a longer input gets them): what flooring the output size throws away. 0 for padding."""
        out = self.outputs(n, axis)
        if out < 1:
            return 0
        s, before = self.stride[axis], self.padding[axis][0]
        last_start = (out - 1) * s - before
        further = range(out, out + self.span[axis] // s + 2)  # the windows that would reach n
        tail = self.rows_read(n, axis, further) - self.rows_read(
            n, axis, range(max(0, out - 1 - self.span[axis] // s), out))
        return len({row for row in tail if row > last_start})


def window(call) -> Optional[Window]:
    """The windows of a conv (not transposed) or pool call (max, avg, lp; layer or function);
    None for anything else or when an argument is not a plain int."""
    family = getattr(call.kind, "family", None)
    bound = call.bound
    if isinstance(family, Conv) and not family.transposed:
        geometry = conv_geometry(call)
        if geometry is None or not isinstance(bound.get("padding_mode"), str):
            return None
        if geometry.padding == "same":
            padding = tuple((r // 2, r - r // 2) for r in geometry.reach)
        else:
            padding = tuple((p, p) for p in geometry.padding)
        return Window(geometry.rank, geometry.kernel, geometry.stride, geometry.dilation,
                      padding, False, bound["padding_mode"], False)
    if not isinstance(family, Pool):
        return None
    rank = family.rank
    kernel = per_axis(bound.get("kernel_size"), rank)
    stride = kernel if bound.get("stride") is None else per_axis(bound.get("stride"), rank)
    padding = per_axis(bound.get("padding", 0), rank)
    dilation = per_axis(bound.get("dilation", 1), rank)
    ceil_mode = bound.get("ceil_mode", False)
    if None in (kernel, stride, padding, dilation) or not isinstance(ceil_mode, bool):
        return None
    if min(kernel + stride + dilation) < 1 or min(padding) < 0:
        return None
    return Window(rank, kernel, stride, dilation, tuple((p, p) for p in padding), ceil_mode,
                  "zeros", True)


def stride_skip(window_: Window, axis: int) -> int:
    """Rows of every ``stride`` that no window of ``axis`` reads when the stride is larger than
    the effective kernel: the ``kernel`` taps of a window are distinct modulo the stride."""
    s = window_.stride[axis]
    return s - window_.kernel[axis] if s > window_.span[axis] else 0


def merged_only(run, call) -> bool:
    """Does ``call``'s output reach no other layer, even through norms and activations? Then it
    only ends in an add, a cat or forward's result: a shortcut branch, not the main path."""
    frontier = {id(call)}
    for other in run.calls:
        if other.fed_by is None or id(other.fed_by) not in frontier:
            continue
        if not other.kind.elementwise:
            return False
        frontier.add(id(other))
    return True


def is_projection_shortcut(run, call, window_: Window) -> bool:
    """A 1x1 strided conv (or kernel-1 pool) on a shortcut: ResNet's downsample subsamples on
    purpose, and its output is merged, not convolved further."""
    return all(k == 1 for k in window_.kernel) and merged_only(run, call)


def axis_values(values: tuple) -> str:
    """One value per axis as the user would write it: 4 when all agree, else (4, 2)."""
    return str(values[0]) if len(set(values)) == 1 else value_text(tuple(values))


def kernel_text(window_: Window, axes: tuple) -> str:
    """The kernel of some axes for messages: "3", "(1, 3)", "2 dilated by 3"."""
    kernel = axis_values(tuple(window_.kernel[i] for i in axes))
    dilation = tuple(window_.dilation[i] for i in axes)
    return kernel if set(dilation) == {1} else f"{kernel} dilated by {axis_values(dilation)}"


def nodes_flagged_before(run, options, code: str) -> set:
    """ids of the nodes that design rules with a lower code than ``code`` warn about: a layer
    gets one design warning, the lowest code's (a rule that fails counts for nothing)."""
    from conv_lint.rules import RULES

    flagged: set = set()
    for rule in RULES:
        if rule.code < code:
            flagged.update(id(node) for node, _fields in run.warnings(rule, options))
    return flagged


def pad_per_axis(call, rank: int) -> Optional[tuple]:
    """(mode, ((before, after) per spatial axis)) of a padding layer or F.pad call over the last
    ``rank`` axes (axes the pad tuple leaves out get (0, 0)); None if not plain ints."""
    family = getattr(call.kind, "family", None)
    if not isinstance(family, Pad):
        return None
    value = call.bound.get("padding") if family.rank else call.bound.get("pad")
    mode = family.mode or call.bound.get("mode")
    pads = per_axis(value, 2 * family.rank) if family.rank and type(value) is int else value
    if not isinstance(pads, tuple) or len(pads) % 2 or not all(type(p) is int for p in pads):
        return None
    if len(pads) // 2 > rank or not isinstance(mode, str):
        return None
    pairs = [(0, 0)] * rank
    for i in range(len(pads) // 2):  # the pad tuple runs from the last axis backwards
        pairs[rank - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    return mode, tuple(pairs)


def feeds_window(run, call) -> bool:
    """Does ``call``'s output reach a conv or pool, directly or through norms and activations?"""
    frontier = {id(call)}
    for other in run.calls:
        if other.fed_by is None or id(other.fed_by) not in frontier:
            continue
        if window(other) is not None:
            return True
        if other.kind.elementwise:
            frontier.add(id(other))
    return False
