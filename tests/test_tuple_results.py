"""Tuple results in forward: torch.max/min with a dim, topk and sort give (values, indices);
chunk, split and unbind give a tuple of tensors. Each expression below is run by torch and by
conv-lint on the same input: the shape conv-lint gives (read off an nn.Identity it is fed to)
must be torch's (the table leaves the batch out), and where torch raises, conv-lint gives no
shape and claims no error."""

from __future__ import annotations

import pytest
import torch

from conv_lint.engine import analyse

SHAPE = (4, 6, 5)  # per sample: a batch of 2 in torch, N in conv-lint
EXPRESSIONS = [
    "x.max(dim=1)[0]", "x.max(1).values", "x.min(-1, keepdim=True).indices", "x.max(dim=3)[0]",
    "torch.max(x, 2)[1]", "torch.min(x, dim=1, keepdim=True).values", "x.max()",
    "torch.max(x, x * 2)", "x.max(x)", "x.topk(3, dim=2)[0]", "x.topk(2).indices",
    "torch.topk(x, 4, dim=1, largest=False).values", "x.sort(dim=1, descending=True)[0]",
    "torch.sort(x)[1]", "x.chunk(2, dim=1)[1]", "x.chunk(4, dim=1)[-1]", "x.chunk(3, 2)[0]",
    "torch.chunk(x, 2, dim=3)[1]", "x.split(4, dim=1)[1]", "x.split([1, 3], dim=1)[1]",
    "torch.split(x, 2, dim=-1)[2]", "x.unbind(1)[3]", "torch.unbind(x, dim=3)[0]",
    "x.unbind(0)[0]", "torch.cat(x.chunk(3, dim=2), dim=3)", "torch.cat(x.unbind(3), 1)",
    "x.max(dim=1)[0] + x.mean(1)", "x.topk(7, dim=2)[0]", "x.split([2, 3], dim=1)[0]",
]

SOURCE = """import torch
import torch.nn as nn


# conv-lint: input-shape={shape}
class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.probe = nn.Identity()

    def forward(self, x):
        head, tail = x.chunk(2, dim=1)
        y = {expression}
        return self.probe(y)
"""


def torch_shape(expression: str):
    x = torch.zeros((2,) + SHAPE)
    try:
        return tuple(eval(expression, {"torch": torch, "x": x}).shape)
    except (RuntimeError, IndexError):
        return "raises"


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_tuple_results_are_torch_shapes(expression):
    real = torch_shape(expression)
    source = SOURCE.format(shape=",".join(map(str, SHAPE)), expression=expression)
    analysis = analyse(source, "probe.py")
    errors = [f for f in analysis.findings if f.code.startswith("CNV1")]
    rows = {row.name: row.output_shape for row in analysis.models[0].layers}
    if real == "raises":
        assert rows["probe"] is None and errors == []  # torch's error here is not claimed
        return
    assert errors == []
    if real[:1] != (2,):  # the batch is gone from axis 0 (x.max(), x.unbind(0)): no table shape
        assert rows["probe"] is None
        return
    assert rows["probe"] is not None, f"{expression}: no shape, torch gives {real}"
    assert tuple(rows["probe"]) == real[1:]  # the table's shapes leave the batch out


def test_a_tuple_result_unpacked_feeds_the_next_layer():
    source = """import torch
import torch.nn as nn


# conv-lint: input-shape=64,8,8
class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 64)

    def forward(self, x):
        values, _ = torch.max(x.flatten(2), dim=2)
        a, b = values.chunk(2, dim=1)
        return self.fc(a * b)
"""
    torch_error = None
    namespace: dict = {}
    exec(compile(source, "gate.py", "exec"), namespace)
    try:
        namespace["Gate"]()(torch.zeros(2, 64, 8, 8))
    except RuntimeError as error:
        torch_error = error
    findings = analyse(source, "gate.py").findings
    assert torch_error is None and findings == []
    broken = source.replace("nn.Linear(32, 64)", "nn.Linear(64, 64)")
    exec(compile(broken, "gate.py", "exec"), namespace)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        namespace["Gate"]()(torch.zeros(2, 64, 8, 8))
    assert [(f.line, f.code) for f in analyse(broken, "gate.py").findings] == [(14, "CNV103")]
