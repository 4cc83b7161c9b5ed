"""CNV205 floor-drops-input: a conv or pool whose last window ends before its input does."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from conv_lint.layers.resizing import Pad
from conv_lint.rules import register
from conv_lint.rules.base import Rule
from conv_lint.rules.geometry import (
    Window, is_pad, nodes_flagged_before, pad_per_axis, size_text, spatial, window,
)

AXIS_NOUNS = {1: (("position", "positions"),),
              2: (("row", "rows"), ("column", "columns")),
              3: (("frame", "frames"), ("row", "rows"), ("column", "columns"))}
MAX_PERIOD = 256  # model-input search: at most this product of strides along the way


@register
class FloorDropsInput(Rule):
    """With a known input size, torch's output size ``floor((n + 2p - d*(k-1) - 1)/s) + 1``
    leaves out the rows that would need one more window: when the last window ends before the
    last row of the (unpadded) input, those rows are silently ignored. The warning says how
    many, and the nearest input size that this layer would read whole; when the layer's input
    comes from the model's input through a plain chain of layers, the model input size that
    gets there too (with every layer on the way read whole).

    Quiet: a remainder that falls on the padding only (3x3 stride 2 padding 1 on 32 reads
    every row), stride-1 layers (they never drop), axes whose stride is larger than the kernel
    (CNV204's business: rows between windows are never read anyway) or whose kernel is dilated
    (rows between its taps are skipped too), convs with a padding_mode other than zeros, and
    sizes that are not known (no input shape given). A padding layer right before the layer
    pads for it: its rows are not data (a reflection pad then a conv without padding).
    ceil_mode pools are judged with torch's own windows.
    """

    code = "CNV205"
    VALID = (
        # the remainder of 3x3 stride 2 padding 1 on 32 falls on the padding: nothing dropped
        """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.conv1(x))
""",
        # a ceil_mode pool covers the odd last row with a partial window
        """import torch.nn as nn


# conv-lint: input-shape=3,33,33
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)

    def forward(self, x):
        return self.pool(self.conv1(x))
""",
    )
    INVALID = (
        # AlexNet's original 11x11 stride 4 without padding on 224: the last 1 row and column
        # are never read (227 is the size it was designed for)
        """import torch.nn as nn


# conv-lint: input-shape=3,224,224
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)  # expect: CNV205
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.conv1(x))
""",
        # a 2x2 pool on an odd map drops its last row and column
        """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.pool2 = nn.MaxPool2d(2)
        self.pool3 = nn.MaxPool2d(2)  # expect: CNV205

    def forward(self, x):
        return self.pool3(self.pool2(self.pool1(self.conv1(x))))
