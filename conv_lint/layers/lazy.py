"""Lazy layers: nn.LazyConvNd, LazyConvTransposeNd, LazyLinear, LazyBatchNormNd and
LazyInstanceNormNd.

torch builds the eager layer with its size arguments 0, reads the in-size off the first input,
and the module becomes the eager one (a LazyConv2d is a Conv2d after its first call, with
in_channels set and its parameters allocated). So a lazy layer never rejects its first input's
channels; the eager constructor's checks run at that call; later calls are checked as the eager
layer's. Once a call has fixed it, the in-size is kept among the bound arguments
(:meth:`Lazy.materialised`); until then the parameter count is unknown."""

from __future__ import annotations

from typing import Any, Optional

from conv_lint.interpreter.values import UNKNOWN
from conv_lint.layers.base import (
    Channels, Family, Shape, as_channels, as_flag, first_of, sized, spatial_ranks, wrong_rank,
)
from conv_lint.records import record


@record(frozen=True)
class Lazy(Family):
    """The lazy form of ``eager`` (a LayerType), whose ``in_arg`` the first input fixes: the
    channel axis of a convolution of ``rank`` axes, else axis ``axis`` (Linear: -1, norms: 1)."""

    eager: Any  # layers.LayerType
    in_arg: str  # "in_channels", "in_features" or "num_features"
    zeroed: tuple  # the size arguments torch's lazy constructor passes as 0
    rank: int = 0  # a convolution's spatial axes
    axis: int = 1

    @property
    def elementwise(self) -> bool:  # type: ignore[override]
        return self.eager.family.elementwise

    def _eager_bound(self, b: dict, in_size) -> dict:
        return self.eager.bind([], dict(b, **{self.in_arg: in_size}))

    def check(self, b: dict) -> list:
        """What the eager constructor rejects with its sizes 0 (as torch builds it)."""
        zeros = self.eager.bind([], dict(b, **{name: 0 for name in self.zeroed}))
        return [p for p in self.eager.family.check(zeros) if p.when == "init"][:1]

    def _in_size(self, b: dict, shape: Shape):
        """The in-size torch reads off ``shape`` (UNKNOWN when it is not a known size)."""
        if self.in_arg in b:
            return b[self.in_arg]  # fixed by an earlier call
        if self.in_arg == "num_features" and not self._has_weights(b):
            return 0  # torch leaves num_features 0: nothing is allocated
        if self.rank:
            axis = len(shape) - self.rank - 1
        else:
            axis = self.axis if self.axis >= 0 else len(shape) + self.axis
        size = shape[axis] if 0 <= axis < len(shape) else None
        return size if sized(size) and as_channels(size) is not None else UNKNOWN

    def _has_weights(self, b: dict) -> bool:
        affine, tracked = as_flag(b["affine"]), as_flag(b["track_running_stats"])
        return affine is not False or tracked is not False

    def apply(self, b: dict, shape: Shape) -> tuple:
        if self.rank and len(shape) not in (self.rank + 1, self.rank + 2):
            return None, [wrong_rank(spatial_ranks(self.rank), shape)]
        eager = self._eager_bound(b, self._in_size(b, shape))
        problems = first_of(*self.eager.family.check(eager))  # the constructor's, run now
        if problems:
            return None, problems
        return self.eager.family.apply(eager, shape)

    def materialised(self, b: dict, shape: Optional[Shape]) -> Optional[dict]:
        """The arguments after the first call, on ``shape``, fixed the in-size (UNKNOWN when
        the shape is: torch built the layer all the same); None after later calls."""
        if self.in_arg in b:
            return None
        if shape is None:
            in_size = 0 if self.in_arg == "num_features" and not self._has_weights(b) else UNKNOWN
        else:
            in_size = self._in_size(b, shape)
        return dict(b, **{self.in_arg: in_size})

    def becomes(self, b: dict) -> Optional[str]:
        return self.eager.name if self.in_arg in b else None

    def params(self, b: dict) -> Optional[int]:
        if self.in_arg not in b:  # torch's weights are uninitialised until the first call
            return 0 if self.in_arg == "num_features" and as_flag(b["affine"]) is False else None
        return self.eager.family.params(self._eager_bound(b, b[self.in_arg]))

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        if self.in_arg not in b:
            return None
        return self.eager.family.parameter_shape(self._eager_bound(b, b[self.in_arg]), name)

    def in_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b.get(self.in_arg))

    def out_channels(self, b: dict) -> Optional[Channels]:
        return self.eager.family.out_channels(self._eager_bound(b, UNKNOWN))
