"""CNV203 excessive-early-stride: downsampling too aggressive before the network has learned
anything."""

from __future__ import annotations

from typing import Optional

from conv_lint.layers.convolution import Conv
from conv_lint.layers.linear import Linear
from conv_lint.layers.resizing import Pad
from conv_lint.records import record
from conv_lint.rules import register
from conv_lint.rules.base import Options, Rule
from conv_lint.rules.geometry import (
    Window, axis_values, feeds_window, is_projection_shortcut, kernel_text, stride_skip,
    window,
)

_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}


@record
class EarlyFinding:
    """An early layer that throws detail away, and what to say about it."""

    call: object
    detail: str


@register
class ExcessiveEarlyStride(Rule):
    """The first layers of an image or video model may not throw detail away before a
    feature is learned. Early layers: every conv and pool from the input up to and including
    the ``early_layers``-th weight layer (conv or linear layer), in forward's order. One of
    them is flagged when

    - its stride is larger than its (effective) kernel, so input rows and columns are never
      read (a 3x3 conv with stride 4 as the first layer); 1x1 projection shortcuts excepted;
    - its stride is above ``max_early_stride`` (default 4: AlexNet's 11x11 stride 4 passes),
      unless it cuts non-overlapping patches (kernel = stride: the patch embedding of ViT,
      Swin, ConvNeXt and MLP-Mixer, which reads every pixel exactly once) or is the first
      conv, its kernel covers its stride and its output no conv or pool reads, even through
      norms and activations (an overlapping patch embedding that feeds a transformer, PiT's
      16x16 stride 8: the stride only sets the token grid);
    - it brings the input's total downsampling (the product of the strides so far, pools
      included, patch embeddings not) above ``max_early_downsampling`` (default 8) before the
      ``early_layers``-th weight layer: a ResNet stem (7x7 stride 2, 3x3 max-pool stride 2)
      reaches 4 before its second conv, AlexNet (11x11 stride 4, max-pool stride 2) 8; a 7x7
      stride-4 conv followed by a 4x4 max-pool reaches 16.

    Defaults: ``early_layers=2``, ``max_early_stride=4``, ``max_early_downsampling=8``. 1D
    models (audio, ECG) are not judged: a waveform sampled at 16 kHz is routinely strided by 5
    to 16 in its first layer (wav2vec 2.0, M5). The downsampling is followed from layer to
    layer; where a tensor comes out of something else (an add, a reshape), it stays unjudged.
    An early layer flagged here is not flagged again as CNV204.

    Strict setting, ``--conv-max-early-stride=1``: no stride above 1 in the early layers,
    patch embeddings excepted. On a 1x28x28 MNIST digit, ``conv1 = Conv2d(1, 16, 3,
    padding=1)`` then ``conv2 = Conv2d(16, 32, 3, stride=2, padding=1)`` is quiet by default
    (halving a map once is normal) and flagged on conv2 under the strict setting: the stride
    halves the 28x28 digit to 14x14 after a single layer of features.
    """

    code = "CNV203"
    VALID = (
        # ResNet stem: 7x7 stride 2, then a 3x3 max-pool stride 2 (4x before the 2nd conv)
        """import torch.nn as nn


# conv-lint: input-shape=3,224,224
class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
""",
        # AlexNet: 11x11 stride 4, then max-pool stride 2: 8x before the 2nd conv
        """import torch.nn as nn


# conv-lint: input-shape=3,224,224
class AlexNetFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )

    def forward(self, x):
        return self.features(x)
""",
        # a ViT patch embedding: 16x16 patches, stride 16
        """import torch.nn as nn


# conv-lint: input-shape=3,224,224
class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 768, kernel_size=16, stride=16)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)
""",
        # the example (b): one halving after a layer of features is normal
        """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
    )
    INVALID = (
        # a 3x3 stride-4 first layer never reads 1 of every 4 rows and columns
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, stride=4, padding=1)  # expect: CNV203
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
        # the example (b) under the strict setting
        """import torch.nn as nn


# options: --conv-max-early-stride=1
# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)  # expect: CNV203

    def forward(self, x):
        return self.conv2(self.conv1(x))
""",
        # each step within the stride limit, but 16x before the second conv
        """import torch.nn as nn


# conv-lint: input-shape=3,128,128
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 7, stride=4, padding=3)
        self.pool = nn.MaxPool2d(4)  # expect: CNV203
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.pool(self.conv1(x)))
""",
    )

    def check(self, run, options):
        for finding in early_findings(run, options):
            yield finding.call.node, {"layer": finding.call.name, "detail": finding.detail}


@record(frozen=True)
class Downsampling:
    """How much smaller a map is than the input, per axis: in all, and what counts against the
    limit (everything but patch embeddings)."""

    total: tuple
    counted: tuple

    def then(self, stride: tuple, counts: bool) -> "Downsampling":
        total = tuple(f * s for f, s in zip(self.total, stride))
        counted = tuple(f * s for f, s in zip(self.counted, stride)) if counts else self.counted
        return Downsampling(total, counted)


def early_findings(run, options: Options) -> list:
    """CNV203's findings: also what CNV204 leaves to it."""
    limit_stride, limit_total = options.max_early_stride, options.max_early_downsampling
    findings = []
    factors: dict = {}  # id(call) -> Downsampling of its output, None: unknown
    weights = 0  # weight layers (convs, linear layers) met so far
    for call in run.calls:
        if weights >= options.early_layers:
            break
        before = _input_factor(run, call, factors)
        window_ = window(call)
        family = getattr(call.kind, "family", None)
        if window_ is None or window_.rank < 2:
            weights += isinstance(family, (Conv, Linear))
            keeps = call.kind.elementwise or isinstance(family, Pad)
            factors[id(call)] = before if keeps and window_ is None else None
            continue
        is_conv = isinstance(family, Conv)
        weights += is_conv
        after = None
        if before is not None and len(before.total) == window_.rank:
            after = before.then(window_.stride, not (is_conv and window_.is_patchify()))
        factors[id(call)] = after
        detail = _single_layer(run, call, window_, limit_stride, options.early_layers,
                               first=weights == 1 and is_conv)
        last = is_conv and weights == options.early_layers  # its own stride is not "before"
        if detail is None and after is not None and not last and \
                max(after.counted) > limit_total >= max(before.counted):
            detail = f"the input is downsampled {max(after.total)}x {_where(weights, is_conv)}"
            if after.counted != after.total:
                detail += f", {max(after.counted)}x after the patch embedding"
            detail += f", above max-early-downsampling={limit_total}"
        if detail is not None:
            findings.append(EarlyFinding(call, detail))
    return findings


