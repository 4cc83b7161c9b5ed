"""Functions given their weight tensor: F.conv1d/2d/3d, F.conv_transpose1d/2d/3d and F.linear.

The weight's shape stands for the layer's size arguments (a conv's weight is (out, in // groups,
*kernel), transposed (in, out // groups, *kernel); a linear's (out_features, in_features)), and
the rules are the Conv and Linear families' own. What torch raises on the sizes is worded with
the weight, as torch words it ("weight of size [64, 32, 3, 3]")."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from conv_lint.algebra import symbols
from conv_lint.layers.base import Channels, Family, Shape, as_channels, as_int, dim_text, sized
from conv_lint.layers.convolution import Conv
from conv_lint.layers.linear import Linear
from conv_lint.records import record

_LINEAR = Linear()


def tensor_shape(value) -> Optional[tuple]:
    """The shape of a tensor argument (interpreter.values.Tensor), None if unknown or not one."""
    shape = getattr(value, "shape", None)
    return tuple(shape) if isinstance(shape, tuple) else None


def weight_text(shape: tuple) -> str:
    return "[" + ", ".join(dim_text(d) for d in shape) + "]"


def bias_fits(bias, out: Channels) -> bool:
    """No bias, or a bias of shape (out,): other biases make torch raise, or are not read here."""
    if bias is None:
        return True
    shape = tensor_shape(bias)
    return shape is not None and len(shape) == 1 and (shape[0] is out or shape[0] == out)


def _worded(problems: list, layer: str) -> list:
    """The problems of the family, the layer named with its weight."""
    return [replace(p, fields=dict(p.fields, layer=layer)) for p in problems]


@record(frozen=True)
class WeightedConv(Family):
    """F.convNd(input, weight, bias, stride, padding, dilation, groups) and
    F.conv_transposeNd(input, weight, bias, stride, padding, output_padding, groups, dilation)."""

    rank: int
    transposed: bool = False

    @property
    def conv(self) -> Conv:
        return Conv(self.rank, self.transposed)

    def conv_bound(self, b: dict) -> Optional[dict]:
        """The nn.ConvNd arguments the weight and the call's arguments stand for; None when
        the weight's shape, the groups or the bias are not known well enough."""
        weight, groups = tensor_shape(b["weight"]), as_int(b["groups"])
        if weight is None or len(weight) != self.rank + 2 or groups is None or groups <= 0:
            return None
        kernel = weight[2:]
        if not all(type(k) is int and k > 0 for k in kernel):
            return None
        first, second = as_channels(weight[0]), as_channels(weight[1])
        if first is None or second is None:
            return None
        grouped = symbols.arith("Multiply", second, groups)
        c_in, c_out = (first, grouped) if self.transposed else (grouped, first)
        if grouped is None or not bias_fits(b["bias"], c_out):
            return None
        bound = dict(in_channels=c_in, out_channels=c_out, kernel_size=tuple(kernel),
                     stride=b["stride"], padding=b["padding"], dilation=b["dilation"],
                     groups=groups, bias=b["bias"] is not None, padding_mode="zeros")
        if self.transposed:
            bound["output_padding"] = b["output_padding"]
        return bound

    def name(self, b: dict) -> str:
        kind = "conv_transpose" if self.transposed else "conv"
        return f"F.{kind}{self.rank}d with weight of size {weight_text(tensor_shape(b['weight']))}"

    def check(self, b: dict) -> list:
        bound = self.conv_bound(b)
        return [] if bound is None else _worded(self.conv.check(bound), self.name(b))

    def apply(self, b: dict, shape: Shape) -> tuple:
        bound = self.conv_bound(b)
        if bound is None:
            return None, []
        out, problems = self.conv.apply(bound, shape)
        return out, _worded(problems, self.name(b))

    def in_channels(self, b: dict) -> Optional[Channels]:
        bound = self.conv_bound(b)
        return None if bound is None else bound["in_channels"]

    def out_channels(self, b: dict) -> Optional[Channels]:
        bound = self.conv_bound(b)
        return None if bound is None else bound["out_channels"]


@record(frozen=True)
class WeightedLinear(Family):
    """F.linear(input, weight, bias): a 2-D weight (out_features, in_features)."""

    def linear_bound(self, b: dict) -> Optional[dict]:
        weight = tensor_shape(b["weight"])
        if weight is None or len(weight) != 2 or not all(sized(d) for d in weight):
            return None
        if not bias_fits(b["bias"], weight[0]):
            return None
        return dict(in_features=weight[1], out_features=weight[0], bias=b["bias"] is not None)

    def apply(self, b: dict, shape: Shape) -> tuple:
        bound = self.linear_bound(b)
        if bound is None:
            return None, []
        out, problems = _LINEAR.apply(bound, shape)
        return out, _worded(problems, f"F.linear with weight of size "
                                      f"{weight_text(tensor_shape(b['weight']))}")

    def in_channels(self, b: dict) -> Optional[Channels]:
        bound = self.linear_bound(b)
        return None if bound is None else as_channels(bound["in_features"])

    def out_channels(self, b: dict) -> Optional[Channels]:
        bound = self.linear_bound(b)
        return None if bound is None else as_channels(bound["out_features"])
