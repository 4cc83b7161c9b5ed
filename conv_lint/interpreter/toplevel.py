"""A module's top-level assignments, run when a name is first read instead of all up front.

A model file's top level is mostly tables nothing reads while a model is built (torchvision's
weights metadata, ImageNet's thousand class names), and so is the top level of every sibling
module it imports: running only the lines that write a name, when the name is read, costs a
fraction of running them all for every linted file. A read still sees the name as it stood at
the line running then (or at the end of the module, read from a function or another module).
Where that can no longer be replayed (a line writing the name after that point ran already,
for an earlier read) the read is unknown, never a wrong value.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.source.walk import names_in, walk

_ASSIGNMENTS = (cst.Assign, cst.AnnAssign, cst.AugAssign)
_FORGETTING = (cst.Del, cst.Global, cst.Nonlocal)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # a name no top-level line binds (then it may be a class, an import...)


class TopLevel:
    """The simple statement lines at a module's top level, with the names each one writes;
    and, for one analysis, which of them have run."""

    def __init__(self, module: cst.Module) -> None:
        self.lines, self.writers, self.calling = _index(module)
        self.done = [False] * len(self.lines)
        self.running: list[int] = []  # the lines being run now, innermost last

    def plan(self, name: str) -> Optional[list[int]]:
        """The lines still to run before ``name`` is read now (in order), or None when its value
        at this point cannot be told any more."""
        writers = self.writers.get(name)
        if not writers:
            return []
        now = self.running[-1] if self.running else len(self.lines)
        todo = [i for i in writers if i < now and not self.done[i]]
        limit = todo[0] if todo else now
        if any(self.done[i] and i > limit and i != now for i in writers):
            return None  # a later write has run: the value this read should see is gone
        return todo


# id(module) -> (module, lines, writers, calling). A sibling's tree is parsed once per process
# and read by every file importing it: its index is made once too (the module is kept in the
# entry: an id is reused once its object is gone).
_INDEXED: dict[int, tuple] = {}
_MAX_INDEXED = 256


def _index(module: cst.Module) -> tuple[list, dict, list]:
    cached = _INDEXED.get(id(module))
    if cached is not None and cached[0] is module:
        return cached[1:]
    lines = [s for s in module.body if isinstance(s, cst.SimpleStatementLine)]
    targets = [_targets(line) for line in lines]
    assigned = set().union(*targets)
    writers: dict[str, list[int]] = {}  # name -> the lines that may change it, in order
    calling = []  # the lines that call something
    for index, line in enumerate(lines):
        written = targets[index]
        if _calls(line):  # `cfg.update(...)`, `setup(cfg)`
            calling.append(index)
            written = written | (names_in(line) & assigned)
        elif any(isinstance(small, _FORGETTING) for small in line.body):  # `del cfg[k]`
            written = written | (names_in(line) & assigned)
        for name in written:
            writers.setdefault(name, []).append(index)
    if len(_INDEXED) >= _MAX_INDEXED:
        _INDEXED.clear()
    _INDEXED[id(module)] = (module, lines, writers, calling)
    return lines, writers, calling


def _targets(line: cst.SimpleStatementLine) -> set[str]:
    """The names a line's assignments bind or change (``x``, ``x[k]``, ``x.a``, ``a, b``)."""
    names: set[str] = set()
    for small in line.body:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                names.update(_roots(target.target))
        elif isinstance(small, _ASSIGNMENTS):
            names.update(_roots(small.target))
    return names


def _roots(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(_roots(element.value) for element in target.elements))
    while isinstance(target, (cst.Subscript, cst.Attribute)):
        target = target.value
    return {target.value} if isinstance(target, cst.Name) else set()


def _calls(line: cst.SimpleStatementLine) -> bool:
    return any(type(node) is cst.Call for node in walk(line))
