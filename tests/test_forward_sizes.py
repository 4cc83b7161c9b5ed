"""Sizes read in forward and computed with (`b, c, h, w = x.size()`, `c * h`, `h // 2`), then
given to view / reshape, without an input shape: the sizes are formulas of the input's H and
W. Each expression runs in torch at several input sizes; the formula conv-lint gives must be
torch's size at each of them, and the expressions listed as followed must get one."""

from __future__ import annotations

import math

import pytest
import torch

from conv_lint.engine import analyse

CHANNELS = 8
SIZES = [(32, 40), (33, 17), (8, 8), (7, 12)]  # H, W
FOLLOWED = [
    "x.view(b, c * h * w)", "x.view(b, -1)", "x.permute(0, 3, 1, 2).reshape(b, w, c * h)",
    "x.view(b, c, h * w).transpose(1, 2)", "x.view(b, -1, h * w)", "x.view(b, c * h, w)",
    "x.reshape(b, c // 2, 2, h, w)", "x.flatten(2).reshape(b, c, h, w)", "x.view(b, h, -1)",
    "x.view(b, c, -1).mean(-1)", "x.reshape(b, c // 4, -1)", "x.view(b, c, h, w) + x",
    "x.reshape(b, h * w, c)",
]
OTHERS = [  # torch raises for some sizes, or conv-lint has no exact form: a formula or nothing
    "x.view(b, c, h // 2, 2 * w)", "x.view(b, c, (h + 1) // 2, -1)", "x.reshape(b, c, h - 1, -1)",
    "x.view(b, -1, w // 2)", "x.reshape(b, 2 * c, -1)",
]

SOURCE = """import torch
import torch.nn as nn


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, {channels}, 3, padding=1)
        self.probe = nn.Identity()

    def forward(self, x):
        x = self.stem(x)
        b, c, h, w = x.size()
        y = {expression}
        return self.probe(y)
"""


def torch_shape(expression: str, height: int, width: int):
    x = torch.zeros(2, CHANNELS, height, width)
    b, c, h, w = x.size()
    try:
        return tuple(eval(expression, {"x": x, "b": b, "c": c, "h": h, "w": w}).shape[1:])
    except RuntimeError:
        return None


def formula_values(shape: list, height: int, width: int):
    names = {"floor": math.floor, "H": height, "W": width}
    return tuple(size if isinstance(size, int) else eval(size, names) for size in shape)


@pytest.mark.parametrize("expression", FOLLOWED + OTHERS)
def test_sizes_computed_in_forward_are_torch_sizes(expression):
    source = SOURCE.format(channels=CHANNELS, expression=expression)
    analysis = analyse(source, "probe.py")
    assert [f for f in analysis.findings if f.code.startswith("CNV1")] == []
    rows = {row.name: row.output_shape for row in analysis.models[0].layers}
    shape = rows["probe"]
    if expression in FOLLOWED:
        assert shape is not None and None not in shape, "the shape is lost"
    if shape is None or None in shape:
        return
    for height, width in SIZES:
        real = torch_shape(expression, height, width)
        if real is not None:
            assert formula_values(shape, height, width) == real, (height, width)
