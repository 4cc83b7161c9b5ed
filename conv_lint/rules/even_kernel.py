"""CNV202 even-kernel-padding: a stride-1 conv with an even kernel and symmetric padding that
grows the map."""

from __future__ import annotations

from conv_lint.rules import register
from conv_lint.rules.base import Rule
from conv_lint.rules.geometry import (
    ConvGeometry, conv_geometry, cropped_full_padding, grows_even_axis, is_pad, size_change,
    spatial, value_text,
)


@register
class EvenKernelPadding(Rule):
    """A stride-1 conv keeps an axis only with d*(k-1) padding in all; symmetric padding p
    gives 2p, so an even effective kernel (d*(k-1)+1 even) cannot keep it: kernel_size=4 with
    padding=2 grows the map by one row and column. The usual fix is padding='same' (torch pads
    one side more) or an explicit nn.ZeroPad2d before a conv with padding=0.

    Quiet: strided even kernels (DCGAN's 4x4 stride 2 padding 1 halves the map exactly),
    padding='same', transposed convs, a conv fed by a padding layer, and full padding d*(k-1)
    whose output is cropped before any layer uses it (a causal convolution). An even kernel
    that shrinks the map is CNV201's business (it can be the odd one out of its module), so a
    layer never gets both codes.
    """

    code = "CNV202"
    VALID = (
        # DCGAN discriminator: 4x4 stride 2 padding 1 halves the map exactly
        """import torch.nn as nn


# conv-lint: input-shape=3,64,64
class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        return self.main(x)
""",
        # padding='same' with an even kernel: torch pads one side more and keeps the size
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, padding="same")

    def forward(self, x):
        return self.conv(x)
""",
        # a causal conv: pad fully, then crop what leaks from the future
        """import torch.nn as nn


# conv-lint: input-shape=1,100
class CausalConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 16, 2, padding=1)
        self.head = nn.Conv1d(16, 4, 1)

    def forward(self, x):
        return self.head(self.conv(x)[:, :, :-1])
""",
        # PatchGAN's stride-1 4x4 padding 1 shrinks the map by one, by design: no symmetric
        # padding keeps an even kernel's size, and neither CNV202 nor CNV201 speaks
        """import torch.nn as nn


# conv-lint: input-shape=3,64,64
class PatchDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, stride=1, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 128, 3, stride=1, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 1, 4, stride=1, padding=1),
        )

    def forward(self, x):
        return self.model(x)
""",
    )
    INVALID = (
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=4, padding=2)  # expect: CNV202
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
    )

    def check(self, run, options):
        seen: set = set()
        for call in run.calls:
            geometry = conv_geometry(call)
            if geometry is None or geometry.transposed or not geometry.stride_one:
                continue
            if id(call.layer) in seen or is_pad(call.fed_by) or not grows_even_axis(geometry):
                continue
            seen.add(id(call.layer))
            if cropped_full_padding(run, call, geometry):
                continue
            yield call.node, _fields(call, geometry)


def _kernel_text(call, geometry: ConvGeometry) -> str:
    text = value_text(call.bound["kernel_size"])
    if any(d != 1 for d in geometry.dilation):
        text += f" (dilation {value_text(call.bound['dilation'])})"
    return text


def _fields(call, geometry: ConvGeometry) -> dict:
    growth = geometry.growth
    before, after = size_change(spatial(call.input, geometry.rank), growth)
    return {"layer": call.name, "kernel": _kernel_text(call, geometry),
            "padding": value_text(call.bound["padding"]),
            "growth": _growth_text(growth), "before": before, "after": after}


def _growth_text(growth: tuple) -> str:
    """One number when every axis that grows grows by it (the sizes show which axes)."""
    grown = {g for g in growth if g > 0}
    return str(grown.pop()) if len(grown) == 1 and min(growth) >= 0 else value_text(growth)
