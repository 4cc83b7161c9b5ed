"""Pathological inputs stay bounded: huge, deep, recursive or self-referencing models.

Every source is analysed in a child process (see ``survive.py``) with a generous timeout, so a
hang or a native crash fails the test and names its input, instead of stopping the suite. Each
must be analysed without an internal error; where the answer is known, it must be the answer.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import survive

_HEADER = "import torch\nimport torch.nn as nn\n\n\n"


def model(init: str, forward: str = "return self.body(x)", shape: str = "3,32,32") -> str:
    """A model class with ``init`` and ``forward`` as the bodies of its two methods."""
    directive = f"# conv-lint: input-shape={shape}\n" if shape else ""
    return (_HEADER + directive + "class Net(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n" + _indent(init, 8) + "\n"
            "    def forward(self, x):\n" + _indent(forward, 8))


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


_CONV = "self.body = nn.Conv2d(3, 8, 3)"
_RECURSIVE_CLASSES = _HEADER + """class A(nn.Module):
    def __init__(self, n=0):
        super().__init__()
        self.b, self.c = B(n + 1), B(n + 2)

    def forward(self, x):
        return self.b(x) + self.c(x)


class B(nn.Module):
    def __init__(self, n=0):
        super().__init__()
        self.a, self.d = A(n + 1), A(n + 2)

    def forward(self, x):
        return self.a(x) + self.d(x)


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = A()
        self.me = Net()

    def forward(self, x):
        return self.a(x)
"""
_RECURSIVE_HELPERS = _HEADER + """def grow(n):
    return grow(n + 1) + grow(n + 2)


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, grow(0), 3)

    def forward(self, x):
        return self.again(x, 0) + self(x)

    def again(self, x, n):
        return self.again(self.conv(x), n + 1) + self.again(x, n + 2)
"""

# 10,000 layers, then a Linear sized for 3*32*32 + 1 features: CNV103 on the forward line
_SEQUENTIAL = model("self.body = nn.Sequential(\n" + "    nn.ReLU(),\n" * 10_000
                    + "    nn.Flatten(),\n    nn.Linear(3073, 10),\n)")


def forward_error(source: str, code: str) -> list:
    """``code`` expected on the line of forward's ``return self.body(x)``, as torch would."""
    return [f"{source.splitlines().index('        return self.body(x)') + 1}:{code}"]


_HUGE_CHANNELS = model("self.body = nn.Conv2d(1" + "0" * 100 + ", 8, 3)")
_HUGE_KERNEL = model("self.body = nn.Conv2d(3, 8, kernel_size=1" + "0" * 30 + ")")

