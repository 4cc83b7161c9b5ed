"""Subclasses of torch layers (timm's StdConv2d(nn.Conv2d) with its own forward calling
F.conv2d, a subclass without a forward) and functional convolutions given weight tensors:
conv-lint's rows (shapes, parameters) are torch's, run on the same model."""

from __future__ import annotations

import pytest
import torch

from conv_lint.engine import analyse

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class StdConv2d(nn.Conv2d):
    def __init__(self, in_channel, out_channels, kernel_size, stride=1, padding=0, bias=False):
        super().__init__(in_channel, out_channels, kernel_size, stride=stride, padding=padding,
                         bias=bias)

    def forward(self, x):
        w = self.weight - self.weight.mean(dim=(1, 2, 3), keepdim=True)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Plain(nn.Conv2d):
    pass


class Wide(nn.Linear):
    def forward(self, x):
        return F.linear(x, self.weight, self.bias) * self.in_features


# conv-lint: input-shape=3,20,24
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = StdConv2d(3, 8, 3, stride=2, padding=1, bias=True)
        self.c2 = Plain(8, 6, kernel_size=3, dilation=2, bias=False)
        self.c3 = StdConv2d(6, 4, 1)
        self.w = nn.Parameter(torch.zeros(5, 4, 3, 3))
        self.register_buffer("up", torch.ones(5, 2, 2, 2))
        self.fc = Wide(2 * 3 * 7, 7)

    def forward(self, x):
        x = self.c3(self.c2(self.c1(x)))
        x = F.conv2d(x, self.w, None, 1, "same")
        x = F.conv_transpose2d(x, self.up, stride=2)
        return self.fc(F.adaptive_avg_pool2d(x, (3, 7)).flatten(1))
'''


# timm's StdConv2d (standardised by F.batch_norm, reshaped back with reshape_as) and the
# weight-standardisation paper's WSConv2d (view, std, expand_as), in their own words
STANDARDISED = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class StdConv2d(nn.Conv2d):
    def __init__(self, in_channel, out_channels, kernel_size, stride=1, padding=None,
                 dilation=1, groups=1, bias=False, eps=1e-6):
        if padding is None:
            padding = ((stride - 1) + dilation * (kernel_size - 1)) // 2
        super().__init__(in_channel, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1), None, None,
            training=True, momentum=0., eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class WSConv2d(nn.Conv2d):
    def forward(self, x):
        weight = self.weight
        weight_mean = weight.mean(dim=1, keepdim=True).mean(dim=2, keepdim=True).mean(
            dim=3, keepdim=True)
        weight = weight - weight_mean
        std = weight.view(weight.size(0), -1).std(dim=1).view(-1, 1, 1, 1) + 1e-5
        weight = weight / std.expand_as(weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = StdConv2d(3, 16, 3, stride=2, groups=1)
        self.c2 = WSConv2d(16, 8, 3, padding=1, groups=2)
        self.fc = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        return self.fc(self.c2(self.c1(x)).flatten(1))
'''


def torch_rows(source: str, shape: tuple) -> dict:
    namespace: dict = {}
    exec(compile(source, "subclasses.py", "exec"), namespace)
    model = namespace["Net"]()
    rows = {}
    for name, module in model.named_modules():
        if name:
            module.register_forward_hook(
                lambda m, i, o, name=name: rows.__setitem__(name, list(o.shape[1:])))
    model(torch.zeros((2,) + shape))
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()}
    return rows, params


@pytest.mark.parametrize("source, shape", [(SOURCE, (3, 20, 24)), (STANDARDISED, (3, 32, 32))],
                         ids=["subclasses", "standardised"])
def test_subclass_rows_are_torch_rows(source, shape):
    shapes, params = torch_rows(source, shape)
    analysis = analyse(source, "subclasses.py")
    assert [f.message for f in analysis.findings] == []
    (table,) = analysis.models
    assert {row.name: row.output_shape for row in table.layers} == shapes
    assert {row.name: row.params for row in table.layers} == {k: params[k] for k in shapes}


def test_subclass_size_errors_are_the_layers():
    wrong = SOURCE.replace("Plain(8, 6,", "Plain(16, 6,").replace("Wide(2 * 3 * 7", "Wide(5")
    findings = analyse(wrong, "subclasses.py").findings
    assert [f.code for f in findings] == ["CNV101"]
    assert findings[0].message.startswith("c2 expects 16 input channels but receives 8")
    try:
        torch_rows(wrong, (3, 20, 24))
    except RuntimeError as error:
        assert "to have 16 channels, but got 8 channels" in str(error)
    else:
        raise AssertionError("torch ran")


def test_functional_conv_on_an_input_without_a_shape():
    """No input shape: the weight fixes the input's channels (as nn.Conv2d's in_channels does),
    so a second weight of other in-channels fails for every input size, as in torch."""
    source = SOURCE.replace("# conv-lint: input-shape=3,20,24\n", "").replace(
        "torch.zeros(5, 4, 3, 3)", "torch.zeros(5, 3, 3, 3)")
    findings = analyse(source, "subclasses.py").findings
    assert [f.code for f in findings] == ["CNV101"]
    assert "weight of size [5, 3, 3, 3] expects 3 input channels but receives 4" in \
        findings[0].message


def test_conv_attributes_read_as_torch_keeps_them():
    """torch keeps a conv's kernel_size, stride, padding, dilation as one int per axis: a
    subclass (or a block) reading ``self.kernel_size[0]`` gets the axis, as in torch."""
    source = SOURCE.replace("w = self.weight - self.weight.mean(dim=(1, 2, 3), keepdim=True)",
                            "w = self.weight[:, :, :self.kernel_size[0], :self.stride[1]]")
    shapes, params = torch_rows(source, (3, 20, 24))
    analysis = analyse(source, "subclasses.py")
    assert [f.message for f in analysis.findings] == []
    assert {row.name: row.output_shape for row in analysis.models[0].layers} == shapes
