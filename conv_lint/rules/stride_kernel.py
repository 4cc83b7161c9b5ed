"""CNV204 stride-over-kernel: a conv or pool whose windows leave input rows unread."""

from __future__ import annotations

from conv_lint.rules import register
from conv_lint.rules.base import Rule
from conv_lint.rules.geometry import (
    axis_values, is_projection_shortcut, kernel_text, nodes_flagged_before, stride_skip, window,
)


@register
class StrideOverKernel(Rule):
    """A conv or pool whose stride is larger than its effective kernel ``d*(k-1)+1`` never
    reads the rows and columns between its windows: ``stride - kernel`` of every ``stride``
    (a dilated kernel still reads ``kernel`` distinct rows of each stride). Whatever they hold
    cannot influence the output; the usual fix is a kernel at least as large as the stride.

    Quiet: 1x1 projection shortcuts (a 1x1 strided conv, or a kernel-1 pool, whose output goes
    on, through norms and activations at most, only into an add, a cat or forward's result:
    ResNet's downsample subsamples on purpose); transposed convs (they write, not read, with
    gaps). A 1x1 strided conv on the main path (its output is convolved further) is flagged.
    An early layer that CNV203 flags is left to CNV203.
    """

    code = "CNV204"
    VALID = (
        # ResNet's projection shortcut: 1x1 stride 2 beside a 3x3 stride-2 main path
        """import torch.nn as nn


# conv-lint: input-shape=64,32,32
class BasicBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(128)
        self.conv2 = nn.Conv2d(128, 128, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(128)
        self.downsample = nn.Sequential(
            nn.Conv2d(64, 128, 1, stride=2, bias=False),
            nn.BatchNorm2d(128),
        )

    def forward(self, x):
        out = nn.functional.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return nn.functional.relu(out + self.downsample(x))
""",
        # pools whose stride equals the kernel read every pixel once
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.down = nn.Conv2d(32, 32, 2, stride=2)

    def forward(self, x):
        return self.down(self.conv2(self.pool(self.conv1(x))))
""",
    )
    INVALID = (
        # a 1x1 stride-2 conv on the main path of a bottleneck: 3 of 4 positions never read
        """import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 64, 1, stride=2, bias=False)  # expect: CNV204
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 256, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(256)
        self.shortcut = nn.Sequential(nn.Conv2d(channels, 256, 1, stride=2, bias=False),
                                      nn.BatchNorm2d(256))

    def forward(self, x):
        out = nn.functional.relu(self.bn1(self.conv1(x)))
        out = nn.functional.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return nn.functional.relu(out + self.shortcut(x))


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        )
        self.block = Bottleneck(64)

    def forward(self, x):
        return self.block(self.stem(x))
""",
        # a pool whose stride outruns its kernel
        """import torch.nn as nn


# conv-lint: input-shape=3,64,64
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=3)  # expect: CNV204
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)

    def forward(self, x):
        return self.conv3(self.pool(self.conv2(self.conv1(x))))
""",
    )

    def check(self, run, options):
        flagged = nodes_flagged_before(run, options, self.code)
        for call in run.calls:
            window_ = window(call)
            if window_ is None or id(call.node) in flagged:
                continue
            axes = window_.skipping_axes()
            if not axes or is_projection_shortcut(run, call, window_):
                continue
            stride = axis_values(tuple(window_.stride[i] for i in axes))
            yield call.node, {
                "layer": call.name, "stride": stride, "kernel": kernel_text(window_, axes),
                "skipped": axis_values(tuple(stride_skip(window_, i) for i in axes)),
            }