# name -> (source, the CNV1xx errors expected as "line:code", or None when any answer is fine)
CASES = {
    "sequential_10000": (_SEQUENTIAL, forward_error(_SEQUENTIAL, "CNV103")),
    "sequential_comprehension": (model("self.body = nn.Sequential(*[nn.Conv2d(3, 3, 3) "
                                       "for _ in range(10_000)])"), None),
    "parentheses_1000": (model(_CONV, "return " + "(" * 1000 + "self.body(x)" + ")" * 1000),
                         None),
    "sum_of_10000": (model(_CONV, "y = self.body(x)\nreturn " + " + ".join(["y"] * 10_000)),
                     None),
    "sum_of_400": (model("n = " + " + ".join(["1"] * 400) + "\nself.body = nn.Conv2d(3, n, 3)"),
                   None),
    "channels_10_pow_100": (model("self.body = nn.Conv2d(10**100, 8, 3)"), None),
    "channels_literal_1e100": (_HUGE_CHANNELS, forward_error(_HUGE_CHANNELS, "CNV101")),
    "channels_literal_5000_digits": (model("self.body = nn.Conv2d(1" + "0" * 5000 + ", 8, 3)"),
                                     None),
    "kernel_1e30": (model("self.body = nn.Conv2d(3, 8, kernel_size=10**30, stride=10**30 + 1)",
                          shape=""), None),
    "kernel_1e30_concrete": (_HUGE_KERNEL, forward_error(_HUGE_KERNEL, "CNV105")),
    "linear_huge_symbolic": (model("self.c = nn.Conv2d(3, 8, 3, stride=7)\n"
                                   "self.body = nn.Linear(" + "9" * 40 + ", 10)",
                                   "return self.body(self.c(x).flatten(1))", shape=""), None),
    "view_huge_symbolic": (model("self.c = nn.Conv2d(3, 8, 3, stride=7)",
                                 "return self.c(x).view(-1, " + "9" * 40 + ")", shape=""), None),
    "split_into_10_pow_8": (model("self.body = nn.Conv1d(3, 3, 1)",
                                  "y = self.body(x).split(1, dim=2)\nz = x.unbind(2)\n"
                                  "return y[0] + z[0].unsqueeze(2)", shape="3,100000000"), []),
    "recursive_classes": (_RECURSIVE_CLASSES, None),
    "recursive_helpers": (_RECURSIVE_HELPERS, None),
    "self_reference": (model("self.a = self.a\nx = [x]\nx = [x, x]\ny = y\n" + _CONV), []),
    "doubling": (model("t, u, v = (1,), [1], 'a'\nfor i in range(200):\n"
                       "    t, u, v = t + t, u + u, v + v\n" + _CONV), []),
    "wide_formats": (model("a = '%099999999d' % 1\nb = '{:>999999999}'.format(1)\n"
                           "c = f'{a}{a}{a}'\nd = 1 << 10**12\n" + _CONV), []),
    "loop_10_pow_9": (model("for i in range(10**9):\n    n = i\n" + _CONV), []),
    "nested_loops": (model("for a in range(256):\n    for b in range(256):\n"
                           "        for c in range(256):\n            n = a + b + c\n" + _CONV),
                     None),
    "while_true": (model("while True:\n    pass\n" + _CONV), []),
    "class_chain_3000": (_HEADER + "".join(
        f"class C{i}({f'C{i - 1}' if i else 'nn.Module'}):\n    pass\n\n\n"
        for i in range(3000)), None),
    "cyclic_bases": (_HEADER + "class A(B):\n    pass\n\n\nclass B(A):\n    pass\n\n\n"
                     "class C(nn.Module, A):\n    def forward(self, x):\n        return x\n", []),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pathological")
    for name, (source, _) in CASES.items():
        (folder / f"{name}.py").write_text(source)
    return folder, survive.run([str(folder / f"{name}.py") for name in CASES], timeout=900)


@pytest.mark.parametrize("name", list(CASES))
def test_pathological_input_is_analysed_in_bounds(report, name):
    folder, result = report
    path = str(folder / f"{name}.py")
    assert path != result.crashed, f"{name}: {result.how}"
    assert path in result.done, f"{name}: never analysed ({result.how or 'an earlier input hung'})"
    assert not result.done[path].startswith(survive.INTERNAL), f"{name}: {result.done[path]}"
    expected = CASES[name][1]
    if expected is not None:
        errors = [f for f in result.found[path] if f.split(":")[1].startswith("CNV1")]
        assert errors == expected, f"{name}: {result.found[path]}"


def test_deep_expressions_are_turned_away_before_the_parser():
    """libcst crawls (then overflows its native stack) on deep chains: never let it try."""
    from conv_lint.engine import analyse

    for deep in ("x = " + "+".join(["y"] * 10_000), "x = " + "-" * 5000 + "1",
                 "x = " + "(" * 1000 + ")" * 1000, "x = " + "not " * 3000 + "y",
                 "x = y" + ".a" * 5000, "x = y" + "[0]" * 5000):
        assert analyse(deep + "\n").error in ("nesting too deep to analyse",
                                              "nesting deeper than 500 levels, not analysed")
    # as deep as real code gets: analysed
    assert analyse("x = " + " + ".join(["y"] * 300) + "\n").error is None
    # libcst refuses some deep shapes itself, as a syntax error
    assert analyse("x = (" + " ".join(["'a'"] * 5000) + ")\n").error.startswith("syntax error")


def _nested(draw_ops: list, leaf: str = "y") -> str:
    """An expression nesting the given wrappers, innermost last: depth grows with each."""
    text = leaf
    for op in reversed(draw_ops):
        text = op.format(text)
    return text


# Each wraps an expression in one more level of the tree, as real code can. The tight ones
# take a single token per level: the fewest the guard can count on.
_TIGHT = ["-{}", "~{}", "not {}", "{}.a", "{}[0]", "{}()", "await {}", "y * {}", "{} and y"]
_WRAPPERS = _TIGHT + [
    "({})", "{} + y", "f({})", "f(a={})", "[{}]", "{{{}}}", "{{'k': {}}}", "y if {} else y",
    "lambda: {}", "({},)", "[v for v in {}]", "f'{{{}}}'", "y < {}", "*{},", "(yield {})"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TIGHT), min_size=15, max_size=90)
       | st.lists(st.sampled_from(_WRAPPERS), min_size=15, max_size=90),
       st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=12))
def test_the_cheap_depth_guard_never_lets_a_deep_statement_through(wrappers, indent, gap):
    """may_be_deep (text only) must say yes for any limit the syntax tree is deeper than (here
    just below its depth, where the guard is tightest): it decides whether the exact check
    runs at all."""
    import ast

    from conv_lint.source import nesting

    body = "x = " + _nested(wrappers)
    source = "async def g():\n" + "".join(
        "    " * level + "if y:\n" for level in range(1, indent + 1)) + "    " * (indent + 1) + body
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # a wrapper that does not fit where it landed: nothing to check
    limit = nesting.depth(tree) - gap
    assert nesting.may_be_deep(source, limit)
