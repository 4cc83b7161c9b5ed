"""CNV201 padding-changes-size: a stride-1 conv that shrinks or grows the map among convs that
keep it."""

from __future__ import annotations

from collections import defaultdict

from conv_lint.algebra import sizes
from conv_lint.fixes.proposals import Change
from conv_lint.records import record
from conv_lint.rules import register
from conv_lint.rules.base import Rule
from conv_lint.rules.geometry import (
    ConvGeometry, conv_geometry, cropped_full_padding, is_pad, names_text,
    size_change, spatial, value_text,
)


@record
class _Conv:
    """A conv of a module, as CNV201 sees it."""

    call: object
    geometry: ConvGeometry
    role: str  # "keeps" (a real choice of padding), "trivial" (1x1), "changes", "strided",
    # "unsure" (fed by a padding layer, the pair's size not proven kept)


@register
class PaddingChangesSize(Rule):
    """A stride-1 conv whose padding p is not d*(k-1)/2 changes the map size by 2p - d*(k-1)
    per axis. Among convs that keep the size that is usually a forgotten padding: the warning
    names the layer, the convs that keep the size and the padding that would.

    The odd one out: a conv of the same module (or Sequential, or block: the layers one module
    holds directly) keeps the size of the map this one reads or makes, and the module's
    size-changing convs are this one alone or fewer than those keeping it. So modules that
    shrink on purpose (LeNet, UNet's valid convs) and a valid conv after a pool (LeNet-5's
    second) are left alone. 1x1 convs keep any size and vote for nothing; strided and
    transposed convs and padding='same' are not judged; a conv fed by a padding layer is judged
    with it; a conv that reduces an axis to 1 does so on purpose; full padding d*(k-1) cropped
    before any layer uses it is a causal conv. An even effective kernel has no symmetric padding
    that keeps its size: growing is CNV202's, shrinking (PatchGAN's 4x4 padding 1) is left alone.

    ``padding_policy``: "consistent" (the default: the odd-one-out rule), "strict" (every
    stride-1 conv that a symmetric padding could keep must keep its size), "off".
    """

    code = "CNV201"
    VALID = (
        # LeNet: valid convolutions everywhere, on purpose
        """import torch.nn as nn


# conv-lint: input-shape=1,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)

    def forward(self, x):
        return self.pool(self.conv2(self.pool(self.conv1(x))))
""",
        # the example (c): every conv keeps the size
        """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
        # reflection padding done by a layer, then a conv with padding=0: the pair keeps the size
        """import torch.nn as nn


# conv-lint: input-shape=3,64,64
class ResidualBlock(nn.Module):
    def __init__(self, channels=3):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)
""",
        # LeNet-5 pads its first conv to keep 28 and leaves the second, after a pool, valid:
        # no conv at the second one's resolution keeps its size
        """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)

    def forward(self, x):
        return self.pool(self.conv2(self.pool(self.conv1(x))))
""",
        # the example (a), with the policy off
        """import torch.nn as nn
# options: --conv-padding-policy=off


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=0)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
    )
    INVALID = (
        # the example (a)
        """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=0)  # expect: CNV201
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
        # a VGG stage with one padding forgotten
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class VGGStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3), nn.ReLU(),  # expect: CNV201
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )

    def forward(self, x):
        return self.features(x)
""",
        # the strict policy: every stride-1 conv a symmetric padding can keep must keep its size
        """import torch.nn as nn
# options: --conv-padding-policy=strict


# conv-lint: input-shape=1,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)  # expect: CNV201
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)  # expect: CNV201

    def forward(self, x):
        return self.pool(self.conv2(self.pool(self.conv1(x))))
""",
    )

    def check(self, run, options):
        if options.padding_policy == "off":
            return
        strict = options.padding_policy == "strict"
        for convs in _modules(run).values():
            keepers = [c for c in convs if c.role == "keeps"]
            changers = [c for c in convs if c.role == "changes"]
            minority = len(changers) == 1 or len(changers) < len(keepers)
            for conv in changers:
                peers = [k.call.name for k in keepers if _same_stage(k, conv)]
                fix = _keeping_padding(conv.geometry)
                if fix is None or not (peers and minority or strict):
                    continue
                if _collapses(conv, convs) or cropped_full_padding(run, conv.call, conv.geometry):
                    continue
                yield conv.call.node, _fields(conv, fix, peers)

    def change(self, run, node, fields):
        call = self.layer_call(run, node, fields)
        geometry = conv_geometry(call) if call is not None else None
        fix = _keeping_padding(geometry) if geometry is not None else None
        return None if fix is None else Change(node, call.kind, "padding", fix, call.layer)


