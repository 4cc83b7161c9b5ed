"""The fast tree walk and the on-demand positions give exactly what libcst's own machinery gives
(a visitor over every node; PositionProvider), only cheaper."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from conv_lint.interpreter.havoc import assigned_names, jumps
from conv_lint.source.positions import ranges
from conv_lint.source.walk import names_in, walk

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").glob("*.py"))

# Constructs beyond what model files use: the walk must still see every node a visitor sees.
ODD_SYNTAX = '''\
# a comment
"""Docstring."""
from __future__ import annotations
from . import sibling
from os.path import *
import a.b as c, d

@decorator(arg=1)
class K(Base, metaclass=Meta):
    x: int = 3
    y = [i * 2 for i in range(4) if i % 2 for j in (1, 2)]

    async def f(self, a, /, b=2, *args, c: "int" = 3, **kwargs) -> None:
        global g
        async with ctx() as (p, q), other as r:
            pass
        async for item in aiter():
            await item
        try:
            raise ValueError("x") from None
        except (KeyError, ValueError) as err:
            del err
        else:
            pass
        finally:
            ...
        while not done:
            break
        lam = lambda u, *v, w=1: u if v else w
        print(f"{a!r:>{b}} and {c=}", *args, **kwargs)
        d = {**kwargs, "k": {1, 2}, 3: (yield)}
        e = x[1:2, ::3, ...] @ y
        assert e is not None, "msg"
        h = (n := 5) + -n ** 2 // 3
        t = 1 < 2 <= 3 != 4 in [] not in () is None
        s = "a" "b" f"c"
        x += 1; y -= 2
        return (yield from gen())

def g[T](v: T) -> T:
    match v:
        case [1, *rest] if rest:
            nonlocal_ = 1
        case {"k": value, **others}:
            pass
        case Point(x=0) | None as bound:
            pass
    type Alias = list[T]
    return v
'''

# libcst nodes that hold only whitespace, comments or punctuation: the walk skips them.
_LAYOUT = (
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Comment,
    cst.Newline, cst.LeftParen, cst.RightParen, cst.Comma, cst.Semicolon, cst.Colon,
    cst.AssignEqual, cst.Dot, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp,
    cst.BaseUnaryOp, cst.BaseAugOp, cst.ParamSlash, cst.Asynchronous, cst.LeftSquareBracket,
    cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace,
)


class _Everything(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: list = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


def _sources() -> list:
    return [pytest.param(ODD_SYNTAX, id="odd-syntax")] + [
        pytest.param(path.read_text(), id=path.stem) for path in FIXTURES]


@pytest.mark.parametrize("source", _sources())
def test_walk_meets_every_node_a_visitor_meets_but_layout(source):
    module = cst.parse_module(source)
    visitor = _Everything()
    module.visit(visitor)
    expected = Counter(id(n) for n in visitor.seen if not isinstance(n, _LAYOUT))
    walked = list(walk(module))
    assert Counter(id(n) for n in walked) == expected
    assert walked[0] is module
    assert names_in(module) == {n.value for n in visitor.seen if type(n) is cst.Name}


def test_walk_gives_a_pruned_node_but_not_what_is_inside_it():
    module = cst.parse_module("for i in x:\n    def f():\n        break\n    g(i)\n")
    loop = module.body[0]
    names = {n.value for n in walk(loop, prune=(cst.FunctionDef,)) if isinstance(n, cst.Name)}
    assert names == {"i", "x", "g"}  # not f: the def's name is inside the pruned node
    assert any(isinstance(n, cst.FunctionDef) for n in walk(loop, prune=(cst.FunctionDef,)))


def test_havoc_helpers_read_assignments_mutations_and_jumps():
    module = cst.parse_module(
        "for i in range(n):\n"
        "    a, (b, *c) = f()\n"
        "    self.d += 1\n"
        "    layers.append(i)\n"
        "    with g() as h:\n"
        "        e: int = [k for k in y]\n"
        "    def inner():\n"
        "        continue_ = 1\n"
        "        break\n"
    )
    loop = module.body[0]
    assert assigned_names(loop) >= {"i", "a", "b", "c", "self.d", "layers", "h", "e", "k"}
    assert not jumps(loop.body)  # the break is inside a nested def
    assert jumps(cst.parse_module("while x:\n    if y:\n        break\n").body[0].body)


@pytest.mark.parametrize("source", _sources())
def test_ranges_equal_libcsts_positions_for_every_node(source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(walk(module))
    assert ranges(module, nodes) == {node: expected[node] for node in nodes}
    some = nodes[len(nodes) // 3::max(1, len(nodes) // 5)]  # a few: codegen stops early
    assert ranges(module, some) == {node: expected[node] for node in some}


def test_ranges_leave_out_nodes_of_another_module_and_none():
    module = cst.parse_module("x = 1\n")
    stranger = cst.parse_module("y = 2\n").body[0]
    assert ranges(module, [stranger, None]) == {}
    assert list(ranges(module, [module.body[0], stranger])) == [module.body[0]]


def test_ranges_count_crlf_and_lone_cr_newlines_as_libcst_does():
    module = cst.parse_module("a = 1\r\nb = (\r\n  f(2))\r\n")
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(walk(module))
    assert ranges(module, nodes) == {node: expected[node] for node in nodes}


@pytest.mark.parametrize("source", _sources())
def test_ranges_of_a_skimmed_parse_equal_libcsts_positions_of_the_whole(source):
    """The top level parsed in pieces, functions parsed later (skim.py): every node, the late
    functions' too, is where libcst puts it in the whole file."""
    from conv_lint.source import skim

    whole = cst.parse_module(source)
    expected = MetadataWrapper(whole, unsafe_skip_copy=True).resolve(PositionProvider)
    module = skim.parse(source, cst.parse_module)
    later = skim.deferred(module)
    ours = [node for node in walk(module) if node is not module]
    theirs = [node for statement in whole.body if not _deferred(statement, later)
              for node in walk(statement)]
    for name, function in later.items():  # a name defined twice: the last definition
        ours += walk(function.node())
        *_, last = (s for s in whole.body if _deferred(s, {name: function}))
        theirs += walk(last)
    assert [type(node) for node in ours] == [type(node) for node in theirs]
    got = skim.ranges(module, ours, source)
    assert [got.get(node) for node in ours] == [expected[node] for node in theirs]


def _deferred(statement, later: dict) -> bool:
    return isinstance(statement, cst.FunctionDef) and statement.name.value in later


@pytest.mark.parametrize("source", _sources())
def test_ranges_placed_by_statement_text_equal_libcsts_positions(source):
    """A file the cut does not take (\\r\\n line ends here) is parsed whole; given its source,
    ranges generates only the statements that hold the nodes, each placed by its text."""
    from conv_lint.source import skim

    source = source.replace("\n", "\r\n")
    module = skim.parse(source, cst.parse_module)
    assert skim.deferred(module) == {}  # parsed whole
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [node for node in walk(module) if node is not module]
    some = nodes[len(nodes) // 2::max(1, len(nodes) // 7)]
    for wanted in (nodes, some):
        assert ranges(module, wanted, source) == {node: expected[node] for node in wanted}
