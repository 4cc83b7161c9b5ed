"""CNV206 bias-before-norm: a conv bias that the normalisation after it subtracts away."""

from __future__ import annotations

from conv_lint.algebra import sizes
from conv_lint.fixes.proposals import Change
from conv_lint.layers.base import as_flag, as_int
from conv_lint.layers.convolution import Conv
from conv_lint.layers.normalisation import (
    BatchNorm, GroupNorm, InstanceNorm, LayerNorm,
)
from conv_lint.rules import register
from conv_lint.rules.base import Rule
from conv_lint.rules.geometry import nodes_flagged_before


@register
class BiasBeforeNorm(Rule):
    """A conv's bias adds one constant per output channel. A normalisation that subtracts a
    per-channel mean right after it removes that constant exactly, whatever its value: the bias
    is a parameter that never changes the output (its gradient is zero). Build the conv with
    ``bias=False``; the norm's own shift (``affine=True``) plays its part.

    Norms that cancel it: BatchNorm (1d/2d/3d, SyncBatchNorm: the batch mean per channel),
    InstanceNorm (the per-sample mean per channel, affine or not), a GroupNorm with one
    channel per group and a LayerNorm over trailing spatial axes only. A GroupNorm with several
    channels per group, or a LayerNorm that takes the channels in, subtracts a mean common to
    several channels, so part of the bias survives: not flagged; nor is RMSNorm (no mean).

    Only a norm fed directly by the conv counts (forward's order, a Sequential included); a
    conv whose output another layer also reads keeps its bias (an add or a cat reading it is
    not seen: ``y = conv(x); bn(y) + y`` is flagged though its bias reaches the sum). Convs
    (transposed ones too) only; a conv line that another design warning already flags is left
    to that warning.
    """

    code = "CNV206"
    VALID = (
        # the usual conv-bn-relu: bias=False
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))
""",
        # a GroupNorm with 4 channels per group keeps what the bias varies within a group
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, padding=1)
        self.norm = nn.GroupNorm(8, 32)

    def forward(self, x):
        return self.norm(self.conv(x)).relu()
""",
        # norm after the activation: the bias shifts what the ReLU clips, it is not cancelled
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16),
        )

    def forward(self, x):
        return self.features(x)
""",
    )
    INVALID = (
        # conv with bias=True straight into BatchNorm
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=True)  # expect: CNV206
        self.bn1 = nn.BatchNorm2d(32)

    def forward(self, x):
        return nn.functional.relu(self.bn1(self.conv1(x)))
""",
        # the same in a Sequential, and before an InstanceNorm; the default bias counts too
        # under `--conv-bias-before-norm=any`
        """import torch.nn as nn

# options: --conv-bias-before-norm=any


# conv-lint: input-shape=3,64,64
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),  # expect: CNV206
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1, bias=True),  # expect: CNV206
            nn.InstanceNorm2d(32, affine=True),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.block(x)
""",
    )

    def check(self, run, options):
        flagged = nodes_flagged_before(run, options, self.code)
        for call in run.calls:
            conv = call.fed_by
            if conv is None or not _cancels_channel_bias(call) or id(conv.node) in flagged:
                continue
            if not isinstance(getattr(conv.kind, "family", None), Conv) or conv.layer is None:
                continue
            if as_flag(conv.bound.get("bias")) is not True or options.bias_before_norm == "off":
                continue
            if options.bias_before_norm == "explicit" and not _bias_written(conv.node):
                continue
            if any(other.fed_by is conv and other is not call for other in run.calls):
                continue  # the conv's output is used elsewhere too: its bias matters there
            yield conv.node, {"layer": conv.name, "norm": f"{call.name} ({call.kind.name})"}

    def change(self, run, node, fields):
        call = self.layer_call(run, node, fields)
        return None if call is None else Change(node, call.kind, "bias", False, call.layer)


def _bias_written(node) -> bool:
    """Does the conv's constructor call pass ``bias`` (by keyword or as the 8th positional)?

    ``**kwargs`` does not count: in real code it carries device/dtype far more often than a bias.
    """
    args = getattr(node, "args", ())
    positional = [arg for arg in args if arg.keyword is None and not arg.star]
    return len(positional) >= 8 or any(
        arg.keyword is not None and arg.keyword.value == "bias" for arg in args
    )


def _cancels_channel_bias(call) -> bool:
    """Does this norm subtract a mean taken over each channel on its own?"""
    family = getattr(call.kind, "family", None)
    if isinstance(family, (BatchNorm, InstanceNorm)):
        return True
    if isinstance(family, GroupNorm):
        groups = as_int(call.bound.get("num_groups"))
        channels = as_int(call.bound.get("num_channels"))
        if channels is None and call.input is not None and len(call.input) > 1:
            channels = as_int(call.input[1])
        return groups is not None and groups == channels
    if isinstance(family, LayerNorm) and family.bias_param:  # RMSNorm subtracts no mean
        value = call.bound.get("normalized_shape")
        axes = 1 if as_int(value) is not None else len(value) if isinstance(value, tuple) else None
        shape = call.input
        batched = shape is not None and len(shape) > 2 and shape[0] is sizes.BATCH
        return axes is not None and batched and axes <= len(shape) - 2  # the channels left out
    return False