""",
    )

    def check(self, run, options):
        flagged = nodes_flagged_before(run, options, self.code)
        for call in run.calls:
            judged = judged_window(call)
            if judged is None or id(call.node) in flagged:
                continue
            window_, real_input = judged
            dims = spatial(real_input, window_.rank)
            if dims is None or not all(type(n) is int for n in dims):
                continue
            drops = {axis: window_.dropped(n, axis) for axis, n in enumerate(dims)
                     if _judged_axis(window_, axis)}
            drops = {axis: count for axis, count in drops.items() if count}
            fields = _fields(run, call, window_, dims, drops) if drops else None
            if fields is not None:
                yield call.node, fields


def _judged_axis(window_: Window, axis: int) -> bool:
    """Windows that touch or overlap and have no holes: every row up to the last window's end
    is read, so the rows after it are all the input loses."""
    return window_.dilation[axis] == 1 and window_.stride[axis] <= window_.span[axis]


def judged_window(call) -> Optional[tuple]:
    """(the windows, the real input shape) of a conv or pool call: a padding layer that feeds
    it pads for it (its rows are not data), so its padding joins the window's and its input is
    the real one. None for other calls, non-zero padding modes and wrapping pads."""
    window_ = window(call)
    if window_ is None or window_.padding_mode != "zeros":
        return None
    pad = pad_per_axis(call.fed_by, window_.rank) if call.fed_by is not None else None
    if pad is None:
        return window_, call.input
    mode, pairs = pad
    if mode == "circular" or any(p < 0 for pair in pairs for p in pair):
        return None  # a wrapped pad holds real rows from the other end; a negative one crops
    padding = tuple((b + pb, a + pa) for (b, a), (pb, pa) in zip(window_.padding, pairs))
    return replace(window_, padding=padding), call.fed_by.input


def _fields(run, call, window_: Window, dims: tuple, drops: dict) -> Optional[dict]:
    nouns = AXIS_NOUNS[window_.rank]
    counts = sorted(drops.items())
    words = [nouns[axis][count != 1] for axis, count in counts]
    if len({count for _, count in counts}) == 1:
        dropped, what = str(counts[0][1]), " and ".join(words)
    else:
        dropped = str(counts[0][1])
        what = words[0] + "".join(f" and {count} {word}"
                                  for (_, count), word in zip(counts[1:], words[1:]))
    fixed = list(dims)
    for axis in drops:
        fixed[axis] = _nearest_whole(window_, axis, dims[axis])
        if fixed[axis] is None:
            return None
    fix = size_text(tuple(fixed))
    model = _model_fix(run, call, window_, drops)
    if model is not None:
        layer_in, model_in = model
        fix = size_text(layer_in)
        if layer_in != model_in:
            fix += f" (model input {size_text(model_in)})"
    return {"layer": call.name, "dropped": dropped, "what": what, "size": size_text(dims),
            "fix": fix}


def _nearest_whole(window_: Window, axis: int, n: int) -> Optional[int]:
    """The input size nearest to ``n`` that ``axis`` reads whole (the larger on a tie)."""
    for distance in range(1, 2 * (window_.stride[axis] + window_.span[axis]) + 1):
        for candidate in (n + distance, n - distance):
            if candidate > 0 and window_.outputs(candidate, axis) >= 1 and \
                    window_.dropped(candidate, axis) == 0:
                return candidate
    return None


# ---- the model input that gets there


def _chain(run, call) -> Optional[list]:
    """The calls from the model's input to ``call`` (included), each fed by the one before,
    when they are all layers whose sizes can be recomputed (windows, padding, shape-keeping)."""
    chain = [call]
    while chain[-1].fed_by is not None:
        chain.append(chain[-1].fed_by)
    chain.reverse()
    if chain[0] is not run.calls[0]:
        return None
    for member in chain:
        family = getattr(member.kind, "family", None)
        if window(member) is None and not member.kind.elementwise and not isinstance(family, Pad):
            return None
    return chain


def _through(chain: list, shape: tuple, rank: int, axis: int) -> Optional[tuple]:
    """The real input shape of the chain's last call when the model input is ``shape``; None if
    a layer on the way fails or leaves rows of ``axis`` unread."""
    inputs = {}
    for member in chain:
        inputs[id(member)] = shape
        judged = judged_window(member)
        if judged is not None:
            window_ = judged[0]
            padded = member.fed_by is not None and is_pad(member.fed_by)
            real = inputs[id(member.fed_by)] if padded else shape
            n = spatial(real, rank)[axis]
            if _judged_axis(window_, axis) and (
                    window_.outputs(n, axis) < 1 or window_.dropped(n, axis)):
                return None
            if member is chain[-1]:
                return real
        shape, problems = member.kind.apply(member.bound, shape)
        if problems or shape is None:
            return None
    return None


def _model_fix(run, call, window_: Window, drops: dict) -> Optional[tuple]:
    """(the layer's real input size, the model's input size) nearest to the actual model input
    for which every dropping axis is read whole, by this layer and every layer before it."""
    chain = _chain(run, call)
    if chain is None or len(chain) < 2:
        return None
    rank = window_.rank
    model_shape = tuple(chain[0].input)
    model_in = spatial(model_shape, rank)
    if model_in is None or not all(type(n) is int for n in model_in):
        return None
    offset = len(model_shape) - rank
    layer_in, model_in = list(spatial(judged_window(call)[1], rank)), list(model_in)
    for axis in drops:
        period = 1
        for member in chain[:-1]:
            member_window = window(member)
            period *= member_window.stride[axis] if member_window is not None else 1
        if period > MAX_PERIOD:
            return None
        found = None
        for distance in range(1, 2 * period + window_.span[axis] + 1):
            for candidate in (model_in[axis] + distance, model_in[axis] - distance):
                if candidate < 1:
                    continue
                shape = list(model_shape)
                shape[offset + axis] = candidate
                reached = _through(chain, tuple(shape), rank, axis)
                if reached is not None:
                    found = (candidate, spatial(reached, rank)[axis])
                    break
            if found is not None:
                break
        if found is None:
            return None
        model_in[axis], layer_in[axis] = found
    return tuple(layer_in), tuple(model_in)
