"""The well-known blocks (conv_lint/known/*.stub) against the real library code under torch.

Each case builds a one-block model, from its real source (tests/zoo.py loads torchvision's and
timm's own modules) and through conv-lint's stub: the layer tables (names as named_modules()
gives them, types, output shapes, parameter counts) must be equal.
"""

from __future__ import annotations

import textwrap

import pytest

import oracle
import zoo
from conv_lint.engine import analyse
from test_fixtures import compare_rows

TV, TIMM = "torchvision.ops.misc", "timm.layers"
IMPORTS = {
    "Conv2dNormActivation": f"from {TV} import Conv2dNormActivation",
    "Conv3dNormActivation": f"from {TV} import Conv3dNormActivation",
    "SqueezeExcitation": "from torchvision.ops import SqueezeExcitation",
    "ConvNormAct": f"from {TIMM} import ConvNormAct",
    "ConvBnAct": f"from {TIMM}.conv_bn_act import ConvBnAct",
    "create_conv2d": f"from {TIMM} import create_conv2d",
    "BatchNormAct2d": f"from {TIMM} import BatchNormAct2d",
}
CASES = [  # (block, arguments, per-sample input shape)
    ("Conv2dNormActivation", "3, 16", (3, 20, 20)),
    ("Conv2dNormActivation", "3, 16, kernel_size=5, stride=2", (3, 21, 21)),
    ("Conv2dNormActivation", "8, 16, 3, groups=4, dilation=2", (8, 20, 20)),
    ("Conv2dNormActivation", "3, 8, kernel_size=(3, 5), stride=(1, 2)", (3, 20, 20)),
    ("Conv2dNormActivation", "4, 8, 1, norm_layer=None", (4, 9, 9)),
    ("Conv2dNormActivation", "3, 8, 3, padding=0, activation_layer=None, bias=True", (3, 9, 9)),
    ("Conv2dNormActivation", "3, 8, 3, activation_layer=nn.Hardswish", (3, 9, 9)),
    ("Conv3dNormActivation", "3, 8", (3, 6, 10, 10)),
    ("Conv3dNormActivation", "3, 8, (1, 3, 3), stride=(1, 2, 2)", (3, 6, 10, 10)),
    ("SqueezeExcitation", "16, 4", (16, 7, 7)),
    ("SqueezeExcitation", "24, 8, activation=nn.SiLU, scale_activation=nn.Hardsigmoid",
     (24, 5, 5)),
    ("ConvNormAct", "3, 16, 3, stride=2", (3, 21, 21)),
    ("ConvNormAct", "8, 8, 3, groups=8", (8, 12, 12)),
    ("ConvNormAct", "3, 16, kernel_size=5, padding='valid'", (3, 12, 12)),
    ("ConvNormAct", "3, 16, 3, padding='same', dilation=2", (3, 12, 12)),
    ("ConvNormAct", "3, 16, 1, apply_act=False", (3, 12, 12)),
    ("ConvNormAct", "3, 16, 3, apply_norm=False, bias=True", (3, 12, 12)),
    ("ConvNormAct", "3, 16, (3, 5), stride=(2, 1)", (3, 12, 12)),
    ("ConvBnAct", "3, 16, 3, stride=2, act_layer=nn.SiLU", (3, 13, 13)),
    ("create_conv2d", "3, 8, 3, stride=2", (3, 15, 15)),
    ("create_conv2d", "8, 8, 5, stride=2, depthwise=True", (8, 15, 15)),
    ("create_conv2d", "3, 8, 3, padding='same'", (3, 15, 15)),
    ("create_conv2d", "3, 8, 4, stride=2, dilation=1, padding=''", (3, 15, 15)),
    ("create_conv2d", "3, 8, 3, bias=True, padding=2", (3, 15, 15)),
    ("BatchNormAct2d", "8", (8, 5, 5)),
    ("BatchNormAct2d", "8, apply_act=False", (8, 5, 5)),
]


def model_source(block: str, arguments: str, shape: tuple) -> str:
    return textwrap.dedent(f"""\
        import torch.nn as nn
        {IMPORTS[block]}


        class Net(nn.Module):  # conv-lint: input-shape={",".join(map(str, shape))}
            def __init__(self):
                super().__init__()
                self.block = {block}({arguments})

            def forward(self, x):
                return self.block(x)
        """)


def real_model(source: str, path):
    """The model built by the real library code (the module imported from the zoo sources)."""
    for module, names in ((TV, ("Conv2dNormActivation", "Conv3dNormActivation",
                                "SqueezeExcitation")),
                          ("timm.layers.conv_bn_act", ("ConvNormAct", "ConvBnAct")),
                          ("timm.layers.create_conv2d", ("create_conv2d",)),
                          ("timm.layers.norm_act", ("BatchNormAct2d",))):
        real = zoo.load_real(module)
        package = zoo.sys.modules[module.rsplit(".", 1)[0]]
        for name in names:
            setattr(package, name, getattr(real, name))  # what the package __init__ re-exports
    path.write_text(source)
    namespace: dict = {"__name__": "known_case"}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace["Net"]()


@pytest.mark.parametrize("block, arguments, shape", CASES,
                         ids=[f"{b}({a})" for b, a, _ in CASES])
def test_stub_builds_what_the_real_block_builds(block, arguments, shape, tmp_path):
    source = model_source(block, arguments, shape)
    calls = oracle.trace_calls(real_model(source, tmp_path / "case.py"), shape)
    analysis = analyse(source, "<stdin>", shape)
    assert not analysis.findings, analysis.findings
    [table] = analysis.models
    assert not compare_rows("Net", table.layers, calls, set())


def test_dynamic_same_padding_is_left_unknown(tmp_path):
    """timm's Conv2dSame pads at run time: the stub does not model it, and stays silent."""
    source = model_source("create_conv2d", "3, 8, 4, stride=2, padding='same'", (3, 15, 15))
    real = real_model(source, tmp_path / "case.py")
    assert type(real.block).__name__ == "Conv2dSame"
    analysis = analyse(source, "<stdin>", (3, 15, 15))
    assert not analysis.findings
    assert all(row.output_shape is None for row in analysis.models[0].layers)


@pytest.mark.parametrize("block, arguments, shape, code", [
    ("Conv2dNormActivation", "3, 16, groups=2", (3, 8, 8), "CNV109"),
    ("Conv2dNormActivation", "4, 16", (3, 8, 8), "CNV101"),
    ("ConvNormAct", "3, 16, 3, stride=2", (4, 8, 8), "CNV101"),
    ("SqueezeExcitation", "16, 4", (8, 8, 8), "CNV101"),
    ("Conv2dNormActivation", "3, 16, 5, padding=0", (3, 4, 4), "CNV105"),
])
def test_errors_inside_a_block_point_where_torch_fails_in_the_file(
        block, arguments, shape, code, tmp_path):
    source = model_source(block, arguments, shape)
    path = tmp_path / "case.py"
    try:
        model = real_model(source, path)
        outcome = oracle.run_model(model, shape, path)
    except Exception as error:  # raised at construction
        outcome = oracle.Outcome("construct", error, oracle.deepest_line_in(error, path))
    assert code in oracle.codes_for_error(outcome.error)
    found = [(f.line, f.code) for f in analyse(source, "<stdin>", shape).findings]
    assert found == [(outcome.line, code)]
