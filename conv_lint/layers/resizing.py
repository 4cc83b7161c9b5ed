"""Resizing: upsampling, pixel shuffle, padding."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Family, Problem, Shape, all_known, as_flag, as_int, as_ints, as_number, dim_text, first_of,
    invalid, not_positive, or_higher, sized, spatial_ranks, too_small, wrong_rank,
)
from conv_lint.records import record

_INTERPOLATE_RANKS = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4, 5),
                      "linear": (3,), "bilinear": (4,), "bicubic": (4,), "trilinear": (5,),
                      "lanczos": (4,)}
_NOT_INTERPOLATING = ("nearest", "area", "nearest-exact")  # these take no align_corners


@record(frozen=True)
class Upsample(Family):
    """nn.Upsample and its 2d subclasses, F.interpolate, F.upsample."""

    fixed: tuple = ()  # arguments a subclass passes itself: (("mode", "bilinear"), ...)
    module: bool = False  # nn.Upsample reads a falsy scale_factor as None

    def _args(self, b: dict) -> dict:
        args = dict(b, **dict(self.fixed))
        scale = args.get("scale_factor")
        if self.module and as_number(scale) is not None and not scale:
            args["scale_factor"] = None
        args.setdefault("align_corners", None)
        args.setdefault("antialias", False)
        args.setdefault("recompute_scale_factor", None)
        return args

    def check(self, b: dict) -> list:
        a = self._args(b)
        size, scale, mode = a["size"], a["scale_factor"], a["mode"]
        antialias, recompute = as_flag(a["antialias"]), as_flag(a["recompute_scale_factor"])
        if not all_known((size, scale, mode, a["align_corners"])) or None in (antialias, recompute):
            return []
        if isinstance(mode, str) and mode not in _INTERPOLATE_RANKS:
            return [invalid("mode", f"mode={mode!r} is not one of "
                                    f"{', '.join(_INTERPOLATE_RANKS)}")]
        return first_of(
            invalid("size", "only one of size and scale_factor may be given")
            if size is not None and scale is not None else None,
            invalid("size", "either size or scale_factor must be given")
            if size is None and scale is None else None,
            invalid("size", f"size={size} must hold ints only")
            if isinstance(size, tuple) and not all(isinstance(v, int) for v in size) else None,
            invalid("recompute_scale_factor", "recompute_scale_factor is not meaningful with "
                                              "an explicit size")
            if size is not None and recompute else None,
            invalid("align_corners", f"align_corners can only be set with the interpolating "
                                     f"modes (mode={mode!r})")
            if mode in _NOT_INTERPOLATING and a["align_corners"] is not None else None,
            invalid("antialias", "antialias needs mode 'bilinear', 'bicubic' or 'lanczos'")
            if antialias and mode not in ("bilinear", "bicubic", "lanczos") else None,
            invalid("mode", "mode='lanczos' needs antialias=True and align_corners=False")
            if mode == "lanczos" and (not antialias or as_flag(a["align_corners"])) else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        a = self._args(b)
        size, scale, mode = a["size"], a["scale_factor"], a["mode"]
        spatial = len(shape) - 2
        per_axis = size if size is not None else scale
        if isinstance(per_axis, tuple) and len(per_axis) != spatial:
            name = "size" if size is not None else "scale_factor"
            return None, [wrong_rank(f"{len(per_axis) + 2}D (matching {name}={per_axis})",
                                     shape)]
        ranks = _INTERPOLATE_RANKS.get(mode) if isinstance(mode, str) else None
        if ranks is not None and len(shape) not in ranks:
            expected = "3D, 4D or 5D" if len(ranks) == 3 else f"{ranks[0]}D ({mode} mode)"
            return None, [wrong_rank(expected, shape)]
        if spatial < 1:
            return None, []
        if not isinstance(per_axis, tuple):
            per_axis = (per_axis,) * spatial
        dims = []
        for n, target in zip(shape[2:], per_axis):
            if size is not None:
                out = as_int(target)
            elif as_number(target) is None or not sized(n):
                out = None
            elif mode == "area" and type(n) is not int and target < 1:
                out = None  # area may shrink an axis to 0, which a symbolic size never is
            elif mode == "area" or as_flag(a["recompute_scale_factor"]):  # n * scale made an int
                out = _truncated(n, target)
            else:
                out = sizes.scale_out(n, target)
            minimum = 0 if mode == "area" else 1  # area pools adaptively: 0 is allowed
            if type(out) is int and out < minimum and isinstance(mode, str):
                given = "size" if size is not None else "scale_factor"
                return None, [too_small(f"output size {out} is below {minimum} (input "
                                        f"{dim_text(n)}, {given} {target})")]
            dims.append(out)
        return shape[:2] + tuple(dims), []


def _truncated(n, scale):
    """int(n * scale), toward zero, as torch computes a recomputed output size."""
    if type(n) is int:
        return int(n * scale)
    return sizes.scale_out(n, scale) if scale > 0 else None


@record(frozen=True)
class PixelShuffle(Family):
    """PixelShuffle (C*r*r, H, W) -> (C, H*r, W*r) and PixelUnshuffle, its inverse."""

    factor: str  # "upscale_factor" or "downscale_factor"

    def check(self, b: dict) -> list:
        return not_positive(b, self.factor)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [wrong_rank(or_higher(3), shape)]
        r = as_int(b[self.factor])
        if r is None:
            return None, []
        c, h, w = shape[-3:]
        if self.factor == "upscale_factor":
            if type(c) is int and c % (r * r):
                return None, [invalid(self.factor, f"input channels {c} are not divisible by "
                                                   f"upscale_factor**2 = {r * r}")]
            c = c // (r * r) if type(c) is int else None
            h, w = (sizes.scale_out(n, r) if sized(n) else None for n in (h, w))
        else:
            for name, n in (("height", h), ("width", w)):
                if type(n) is int and n % r:
                    return None, [invalid(self.factor, f"input {name} {n} is not divisible by "
                                                       f"downscale_factor {r}")]
            c = sizes.scale_out(c, r * r) if sized(c) else None
            h, w = (n // r if type(n) is int else None for n in (h, w))
        return shape[:-3] + (c, h, w), []


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


@record(frozen=True)
class Pad(Family):
    """ZeroPadNd, ConstantPadNd, ReflectionPadNd, ReplicationPadNd, CircularPadNd and F.pad.

    The pad tuple runs from the last axis backwards: (left, right, top, bottom, ...)."""

    rank: int = 0  # the module's rank (0 for F.pad)
    mode: str = ""  # the module's mode ("" for F.pad: the `mode` argument)

    def _pads(self, b: dict) -> Optional[tuple]:
        value = b["padding"] if self.rank else b["pad"]
        if self.rank and as_int(value) is not None:
            return (value,) * (2 * self.rank)
        return as_ints(value)

    def _mode(self, b: dict):
        return self.mode or b["mode"]

    def check(self, b: dict) -> list:
        mode, pads = self._mode(b), self._pads(b)
        return first_of(
            invalid("mode", f"mode={mode!r} is not one of {', '.join(_PAD_MODES)}")
            if isinstance(mode, str) and mode not in _PAD_MODES else None,
            invalid("value", f"mode={mode!r} does not take a value")
            if not self.rank and mode != "constant" and as_number(b.get("value")) else None,
            invalid("padding" if self.rank else "pad",
                    f"the pad tuple {pads} needs an even number of values")
            if pads is not None and len(pads) % 2 else None,
        )

    def apply(self, b: dict, shape: Shape) -> tuple:
        mode, pads = self._mode(b), self._pads(b)
        if pads is None or mode not in _PAD_MODES:
            return None, []
        if self.mode == "circular" and len(shape) not in (self.rank + 1, self.rank + 2):
            return None, [wrong_rank(spatial_ranks(self.rank), shape)]
        out, problem = padded_shape(mode, pads, shape)
        return out, first_of(problem)


def padded_shape(mode: str, pads: tuple, shape: Shape) -> tuple:
    """F.pad: (output shape, problem) for an even-length pad tuple (last axis first)."""
    axes = len(pads) // 2
    if axes > len(shape):
        return None, wrong_rank(or_higher(axes), shape)
    if mode != "constant" and (axes not in (1, 2, 3) or len(shape) not in (axes + 1, axes + 2)):
        expected = f"{axes + 1}D or {axes + 2}D" if axes in (1, 2, 3) else \
            f"(non-constant padding of {axes} axes)"
        return None, wrong_rank(expected, shape)
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
        out[axis] = sizes.shift(n, left + right) if sized(n) else None
    if mode in ("reflect", "replicate") and len(padded) == axes and max(padded) < 1:
        return None, too_small(f"padding leaves an empty map of {tuple(reversed(padded))}")
    return tuple(out), None


def _pad_problem(mode: str, n: int, left: int, right: int) -> Optional[Problem]:
    """Reflect padding must stay inside the input, circular wraps at most once; no output < 0."""
    if mode == "reflect" and max(left, right) >= n:
        return too_small(f"reflect padding {max(left, right)} needs an input larger than "
                         f"{max(left, right)} (input {n})")
    if mode == "circular" and max(left, right) > n:
        return too_small(f"circular padding {max(left, right)} wraps around an input of {n} "
                         "more than once")
    if n + left + right < 0:
        return too_small(f"padding ({left}, {right}) leaves {n + left + right} of an input "
                         f"of {n}")
    return None
