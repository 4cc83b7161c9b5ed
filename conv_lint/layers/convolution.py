"""Convolutions: ConvNd and ConvTransposeNd."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes, symbols
from conv_lint.layers.base import (
    Channels, Family, Problem, Shape, along_axes, as_channels, as_flag, as_int, as_ints, below,
    demand, differs, dim_text, first_of, invalid, kernel_detail, shape_text, sized, spatial_ranks,
    too_small, tuple_lengths, wrong_rank,
)
from conv_lint.layers.resizing import padded_shape
from conv_lint.records import record

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@record(frozen=True)
class Conv(Family):
    """ConvNd and ConvTransposeNd.

    torch's order at the call: (F.pad for a padding_mode other than zeros), the input rank, the
    argument lengths, negative padding and non-positive stride, the channels, then dilation,
    the kernel against the input, and last what the kernels themselves reject."""

    rank: int
    transposed: bool = False

    def check(self, b: dict) -> list:
        init = first_of(*self._init_problems(b))
        if init or self._pads_first(b):  # F.pad's shape-dependent errors come first: apply()
            return init
        return first_of(*self._early_problems(b))  # the late ones come after the channels: apply()

    def _init_problems(self, b: dict):
        mode, padding = b["padding_mode"], b["padding"]
        if self.transposed and isinstance(mode, str) and mode != "zeros":
            yield invalid("padding_mode", f"only padding_mode='zeros' is supported "
                                          f"(got {mode!r})", "init")
        groups = as_int(b["groups"])
        if groups is not None and groups <= 0:
            yield invalid("groups", f"groups must be a positive integer (got {groups})", "init")
        elif groups is not None:
            for name in ("in_channels", "out_channels"):
                value = as_int(b[name])
                if value is not None and value % groups:
                    yield Problem("CNV109", {"what": name, "value": value, "groups": groups},
                                  "groups", "init")
        if isinstance(padding, str) and not self.transposed:  # ConvTranspose pairs the string
            if padding not in ("same", "valid"):
                yield invalid("padding", f"padding={padding!r} is not 'same' or 'valid'",
                              "init")
            stride = (b["stride"],) if as_int(b["stride"]) is not None else as_ints(b["stride"])
            if padding == "same" and stride is not None and any(s != 1 for s in stride):
                yield Problem("CNV108", {"stride": b["stride"]}, "stride", "init")
        if isinstance(mode, str) and mode not in _PADDING_MODES:
            yield invalid("padding_mode", f"padding_mode={mode!r} is not one of "
                                          f"{', '.join(_PADDING_MODES)}", "init")
        kernel = self._raw(b["kernel_size"])
        if kernel is not None and any(k < 0 for k in kernel):  # the weight cannot be allocated
            yield invalid("kernel_size", f"kernel_size must be positive (got "
                                         f"{b['kernel_size']})", "init")

    def _early_problems(self, b: dict):
        """Argument errors torch raises before it looks at the channels."""
        r = self.rank
        if isinstance(b["padding"], str) and self.transposed:
            yield invalid("padding", f"padding={b['padding']!r}: transposed convolutions take "
                                     "int padding only")
        kernel = b["kernel_size"]
        if isinstance(kernel, tuple) and len(kernel) != r:
            yield invalid("kernel_size", f"kernel_size={kernel} needs {r} values for a "
                                         f"{r}d convolution")
        padded_here = not self._pads_first(b)
        names = ("stride", "dilation") + (("padding",) if padded_here else ()) + \
            (("output_padding",) if self.transposed else ())
        yield tuple_lengths(b, names, (1, r), r)
        if not isinstance(b["padding"], str) and padded_here:
            yield below(b, "padding", 0, r, "non-negative")
        if self.transposed:
            yield below(b, "output_padding", 0, r, "non-negative")
        yield below(b, "stride", 1, r, "positive")

    def _late_problems(self, b: dict):
        """Argument errors torch raises after the channel and kernel-size checks."""
        r = self.rank
        # some of torch's kernels run a transposed conv with dilation 0, others raise: no claim
        yield below(b, "dilation", 0 if self.transposed else 1, r,
                    "non-negative" if self.transposed else "positive")
        if self.transposed:
            yield self._output_padding_problem(b)
        yield below(b, "kernel_size", 1, r, "positive")

    def _output_padding_problem(self, b: dict) -> Optional[Problem]:
        r = self.rank
        op, s, d = (along_axes(b[name], r) for name in ("output_padding", "stride", "dilation"))
        if op is None or s is None or d is None:
            return None
        if any(o >= si and o >= di for o, si, di in zip(op, s, d)):
            return invalid("output_padding", f"output_padding={b['output_padding']} must be "
                           f"smaller than stride={b['stride']} or dilation={b['dilation']}")
        return None

    def _raw(self, value) -> Optional[tuple]:
        """An argument as torch's _pair/_triple leaves it: an int repeated, a tuple unchanged."""
        return (value,) * self.rank if as_int(value) is not None else as_ints(value)

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
            shape, problem = padded_shape(b["padding_mode"], pads, shape)
            if problem is not None or shape is None:
                return None, first_of(problem)
            b = dict(b, padding=0)
        if len(shape) not in (r + 1, r + 2):
            return None, [wrong_rank(spatial_ranks(r), shape)]
        early = first_of(*self._early_problems(b)) if pads_first else []
        if early:
            return None, early
        c = self._channel_axis(shape)
        if c is None:
            return None, []  # torch would read the batch as channels: nothing sure to say
        expected = as_channels(b["in_channels"])
        if expected is not None and differs(expected, shape[c]):
            return None, [Problem("CNV101", {"expected": expected, "got": dim_text(shape[c])},
                                  "in_channels")]
        late = first_of(*self._late_problems(b))
        if late and not pads_first:  # after F.pad, torch convolves the padded map first
            return None, late
        dims = []
        for i, n in enumerate(shape[c + 1:]):  # the kernel against the input comes next
            if n == 0 and type(n) is int and not pads_first:  # torch convolves no empty map
                return None, [too_small(f"cannot convolve an axis of size 0 (input "
                                        f"{shape_text(shape)})")]
            out, problem = self._axis_out(b, i, n)
            if problem is not None:
                return None, [problem]
            dims.append(out)
        if late:
            return None, late
        return shape[:c] + (as_channels(b["out_channels"]),) + tuple(dims), []

    def _channel_axis(self, shape: Shape) -> Optional[int]:
        """Axis 1 of a batched input, 0 of an unbatched one; None for a batched tensor of
        unbatched rank (torch would read the batch as channels) or a wrong rank."""
        r = self.rank
        if len(shape) not in (r + 1, r + 2) or (len(shape) == r + 1 and shape[0] is sizes.BATCH):
            return None
        return len(shape) - r - 1

    def demands(self, b: dict, shape: Shape) -> dict:
        # Grouped convs are left alone: in_channels, out_channels and groups move together there.
        c = self._channel_axis(shape)
        return demand("in_channels", shape[c]) if c is not None and b["groups"] == 1 else {}

    def _axis_out(self, b: dict, i: int, n) -> tuple:
        r = self.rank
        k, s, d = (along_axes(b[name], r) for name in ("kernel_size", "stride", "dilation"))
        padding = b["padding"]
        if k is None or s is None or d is None or not sized(n):
            return (n if padding == "same" and not self.transposed else None), None
        k, s, d = k[i], s[i], d[i]
        if self.transposed:
            p, op = along_axes(padding, r), along_axes(b["output_padding"], r)
            if p is None or op is None:
                return None, None
            out = sizes.conv_transpose_out(n, k, s, p[i], d, op[i])
            # An empty output (0) is rejected by some of torch's kernels only: no claim.
            if type(out) is int and out < 0:
                return None, too_small(f"output size {out} is negative (input {n}, kernel {k}, "
                                       f"stride {s}, padding {p[i]})")
            return out, None
        if padding == "same":  # stride 1: torch pads d*(k-1) in all, the output keeps the size
            return n, None
        p = along_axes(0 if padding == "valid" else padding, r)
        if p is None:
            return None, None
        p = p[i]
        problem = None
        if type(n) is int and n + 2 * p < d * (k - 1) + 1:
            problem = too_small(kernel_detail(k, d, n, p))
        return sizes.conv_out(n, k, s, p, d), problem

    def params(self, b: dict) -> Optional[int]:
        c_in, c_out, groups = (as_int(b[n]) for n in ("in_channels", "out_channels", "groups"))
        kernel, bias = self._raw(b["kernel_size"]), as_flag(b["bias"])
        if None in (c_in, c_out, groups, kernel, bias) or groups <= 0:
            return None
        if c_in % groups or c_out % groups or any(k < 0 for k in kernel):
            return None
        weight = c_in * c_out // groups
        for k in kernel:
            weight *= k
        return weight + (c_out if bias else 0)

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        """weight (out, in // groups, *kernel), transposed (in, out // groups, *kernel); bias."""
        c_in, c_out, groups = (as_channels(b[n]) for n in ("in_channels", "out_channels", "groups"))
        kernel = self._raw(b["kernel_size"])
        if None in (c_in, c_out, groups, kernel) or (type(groups) is int and groups <= 0):
            return None
        if name == "bias":
            return (c_out,) if as_flag(b["bias"]) else None
        if name != "weight":
            return None
        first, second = (c_in, c_out) if self.transposed else (c_out, c_in)
        per_group = symbols.arith("FloorDivide", second, groups)
        return None if per_group is None else (first, per_group) + tuple(kernel)

    def in_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b["in_channels"])

    def out_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b["out_channels"])