def _input_factor(run, call, factors: dict) -> Optional[Downsampling]:
    """The downsampling of the map ``call`` receives; None when it cannot be told."""
    if call.fed_by is not None:
        return factors.get(id(call.fed_by))
    if call is run.calls[0]:
        window_ = window(call)
        rank = window_.rank if window_ is not None else max(len(call.input) - 2, 0)
        return Downsampling((1,) * rank, (1,) * rank)
    return None


def _single_layer(run, call, window_: Window, limit: int, early: int,
                  first: bool) -> Optional[str]:
    skipping = window_.skipping_axes()
    if skipping and not is_projection_shortcut(run, call, window_):
        axes = skipping
        stride = axis_values(tuple(window_.stride[i] for i in axes))
        kernel = kernel_text(window_, axes)
        skipped = axis_values(tuple(stride_skip(window_, i) for i in axes))
        return f"stride {stride} is larger than kernel {kernel} in the first layers: " \
               f"{skipped} of every {stride} input rows/columns are never read"
    if max(window_.stride) > limit and not window_.is_patchify() and \
            not (first and _is_token_embedding(run, call, window_)):
        return f"stride {axis_values(window_.stride)} in the first {early} weight layers is " \
               f"above max-early-stride={limit}"
    return None


def _is_token_embedding(run, call, window_: Window) -> bool:
    """A first conv whose kernel covers its stride (it reads every pixel) and whose output no
    other layer convolves or pools: the overlapping patch embedding of a transformer (PiT's
    16x16 stride 8), where the stride only sets the token grid."""
    covered = all(k >= s for k, s in zip(window_.span, window_.stride))
    return covered and isinstance(call.kind.family, Conv) and not feeds_window(run, call)


def _where(weights: int, is_conv: bool) -> str:
    if is_conv:
        return f"by its {_ordinal(weights)} weight layer"
    if weights == 0:
        return "before its first weight layer"
    return f"after only {weights} weight layer{'s' if weights > 1 else ''}"


def _ordinal(n: int) -> str:
    return _ORDINALS.get(n, f"{n}th")