def _modules(run) -> dict:
    """The convs of the run (transposed ones aside) grouped by the module holding them and
    their rank, each layer once, in the order forward first calls them."""
    groups: dict = defaultdict(list)
    seen: set = set()
    for call in run.calls:
        geometry = conv_geometry(call)
        if geometry is None or geometry.transposed:
            continue
        parent = run.parent(call)
        if parent is None or id(call.layer) in seen:
            continue
        seen.add(id(call.layer))
        role = _role(call, geometry) if geometry.stride_one else "strided"
        groups[(parent, geometry.rank)].append(_Conv(call, geometry, role))
    return groups


def _role(call, geometry: ConvGeometry) -> str:
    chose = any(r > 0 for r in geometry.reach)  # a 1x1 conv keeps the size whatever one means
    if is_pad(call.fed_by):  # a padding layer does the padding: judge the pair
        pad_input = spatial(call.fed_by.input, geometry.rank)
        output = spatial(call.output, geometry.rank)
        if pad_input is not None and output is not None and all(
                _same_size(a, b) for a, b in zip(pad_input, output)):
            return "keeps" if chose else "trivial"
        return "unsure"
    if any(geometry.growth):
        return "changes"
    return "keeps" if chose else "trivial"


def _same_stage(keeper: _Conv, conv: _Conv) -> bool:
    """Does ``keeper`` work on the map ``conv`` reads or makes? A keeper at another resolution
    is no witness: LeNet-5 pads its first conv to keep 28 and leaves the second, after a pool,
    unpadded on purpose."""
    rank = conv.geometry.rank
    size = spatial(keeper.call.output, rank)
    return size is not None and any(
        other is not None and all(_same_size(a, b) for a, b in zip(size, other))
        for other in (spatial(conv.call.input, rank), spatial(conv.call.output, rank)))


def _same_size(a, b) -> bool:
    return a is not None and b is not None and (a == b or sizes.proven_equal(a, b))


def _keeping_padding(geometry: ConvGeometry):
    """The symmetric padding that keeps the size, d*(k-1)/2 per axis; None when an axis it
    changes has an even effective kernel (no symmetric padding keeps it: a stride-1 even kernel
    that shrinks is a deliberate choice in practice, PatchGAN's 4x4 padding 1 or CRNN's last
    2x2, and one that grows is CNV202's)."""
    if any(geometry.growth[i] for i in geometry.even_kernel_axes()):
        return None
    fix = tuple(r // 2 for r in geometry.reach)
    return fix[0] if len(set(fix)) == 1 else fix


def _collapses(conv: _Conv, convs: list) -> bool:
    """A conv that reduces an axis to 1 (a kernel as large as the map: an encoder's bottleneck,
    CRNN's height) does so on purpose. With symbolic sizes that cannot be seen, so the shape
    of that design stands for it: the last conv of its module, padding 0 and an effective
    kernel of 5 or more on every axis it changes."""
    geometry = conv.geometry
    output = spatial(conv.call.output, geometry.rank)
    changed = [i for i, g in enumerate(geometry.growth) if g]
    if output is not None and all(type(output[i]) is int for i in changed):
        return any(output[i] == 1 for i in changed)
    spatial_convs = [c for c in convs if any(c.geometry.reach)]
    return bool(spatial_convs) and spatial_convs[-1] is conv and all(
        geometry.padding[i] == 0 and geometry.reach[i] >= 4 for i in changed)


def _fields(conv: _Conv, fix, keepers: list) -> dict:
    geometry, call = conv.geometry, conv.call
    before, after = size_change(spatial(call.input, geometry.rank), geometry.growth)
    peers = f"the convs around it ({names_text(keepers)})" if keepers else \
        "stride-1 convs under padding-policy=strict"
    return {"layer": call.name, "padding": value_text(call.bound["padding"]), "before": before,
            "after": after, "peers": peers, "fix": value_text(fix)}
