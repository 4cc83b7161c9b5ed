"""A parse that leaves the module's top-level functions for later: most are never called.

A model file is mostly model classes and the functions that build them (torchvision's
``resnet18(*, weights=None, ...)``, timm's hundreds of ``@register_model`` functions). The
analysis runs classes; a top-level function matters only when something it runs calls it. So
each top-level ``def`` (with its decorators) is blanked out of the text libcst parses, line for
line, which keeps every other node where it was, and parsed on its own the first time it is
looked up (a ``Deferred``). Its nodes then sit ``first_line`` lines down the file.

The top level is found from the text alone: a line starting at column 0 with code starts a
statement. A line that only looks so (inside a string or brackets) leaves a piece of text that
does not parse: the whole file is then parsed as usual, or that function stays unknown.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

import libcst as cst

# A line that may start a top-level statement (not a comment, nor the closing bracket of a
# signature or a call laid out one argument per line), and those that start a function.
_STATEMENT = re.compile(r"^[^\s#)\]}]", re.M)
_DEFINITION = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)")


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
            from conv_lint.project import parse_whole

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


# id(module) -> (module, {name: Deferred}): what a skimmed module left out (the module is kept
# in the entry: an id is reused once its object is gone).
_DEFERRED: dict[int, tuple] = {}
_MAX_MODULES = 512


def parse(source: str, parse_text) -> cst.Module:
    """``source`` parsed by ``parse_text`` with its top-level functions deferred, or whole."""
    cut = _cut(source)
    if cut is None:
        return parse_text(source)
    blanked, deferred = cut
    try:
        module = parse_text(blanked)
    except cst.ParserSyntaxError:
        return parse_text(source)  # the cut went wrong (or the file is broken): judge it whole
    if len(_DEFERRED) >= _MAX_MODULES:
        _DEFERRED.clear()
    _DEFERRED[id(module)] = (module, deferred)
    return module


def deferred(module: cst.Module) -> dict:
    """The functions ``module`` was parsed without: name -> Deferred."""
    entry = _DEFERRED.get(id(module))
    return entry[1] if entry is not None and entry[0] is module else {}


def _cut(source: str) -> Optional[tuple[str, dict]]:
    """The source with its top-level functions blanked out (line endings kept), and those
    functions; None when there is nothing to cut (or line ends this does not handle)."""
    if "\r" in source or "\0" in source:
        return None
    starts = [match.start() for match in _STATEMENT.finditer(source)]
    if not any(source.startswith(("def", "async", "@"), start) for start in starts):
        return None
    lines = source.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    line_of = {offset: index for index, offset in enumerate(offsets)}
    heads = [line for line in map(line_of.get, starts)  # the lines that start a statement
             if line == 0 or not lines[line - 1].endswith("\\")]  # (not a continued one)
    deferred: dict[str, Deferred] = {}
    blank: list[tuple[int, int]] = []
    index = 0
    while index < len(heads):
        first = heads[index]
        while index < len(heads) and lines[heads[index]].startswith("@"):
            index += 1  # decorators belong to what follows them
        if index == len(heads):
            break
        match = _DEFINITION.match(lines[heads[index]])
        index += 1
        if match is None:
            continue
        end = heads[index] if index < len(heads) else len(lines)
        deferred[match[1]] = Deferred("\n".join(lines[first:end]) + "\n", first)
        blank.append((first, end))
    if not blank:
        return None
    for first, end in blank:
        lines[first:end] = [""] * (end - first)
    return "\n".join(lines), deferred


def ranges(module: cst.Module, nodes: Iterable[cst.CSTNode], source: str) -> dict:
    """positions.ranges over a module parsed from ``source`` by ``parse``: a node of a function
    parsed later is found in that function's own tree, its lines moved down to where the
    function sits."""
    from libcst._position import CodePosition, CodeRange

    from conv_lint.positions import ranges as ranges_in

    wanted = [node for node in nodes if node is not None]
    found = ranges_in(module, wanted, source)
    for function in deferred(module).values():
        missing = [node for node in wanted if node not in found]
        if not missing:
            break
        if function.parsed is None:
            continue
        shift = function.first_line
        for node, where in ranges_in(function.parsed, missing).items():
            found[node] = CodeRange(CodePosition(where.start.line + shift, where.start.column),
                                    CodePosition(where.end.line + shift, where.end.column))
    return found
