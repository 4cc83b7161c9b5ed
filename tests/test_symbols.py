"""Channel counts of unresolved parameters (conv_lint.algebra.symbols), judged by Python's own
integers: a Poly must evaluate to what the expression it came from evaluates to, for every value
of its parameters, and a proof of (in)equality must hold for every value >= 1.

The torch side of these claims is in the fixtures (`*_symbolic*.py`, `# oracle: args=`)."""

from __future__ import annotations

import itertools
import math

import pytest

from conv_lint.algebra import sizes, symbols
from conv_lint.interpreter.pyvalues import arith, call_builtin, call_math, compare
from conv_lint.interpreter.values import UNKNOWN

VALUES = range(1, 9)  # what each parameter is tried with


def evaluate(value, env: dict) -> int:
    """A Poly's printed form is a Python expression of the parameter names (and of max/min)."""
    names = {"max": max, "min": min, **env}
    return value if type(value) is int else eval(str(value), {"__builtins__": {}}, names)


def build(expression: str, names=("a", "b")):
    """``expression`` computed twice: on symbols by the interpreter's arithmetic, and on ints."""
    params = {name: symbols.parameter(name) for name in names}

    def run(env, op):
        return eval(expression, {"__builtins__": {}, "op": op}, env)

    symbolic = run(params, lambda name, x, y: arith(name, x, y))
    return symbolic, lambda values: run(values, lambda name, x, y: INT_OPS[name](x, y))


