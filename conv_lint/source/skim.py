"""The parse the analysis reads: the module's top level in pieces, its functions left for later.

Two costs of libcst's parse are not the analysis's to pay. It grows faster than the file (a
10,000-line file costs half as much again per line as a 1,000-line one, parsed whole; parsed in
pieces of a few top-level statements, it costs the same per line); and a model file is mostly
code the analysis never runs: the functions that build its models (torchvision's
``resnet18(*, weights=None, ...)``, timm's hundreds of ``@register_model`` functions). So the
top level is cut into pieces, each parsed on its own; their statements, in order, make the
module the analysis reads. A top-level ``def`` (with its decorators) is not parsed until it is
looked up (a ``Deferred``); most never are.

The pieces are found from the text alone: a line starting at column 0 with code starts a
statement. A line that only looks so (inside a string or brackets, after a backslash) cuts a
statement in two, and a piece that does not parse makes the whole file parsed at once, as
libcst would; a function whose text is not one function stays unknown.

A node's place in the file is its place in its piece, moved down by the lines before the piece
(``ranges``): libcst gives a node no place of its own.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

import libcst as cst

# A line that may start a top-level statement (not a comment, nor the closing bracket of a
# signature or a call laid out one argument per line), and the start of a function.
_STATEMENT = re.compile(r"^[^\s#)\]}]", re.M)
_DEFINITION = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)")
_PIECE_LINES = 100  # statements are parsed together up to about this many lines


class Deferred:
    """A top-level function not parsed yet: its text and its place in the file."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.first_line = first_line  # 0-based: the function's lines are offset by this much
        self._parsed: Optional[cst.Module] = None
        self._tried = False

    def node(self) -> Optional[cst.FunctionDef]:
        """The function, parsed now (once); None when its text is not one function."""
        if not self._tried:
            self._tried = True
            from conv_lint.source.parsing import parse_whole

            try:
                module = parse_whole(self.text)
            except (cst.ParserSyntaxError, RecursionError):
                module = None
            if module is not None and len(module.body) == 1 \
                    and isinstance(module.body[0], cst.FunctionDef):
                self._parsed = module
        return None if self._parsed is None else self._parsed.body[0]

    @property
    def parsed(self) -> Optional[cst.Module]:
        return self._parsed


class _Pieces:
    """What a module was assembled from: its parsed pieces with their first lines, and the
    functions left for later."""

    def __init__(self, parsed: list, deferred: dict) -> None:
        self.parsed = parsed  # [(piece module, first line)]
        self.deferred = deferred  # name -> Deferred

    def modules(self) -> Iterable[tuple[cst.Module, int]]:
        yield from self.parsed
        for function in self.deferred.values():
            if function.parsed is not None:
                yield function.parsed, function.first_line


class _Assembled(cst.Module):
    """A module made of pieces, which it keeps (``pieces``): where its nodes are, and its
    functions not parsed yet. libcst's nodes have no room for more (slots): this one has."""


def parse(source: str, parse_text: Callable[[str], cst.Module]) -> cst.Module:
    """``source`` parsed by ``parse_text`` in top-level pieces, its functions deferred; or
    whole, where the text cannot be cut (raising ParserSyntaxError as libcst does)."""
    pieces = _cut(source)
    if pieces is None:
        return parse_text(source)
    lines = source.split("\n")
    body: list = []
    parsed: list = []
    deferred: dict[str, Deferred] = {}
    try:
        for first, end, name in pieces:
            text = "\n".join(lines[first:end]) + "\n"
            if name is not None:
                deferred[name] = Deferred(text, first)
                continue
            piece = parse_text(text)
            parsed.append((piece, first))
            body.extend(piece.body)
    except cst.ParserSyntaxError:
        return parse_text(source)  # cut in the wrong place (or broken): judge it whole
    head = parsed[0][0] if parsed else parse_text("")
    module = _Assembled(body=body, encoding=head.encoding, default_indent=head.default_indent,
                        default_newline=head.default_newline)
    object.__setattr__(module, "pieces", _Pieces(parsed, deferred))  # frozen, as libcst's are
    return module


def _assembled(module: cst.Module) -> Optional[_Pieces]:
    return module.pieces if isinstance(module, _Assembled) else None


def deferred(module: cst.Module) -> dict:
    """The functions ``module`` was parsed without: name -> Deferred."""
    pieces = _assembled(module)
    return pieces.deferred if pieces is not None else {}


def _cut(source: str) -> Optional[list[tuple[int, int, Optional[str]]]]:
    """The pieces of the top level as (first line, end line, function name or None), in order;
    None for text this does not cut (\\r line ends, a single piece)."""
    if "\r" in source or "\0" in source:
        return None
    starts = [match.start() for match in _STATEMENT.finditer(source)]
    lines = source.split("\n")
    if len(starts) < 2 and len(lines) <= _PIECE_LINES:
        return None
    offsets = {0: 0}
    at = 0
    for index, line in enumerate(lines[:-1]):
        at += len(line) + 1
        offsets[at] = index + 1
    heads = [line for line in map(offsets.get, starts)  # the lines that start a statement
             if line == 0 or not lines[line - 1].endswith("\\")]  # (not a continued one)
    if not heads or heads[0] != 0:
        heads.insert(0, 0)  # comments and blank lines before the first statement
    heads.append(len(lines))
    pieces: list = []
    run = 0  # where the statements being gathered into one piece start
    index = 0
    while index < len(heads) - 1:
        first = heads[index]
        while index < len(heads) - 1 and lines[heads[index]].startswith("@"):
            index += 1  # decorators belong to what follows them
        if index == len(heads) - 1:
            break
        match = _DEFINITION.match(lines[heads[index]])
        end = heads[index + 1]
        index += 1
        if match is not None:
            if run < first:
                pieces.append((run, first, None))
            pieces.append((first, end, match[1]))
            run = end
        elif end - run >= _PIECE_LINES:
            pieces.append((run, end, None))
            run = end
    if run < len(lines):
        pieces.append((run, len(lines), None))
    return pieces


def ranges(module: cst.Module, nodes: Iterable[cst.CSTNode], source: str) -> dict:
    """positions.ranges over a module ``parse`` made from ``source``: each node is looked for
    in the pieces (and the functions parsed since), its lines moved down to where the piece
    sits; a module parsed whole, in the module itself."""
    from conv_lint.source.positions import moved, ranges as ranges_in

    wanted = [node for node in nodes if node is not None]
    pieces = _assembled(module)
    if pieces is None:
        return ranges_in(module, wanted, source)
    from conv_lint.source.walk import walk

    left = {id(node): node for node in wanted}
    found: dict = {}
    for piece, shift in pieces.modules():
        if not left:
            break
        here = [left.pop(key) for key in {id(node) for node in walk(piece)} & left.keys()]
        found.update((node, moved(where, shift))  # generated up to the last one
                     for node, where in ranges_in(piece, here).items())
    return found
