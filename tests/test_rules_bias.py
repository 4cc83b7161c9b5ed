"""CNV206 bias-before-norm, with torch as the oracle.

The claim is that the norm cancels the conv's bias: in training mode, any change of the bias
leaves the norm's output unchanged (and the bias gets no gradient). torch decides that for each
norm; the rule must warn exactly where torch shows it.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from conv_lint.engine import analyse
from conv_lint.options import Options

TEMPLATE = '''import torch.nn as nn


# conv-lint: input-shape={shape}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = {conv}
        self.norm = {norm}

    def forward(self, x):
        return self.norm(self.conv(x))
'''
CONV_LINE = 8
NORMS = [
    ("2d", "nn.BatchNorm2d(8)"),
    ("2d", "nn.BatchNorm2d(8, affine=False)"),
    ("2d", "nn.BatchNorm2d(8, track_running_stats=False)"),
    ("1d", "nn.BatchNorm1d(8)"),
    ("3d", "nn.BatchNorm3d(8)"),
    ("2d", "nn.InstanceNorm2d(8)"),
    ("2d", "nn.InstanceNorm2d(8, affine=True)"),
    ("1d", "nn.InstanceNorm1d(8, affine=True)"),
    ("3d", "nn.InstanceNorm3d(8)"),
    ("2d", "nn.GroupNorm(8, 8)"),
    ("2d", "nn.GroupNorm(4, 8)"),
    ("2d", "nn.GroupNorm(1, 8)"),
    ("2d", "nn.LayerNorm([8, 6, 6])"),
    ("2d", "nn.LayerNorm(6)"),
    ("2d", "nn.LayerNorm([6, 6])"),
    ("2d", "nn.RMSNorm(6)"),
    ("2d", "nn.LocalResponseNorm(2)"),
]
SHAPES = {"1d": "4,12", "2d": "4,6,6", "3d": "4,4,6,6"}
CONVS = {"1d": "nn.Conv1d(4, 8, 3, padding=1{bias})",
         "2d": "nn.Conv2d(4, 8, 3, padding=1{bias})",
         "3d": "nn.Conv3d(4, 8, 3, padding=1{bias})"}


def build(source: str) -> nn.Module:
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    return namespace["Net"]()


# The cancellation tests judge every conv with a bias, the default one included.
ANY_BIAS = Options(bias_before_norm="any")


def test_by_default_only_a_bias_written_out_is_judged():
    default_bias = TEMPLATE.format(shape="4,6,6", conv=CONVS["2d"].format(bias=""),
                                   norm="nn.BatchNorm2d(8)")
    written = TEMPLATE.format(shape="4,6,6", conv=CONVS["2d"].format(bias=", bias=True"),
                              norm="nn.BatchNorm2d(8)")
    model = build(written)
    assert bias_cancelled(model, (4, 6, 6), model.conv)
    assert [f.code for f in analyse(default_bias).findings] == []
    assert [f.line for f in analyse(written).findings if f.code == "CNV206"] == [CONV_LINE]
    off = Options(bias_before_norm="off")
    assert [f.code for f in analyse(written, options=off).findings] == []


def bias_cancelled(model: nn.Module, shape: tuple, conv: nn.Module) -> bool:
    """torch, training mode: does shifting the conv's bias leave the output unchanged?"""
    torch.manual_seed(0)
    model.train()
    x = torch.randn(4, *shape)
    before = model(x)
    with torch.no_grad():
        conv.bias.add_(torch.randn_like(conv.bias) * 3)
    after = model(x)
    unchanged = torch.allclose(before, after, atol=1e-4)
    (after * torch.randn_like(after)).sum().backward()
    if unchanged:  # and the bias never learns anything: its gradient is rounding noise
        assert conv.bias.grad.abs().max() < 1e-4 * conv.weight.grad.abs().max()
    return unchanged


def warned_lines(source: str) -> list:
    findings = analyse(source, "model.py", options=ANY_BIAS).findings
    return [f.line for f in findings if f.code == "CNV206"]


@pytest.mark.parametrize("rank, norm", NORMS, ids=[norm for _, norm in NORMS])
def test_warns_exactly_when_torch_cancels_the_bias(rank, norm):
    source = TEMPLATE.format(shape=SHAPES[rank], conv=CONVS[rank].format(bias=""), norm=norm)
    model = build(source)
    shape = tuple(int(v) for v in SHAPES[rank].split(","))
    cancelled = bias_cancelled(model, shape, model.conv)
    assert warned_lines(source) == ([CONV_LINE] if cancelled else [])
    if cancelled:
        (finding,) = [f for f in analyse(source, options=ANY_BIAS).findings if f.code == "CNV206"]
        kind = norm.split("(")[0].split(".")[1]
        assert finding.message == f"conv has a bias that norm ({kind}) cancels; use bias=False"


def test_bias_false_is_quiet():
    source = TEMPLATE.format(shape="4,6,6", conv=CONVS["2d"].format(bias=", bias=False"),
                             norm="nn.BatchNorm2d(8)")
    assert warned_lines(source) == []


def test_a_transposed_conv_into_batchnorm():
    conv = "nn.ConvTranspose2d(4, 8, 4, stride=2, padding=1)"
    source = TEMPLATE.format(shape="4,6,6", conv=conv, norm="nn.BatchNorm2d(8)")
    model = build(source)
    assert bias_cancelled(model, (4, 6, 6), model.conv)
    assert warned_lines(source) == [CONV_LINE]


ACTIVATION_FIRST = '''import torch.nn as nn


# conv-lint: input-shape=4,6,6
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.norm = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        y = self.conv(x)
        return {result}
'''


@pytest.mark.parametrize("result", ["self.norm(self.relu(y))",
                                    "self.norm(y) + self.head(y)"])
def test_a_bias_that_matters_elsewhere_is_quiet(result):
    """A ReLU between conv and norm, or the conv's output also read by another layer: the bias
    changes the model's output (torch), so it stays."""
    source = ACTIVATION_FIRST.format(result=result)
    model = build(source)
    assert not bias_cancelled(model, (4, 6, 6), model.conv)
    assert warned_lines(source) == []


def test_one_warning_for_a_conv_built_once_in_a_loop():
    source = '''import torch.nn as nn


# conv-lint: input-shape=3,16,16
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers, channels = [], 3
        for width in (8, 16, 16):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width)]
            channels = width
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)
'''
    assert warned_lines(source) == [10]