INT_OPS = {"Add": lambda x, y: x + y, "Subtract": lambda x, y: x - y,
           "Multiply": lambda x, y: x * y, "FloorDivide": lambda x, y: x // y}


EXPRESSIONS = [
    'op("Multiply", a, 4)',  # planes * self.expansion
    'op("FloorDivide", a, 2)',  # in_ch // 2
    'op("Add", op("Multiply", b, 3), a)',  # growth * i + c with i = 3
    'op("FloorDivide", op("Multiply", a, 6), 3)',  # exact: 2*a
    'op("FloorDivide", op("Add", op("Multiply", a, 4), 3), 2)',  # 2*a + 1
    'op("Subtract", op("Multiply", a, b), op("Multiply", b, a))',  # 0
    'op("Multiply", op("Add", a, 1), op("Subtract", b, 1))',
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_poly_evaluates_like_the_expression_it_came_from(expression):
    symbolic, concrete = build(expression)
    assert symbolic is not UNKNOWN
    for a, b in itertools.product(VALUES, VALUES):
        assert evaluate(symbolic, {"a": a, "b": b}) == concrete({"a": a, "b": b}), (a, b)


def test_identities_are_proven_and_only_they():
    a, b = symbols.parameter("planes"), symbols.parameter("inplanes")
    four_a = arith("Multiply", a, 4)
    assert sizes.proven_equal(four_a, arith("Add", a, arith("Multiply", 3, a)))
    assert sizes.proven_equal(arith("Subtract", four_a, four_a), 0)
    assert not sizes.proven_equal(a, b) and not sizes.proven_different(a, b)
    assert sizes.proven_different(four_a, a)  # 3*planes != 0 for planes >= 1
    assert sizes.proven_different(arith("Add", a, 16), a)
    assert not sizes.proven_different(arith("Subtract", four_a, 4), a)  # equal at planes = 2
    assert not sizes.proven_different(arith("FloorDivide", a, 2), 0)  # a floor may be 0
    assert sizes.proven_equal(arith("FloorDivide", a, 2), arith("FloorDivide", a, 2))


@pytest.mark.parametrize("left, right, must_prove", [
    ('op("Multiply", a, 4)', "a", True),  # bn(planes) after conv(planes * 4)
    ('op("Add", a, b)', "a", True),  # a dense layer built for one growth too few
    ('op("Subtract", op("Multiply", a, 3), 2)', "a", False),  # equal at a = 1
    ('op("Subtract", op("Multiply", a, 3), 4)', "a", False),  # equal at a = 2
    ('op("Multiply", a, b)', "a", False),  # equal at b = 1
    ("a", "b", False),  # inplanes against planes: unknown
    ('op("Add", op("Multiply", a, 2), 1)', 'op("Multiply", b, 2)', False),  # true, by parity
    ('op("FloorDivide", a, 2)', "a", False),  # true, past what identities show
])
def test_a_proof_of_difference_holds_for_every_parameter_value(left, right, must_prove):
    """Brute force over parameters >= 1 is the judge: a proven difference is never 0 there.
    ``must_prove``: a difference of one sign that the analysis has to see."""
    params = {"a": symbols.parameter("a"), "b": symbols.parameter("b")}
    op = lambda name, x, y: arith(name, x, y)  # noqa: E731
    x = eval(left, {"__builtins__": {}, "op": op}, params)
    y = eval(right, {"__builtins__": {}, "op": op}, params)
    gaps = {evaluate(x, {"a": a, "b": b}) - evaluate(y, {"a": a, "b": b})
            for a, b in itertools.product(VALUES, VALUES)}
    if sizes.proven_different(x, y):
        assert 0 not in gaps
    if sizes.proven_equal(x, y):
        assert gaps == {0}
    if must_prove:
        assert 0 not in gaps and sizes.proven_different(x, y)


def test_unknown_stays_unknown():
    a = symbols.parameter("a")
    assert not isinstance(arith("Divide", a, 2), symbols.Poly)  # a float: not a channel count
    assert not sizes.proven_equal(arith("Divide", a, 2), arith("Divide", a, 2))
    remainder = arith("Modulo", a, 2)  # an integer no exact form holds: equal to itself only
    assert sizes.proven_equal(remainder, arith("Modulo", a, 2))
    assert not sizes.proven_equal(remainder, 0) and not sizes.proven_different(remainder, 0)
    assert not isinstance(arith("Multiply", a, 0.3), symbols.Poly)  # a float, kept opaque
    assert arith("Multiply", a, 1.0) == a  # planes * (base_width / 64.0) with base_width 64
    assert call_builtin("int", [a], {}) == a
    assert call_math("math.floor", [arith("Multiply", a, 64 / 64)], {}) == a  # timm's width
    assert compare("In", "tiered", "") is False and compare("In", "deep", "deep_tiered") is True
    heads = call_builtin("max", [1, arith("FloorDivide", a, 30)], {})  # timm's num_heads
    assert sizes.proven_equal(heads, call_builtin("max", [1, arith("FloorDivide", a, 30)], {}))
    assert not sizes.proven_different(heads, 1)
    assert evaluate(arith("Power", a, 2), {"a": 7}) == 49
    for value in (1, 29, 30, 95):
        assert evaluate(arith("FloorDivide", a, heads), {"a": value, "max": max}) == \
            value // max(1, value // 30)
    assert compare("Is", a, None) is UNKNOWN  # a parameter the caller passed may be None
    assert compare("In", a, (1, 2)) is UNKNOWN
    assert compare("LessThan", a, 3) is UNKNOWN
    assert compare("Equal", arith("Multiply", a, 2), arith("Add", a, a)) is True
    assert compare("NotEqual", arith("Add", a, 1), a) is True


def test_each_binding_is_its_own_symbol():
    first, second = symbols.parameter("planes"), symbols.parameter("planes")
    assert str(first) == str(second) == "planes"
    assert not sizes.proven_equal(first, second)


def test_work_is_bounded():
    a = symbols.parameter("a")
    value = a
    for _ in range(10):
        value = arith("Multiply", value, arith("Add", a, 1))
    assert value is UNKNOWN  # degree past the bound: unknown, not a huge polynomial
    assert arith("Multiply", a, 10**13) is UNKNOWN


ROUNDINGS = [  # what SE blocks and width multipliers write, c being a channel parameter
    ("int", "c * 0.25"), ("int", "c * 0.5 + 4.0"), ("floor", "c / 3"), ("floor", "c * 1.0"),
    ("int", "c / 16"), ("round", "c * 0.25"), ("ceil", "c / 2"), ("ceil", "c * 0.25 * 3"),
    ("int", "c * 0.0625 * 4"),
]


@pytest.mark.parametrize("rounding, expression", ROUNDINGS)
def test_rounded_ratios_are_exact_channel_counts(rounding, expression):
    c = symbols.parameter("c")
    ops = {"*": "Multiply", "/": "Divide", "+": "Add"}
    left, op, right, *rest = expression.split()
    value = arith(ops[op], c, float(right) if "." in right else int(right))
    if rest:
        value = arith(ops[rest[0]], value, float(rest[1]) if "." in rest[1] else int(rest[1]))
    function = {"int": lambda v: call_builtin("int", [v], {}),
                "round": lambda v: call_builtin("round", [v], {}),
                "floor": lambda v: call_math("math.floor", [v], {}),
                "ceil": lambda v: call_math("math.ceil", [v], {})}[rounding]
    result = function(value)
    assert isinstance(result, symbols.Poly)
    assert sizes.proven_equal(result, function(value))  # the same rounding is the same count
    python = {"int": int, "round": round, "floor": math.floor, "ceil": math.ceil}[rounding]
    for channels in range(1, 200) if rounding != "round" else ():  # round: opaque, not expanded
        expected = python(eval(expression, {}, {"c": channels}))
        assert evaluate(result, {"c": channels}) == expected, channels
    inexact = arith("Multiply", c, 0.1)  # 0.1 is not exact in binary: no exact form, but
    assert isinstance(call_builtin("int", [inexact], {}), symbols.Poly)  # the same int() of it
    assert sizes.proven_equal(call_builtin("int", [inexact], {}),
                              call_builtin("int", [arith("Multiply", c, 0.1)], {}))
    assert not sizes.proven_equal(call_builtin("int", [inexact], {}), arith("FloorDivide", c, 10))


SE_BLOCK = '''
import torch.nn as nn


def make_divisible(v, divisor=8, min_value=None, round_limit=.9):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class SqueezeExcite(nn.Module):
    def __init__(self, in_chs, rd_ratio=0.25):
        super().__init__()
        rd_channels = make_divisible(in_chs * rd_ratio, 8)
        self.conv_reduce = nn.Conv2d(in_chs, rd_channels, 1)
        self.bn = nn.BatchNorm2d(make_divisible(in_chs * rd_ratio, 8))
        self.conv_expand = nn.Conv2d(rd_channels, in_chs, 1)

    def forward(self, x):
        return x * self.conv_expand(self.bn(self.conv_reduce(x))).sigmoid()
'''


def test_a_helper_of_numbers_gives_the_same_count_for_the_same_arguments():
    """make_divisible cannot be followed on a symbol, yet calling it twice with in_chs * 0.25
    gives the same count: the norm is verified against the conv, and the block's output has
    in_chs channels (torch agrees for every in_chs tried)."""
    import torch

    from conv_lint.engine import analyse

    (table,) = analyse(SE_BLOCK).models
    shapes = {row.name: row.output_shape for row in table.layers}
    assert shapes["conv_reduce"][0] == shapes["bn"][0] == "make_divisible(in_chs*1/4, 8)"
    assert shapes["conv_expand"][0] == "in_chs"
    assert not analyse(SE_BLOCK).findings
    namespace: dict = {}
    exec(compile(SE_BLOCK, "<se>", "exec"), namespace)
    for in_chs in (1, 7, 64, 100):
        out = namespace["SqueezeExcite"](in_chs)(torch.zeros(2, in_chs, 5, 5))
        assert out.shape[1] == in_chs
    wrong = SE_BLOCK.replace("nn.BatchNorm2d(make_divisible(in_chs * rd_ratio, 8))",
                             "nn.BatchNorm2d(make_divisible(in_chs * rd_ratio, 8) + 8)")
    # the same call plus 8 differs from it by 8 whatever in_chs is: an error, as torch says
    assert [f.code for f in analyse(wrong).findings] == ["CNV102"]
    exec(compile(wrong, "<se>", "exec"), namespace)
    for in_chs in (1, 7, 64, 100):
        with pytest.raises(RuntimeError):
            namespace["SqueezeExcite"](in_chs)(torch.zeros(2, in_chs, 5, 5))


def test_a_helper_called_with_other_keywords_is_another_count():
    """make_divisible(c, divisor=8) + 8 and make_divisible(c, divisor=16) are equal for some c
    (torch runs this block for in_chs = 24): two different calls, never one symbol, so no
    difference of 8 is claimed."""
    import torch

    from conv_lint.engine import analyse

    source = SE_BLOCK.replace(
        "rd_channels = make_divisible(in_chs * rd_ratio, 8)",
        "rd_channels = make_divisible(in_chs * rd_ratio, divisor=8) + 8").replace(
        "nn.BatchNorm2d(make_divisible(in_chs * rd_ratio, 8))",
        "nn.BatchNorm2d(make_divisible(in_chs * rd_ratio, divisor=16))")
    assert "divisor=16" in source and "divisor=8) + 8" in source
    assert not analyse(source).findings
    namespace: dict = {}
    exec(compile(source, "<se>", "exec"), namespace)
    assert namespace["SqueezeExcite"](24)(torch.zeros(1, 24, 3, 3)).shape[1] == 24


STAGES = '''
import torch.nn as nn


class Stem(nn.Module):
    def __init__(self, stages_out_channels):
        super().__init__()
        self.conv = nn.Conv2d(3, stages_out_channels[0], 3)
        self.bn = nn.BatchNorm2d(stages_out_channels[0])
        self.head = nn.Conv2d(stages_out_channels[0], stages_out_channels[1], 1)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)))
'''


def test_an_item_of_a_parameter_list_is_a_count_of_its_own():
    """stages_out_channels[0] is the same count wherever it is read, and not stages[1]:
    the stem is verified, its output is stages[1] (torch agrees for two lists)."""
    import torch

    from conv_lint.engine import analyse

    analysis = analyse(STAGES)
    (table,) = analysis.models
    shapes = {row.name: row.output_shape for row in table.layers}
    assert shapes["conv"][0] == shapes["bn"][0] == "stages_out_channels[0]"
    assert shapes["head"][0] == "stages_out_channels[1]"
    assert not analysis.findings
    namespace: dict = {}
    exec(compile(STAGES, "<stages>", "exec"), namespace)
    for stages in ([24, 48], [8, 8]):
        out = namespace["Stem"](stages)(torch.zeros(1, 3, 9, 9))
        assert out.shape[1] == stages[1]
