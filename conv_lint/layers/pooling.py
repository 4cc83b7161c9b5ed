"""Pools: MaxPoolNd, AvgPoolNd, LPPoolNd, AdaptiveAvg/MaxPoolNd and their functional twins."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Shape, along_axes, as_flag, as_int, below, first_of, invalid, kernel_detail, sized,
    spatial_ranks, too_small, tuple_lengths, wrong_rank,
)
from conv_lint.records import record


@record(frozen=True)
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
        kernel = along_axes(b["kernel_size"], r)
        padding = along_axes(b.get("padding", 0), r)
        over_half = None
        if kernel is not None and padding is not None and any(
                p > k // 2 for k, p in zip(kernel, padding)):
            over_half = invalid("padding", f"padding={b.get('padding')} must be at most half "
                                           f"of kernel_size={b['kernel_size']}")
        divisor = b.get("divisor_override")
        return first_of(
            tuple_lengths(b, ["kernel_size"], self._kernel_lengths(), r),
            tuple_lengths(b, ["stride", "padding", "dilation"], (1, r), r),
            below(b, "kernel_size", 1, r, "positive"),
            below(b, "stride", 1, r, "positive") if stride is not None else None,
            below(b, "dilation", 1, r, "positive") if "dilation" in b else None,
            below(b, "padding", 0, r, "non-negative") if "padding" in b else None,
            over_half,
            invalid("divisor_override", "divisor_override must not be zero")
            if as_int(divisor) == 0 else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [wrong_rank(spatial_ranks(r), shape)]
        kernel = along_axes(b["kernel_size"], r)
        stride = kernel if b.get("stride") is None else along_axes(b["stride"], r)
        padding = along_axes(b.get("padding", 0), r)
        dilation = along_axes(b.get("dilation", 1), r)
        ceil = as_flag(b.get("ceil_mode", False))
        head, dims = shape[:-r], []
        for i, n in enumerate(shape[-r:]):
            if None in (kernel, stride, padding, dilation, ceil) or not sized(n):
                dims.append(None)
                continue
            k, s, p, d = kernel[i], stride[i], padding[i], dilation[i]
            if self.kind in ("avg", "lp") and r == 3 and type(n) is int and n < k:
                # avg_pool3d compares the kernel with the unpadded input
                return None, [too_small(f"kernel {k} is larger than the input {n} "
                                        "(avg_pool3d does not count the padding)")]
            out = sizes.pool_out(n, k, s, p, d, ceil)
            if type(out) is int and out < 1:
                detail = kernel_detail(k, d, n, p) if n + 2 * p < d * (k - 1) + 1 else \
                    f"output size {out} is below 1 (input {n}, kernel {k}, stride {s}, " \
                    f"padding {p})"
                return None, [too_small(detail)]
            dims.append(out)
        if as_flag(b.get("return_indices", False)) is not False:
            return None, []  # a tuple (values, indices), not one tensor
        return head + tuple(dims), []


@record(frozen=True)
class AdaptivePool(Family):
    """AdaptiveAvg/MaxPoolNd: the output size is the argument; None keeps that axis."""

    rank: int

    def _sizes(self, b: dict) -> Optional[tuple]:
        size = b["output_size"]
        if as_int(size) is not None:
            return (size,) * self.rank
        if isinstance(size, tuple) and len(size) == self.rank and all(
                type(v) is int or (v is None and self.rank > 1) for v in size):
            return size
        return None

    def check(self, b: dict) -> list:
        size, r = b["output_size"], self.rank
        if size is None or (isinstance(size, tuple) and (
                len(size) != r or (r == 1 and None in size))):
            return [invalid("output_size", f"output_size={size} needs "
                            f"{'an int' if r == 1 else f'an int or {r} values'}")]
        sizes_ = self._sizes(b)
        if sizes_ is not None and any(v is not None and v < 0 for v in sizes_):
            return [invalid("output_size", f"output_size={size} must not be negative")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [wrong_rank(spatial_ranks(r), shape)]
        wanted = self._sizes(b)
        dims = []
        for i, n in enumerate(shape[-r:]):
            if n == 0 and type(n) is int:
                return None, [too_small("cannot pool an empty input axis")]
            dims.append(None if wanted is None else (n if wanted[i] is None else wanted[i]))
        if as_flag(b.get("return_indices", False)) is not False:
            return None, []
        return shape[:-r] + tuple(dims), []
