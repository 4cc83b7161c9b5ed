"""Source ranges of a few nodes, the ones a finding or a table row points at.

libcst's PositionProvider records a range for every node of the file, which costs about twice
the parse; here the same code generation runs, but ranges are recorded only for the nodes asked
for, and it stops as soon as the last of them is generated. Given the source, only the top-level
statements holding those nodes are generated: each is found in the source by its own text.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState  # the state libcst's own position provider extends
from libcst._position import CodePosition, CodeRange


class _AllFound(Exception):
    """Every node asked for has its range: the rest of the file need not be generated."""


class _RangeState(CodegenState):
    """Code generation that keeps ranges for ``wanted`` nodes only (PositionProvider's rules)."""

    def __init__(self, module: cst.Module, wanted: set) -> None:
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        # Keyed by id(): a node's own __hash__ is a Python call, and this runs for every node.
        self.wanted = {id(node) for node in wanted}  # grows by the nodes a range is hoisted from
        self.remaining = set(self.wanted)
        self.ranges: dict = {}  # id(node) -> CodeRange
        self.starts: list = []
        self.line, self.column, self.counted = 1, 0, 0  # position after tokens[:counted]

    def position(self) -> CodePosition:
        tokens = self.tokens
        for index in range(self.counted, len(tokens)):
            token = tokens[index]
            if "\n" in token or "\r" in token:
                segments = token.replace("\r\n", "\n").replace("\r", "\n").split("\n")
                self.line += len(segments) - 1
                self.column = len(segments[-1])
            else:
                self.column += len(token)
        self.counted = len(tokens)
        return CodePosition(self.line, self.column)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts.append(self.position())

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key not in self.wanted:
            return
        start = self.starts.pop()
        if key not in self.ranges:  # a syntactic range, recorded inside, wins
            self.ranges[key] = CodeRange(start, self.position())
        self.remaining.discard(key)
        if not self.remaining:
            raise _AllFound()

    @contextmanager
    def record_syntactic_position(self, node: cst.CSTNode, *,
                                  start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None) -> Iterator[None]:
        if id(node) not in self.wanted:
            yield
            return
        # The nodes a range is hoisted from are generated inside this block: want them too.
        self.wanted.update(id(n) for n in (start_node, end_node) if n is not None)
        start = self.position()
        yield
        end = self.position()
        if start_node is not None:
            start = self.ranges[id(start_node)].start
        if end_node is not None:
            end = self.ranges[id(end_node)].end
        self.ranges[id(node)] = CodeRange(start, end)


def ranges(module: cst.Module, nodes: Iterable[cst.CSTNode],
           source: Optional[str] = None) -> dict:
    """``{node: CodeRange}`` for ``nodes`` of ``module``, as libcst's PositionProvider gives them.

    A node that is not part of ``module`` is left out. ``source``: the text ``module`` was
    parsed from, when it was (then only the statements holding the nodes are generated)."""
    wanted = {node for node in nodes if node is not None}
    if not wanted:
        return {}
    if source is not None:
        found = _by_statement(module, wanted, source)
        if found is not None:
            return found
    state = _RangeState(module, wanted)
    try:
        module._codegen(state)
    except _AllFound:
        pass
    return {node: state.ranges[id(node)] for node in wanted if id(node) in state.ranges}


def _by_statement(module: cst.Module, wanted: set, source: str) -> Optional[dict]:
    """The ranges, generating only the top-level statements that hold wanted nodes; None when
    a statement's text is not found exactly once in ``source``."""
    from conv_lint.source.walk import walk

    left = {id(node) for node in wanted}
    found: dict = {}
    for statement in module.body:
        if not left:
            break
        inside = {id(node) for node in walk(statement)} & left
        if not inside:
            continue
        left -= inside
        here = {node for node in wanted if id(node) in inside}
        state = _RangeState(module, here)
        try:
            statement._codegen(state)
        except _AllFound:
            pass
        # Its text from its first line of code up to the last node wanted (generation stops
        # there): the one place in the source that starts so is where it stands.
        head = len(statement.leading_lines)
        text = "".join(state.tokens)
        cut = 0
        for _ in range(head):
            cut = text.index("\n", cut) + 1
        key = text[cut:]
        at = source.find(key)
        if not key or at < 0 or source.find(key, at + 1) >= 0:
            return None
        shift = source.count("\n", 0, at) - head
        found.update((node, moved(state.ranges[id(node)], shift))
                     for node in here if id(node) in state.ranges)
    return found


def moved(where: CodeRange, lines: int) -> CodeRange:
    """``where`` in a text that starts ``lines`` lines further down."""
    return CodeRange(CodePosition(where.start.line + lines, where.start.column),
                     CodePosition(where.end.line + lines, where.end.column))
