"""Statements: blocks, assignments, ``if`` (decided, or both branches joined), ``for``
(unrolled, or forgotten), and what a statement not followed may change (havoc).

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`; ``uncertain`` counts the
branches being run without knowing their condition (nothing is reported inside them).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.interpreter.frames import MAX_STEPS, Frame, GiveUp, Return
from conv_lint.interpreter.havoc import havoc, is_self, jumps
from conv_lint.interpreter.joins import join_dicts, replace
from conv_lint.interpreter.pyvalues import (
    MAX_UNROLL, as_sequence, hashable, is_int, iterated, truth,
)
from conv_lint.interpreter.values import UNKNOWN, Container, ListValue


class Statements:
    """Running statements on a frame."""

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise GiveUp("step budget exceeded")

    def _exec_block(self, statements, frame: Frame) -> None:
        for statement in statements:
            self._tick()
            if isinstance(statement, cst.SimpleStatementLine):
                self._exec_simple_line(statement, frame)
            elif isinstance(statement, cst.If):
                self._exec_if(statement, frame)
            elif isinstance(statement, cst.For):
                self._exec_for(statement, frame)
            elif isinstance(statement, cst.With):
                self._exec_block(statement.body.body, frame)
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                frame.env[statement.name.value] = UNKNOWN
            else:  # while, try, match...: forget what they may change
                havoc(statement, frame)

    def _exec_simple_line(self, line: cst.SimpleStatementLine, frame: Frame) -> None:
        for small in line.body:
            if isinstance(small, cst.Assign):
                value = self.eval(small.value, frame)
                for target in small.targets:
                    self._assign(target.target, value, frame)
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                self._assign(small.target, self.eval(small.value, frame), frame)
            elif isinstance(small, cst.AugAssign):
                current = self.eval(small.target, frame)
                op = type(small.operator).__name__.replace("Assign", "")
                value = self._binary(op, current, self.eval(small.value, frame), small, frame)
                self._assign(small.target, value, frame)
            elif isinstance(small, cst.Expr):
                self.eval(small.value, frame)
            elif isinstance(small, cst.Return):
                frame.returns.append(None if small.value is None else self.eval(small.value, frame))
                raise Return()
            elif isinstance(small, cst.Raise):
                raise Return()  # a path that raises returns nothing we need to join
            elif isinstance(small, (cst.Global, cst.Nonlocal, cst.Del)):
                havoc(small, frame)

    def _assign(self, target: cst.BaseExpression, value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
        elif isinstance(target, cst.Attribute) and is_self(target.value) and frame.self_module:
            frame.self_module.attrs[target.attr.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = as_sequence(value)
            elements = target.elements
            if items is not None and len(items) == len(elements) and not any(
                isinstance(e, cst.StarredElement) for e in elements
            ):
                for element, item in zip(elements, items):
                    self._assign(element.value, item, frame)
            else:
                for element in elements:
                    self._assign(element.value, UNKNOWN, frame)
        elif isinstance(target, cst.Subscript):
            container = self.eval(target.value, frame)
            key = self._subscript_key(target, frame)
            if isinstance(container, ListValue) and container.items is not None:
                if is_int(key) and -len(container.items) <= key < len(container.items):
                    container.items[key] = value
                else:
                    container.items = None  # an item changed in a way we do not track
            elif isinstance(container, Container):
                container.items.append(("?", UNKNOWN))
            elif isinstance(container, dict):
                if key is not UNKNOWN and hashable(key):
                    container[key] = value
                else:  # which item changed is not known: no item of it is
                    self._forget(target.value, frame)
        # other targets (self.x.y = ...) change nothing we track

    def _forget(self, expr: cst.BaseExpression, frame: Frame) -> None:
        """A dict changed in a way not followed: the name it is read through (``cfg`` of
        ``cfg.popitem()``, local or global) holds an unknown value from now on."""
        if not isinstance(expr, cst.Name):
            return
        if expr.value in frame.env:
            frame.env[expr.value] = UNKNOWN
        elif expr.value in self.scope.constants:
            self.scope.constants[expr.value] = UNKNOWN

    def _exec_if(self, node: cst.If, frame: Frame) -> None:
        test = truth(self.eval(node.test, frame))
        orelse = node.orelse
        other = [orelse] if isinstance(orelse, cst.If) else \
            orelse.body.body if isinstance(orelse, cst.Else) else []
        if test is True:
            self._exec_block(node.body.body, frame)
        elif test is False:
            self._exec_block(other, frame)
        else:
            self._exec_each(node.body.body, other, frame)

    def _exec_each(self, first, second, frame: Frame) -> None:
        """Both branches of an undecided `if`, each on a copy of the state, then the join."""
        module = frame.self_module
        start = dict(module.attrs) if module else {}
        # lists and containers the branches may append to are shared by both copies of the
        # state: each branch starts from their items as they are now
        shared = _mutables(list(frame.env.values()) + list(start.values()))
        before = [list(value.items) for value in shared]
        outcomes, grown = [], []
        self.uncertain += 1
        try:
            for branch in (first, second):
                sub = Frame(dict(frame.env), module, frame.cls, frame.returns, frame.in_forward)
                try:
                    self._exec_block(branch, sub)
                    outcomes.append((sub.env, dict(module.attrs) if module else {}))
                    grown.append([_copy(value.items) for value in shared])
                except Return:
                    pass  # this branch returned (or raised): nothing of it flows on
                if module:
                    replace(module.attrs, start)
                for value, items in zip(shared, before):
                    value.items = list(items)
        finally:
            self.uncertain -= 1
        if not outcomes:
            raise Return()
        replace(frame.env, join_dicts([env for env, _ in outcomes]))
        if module:
            replace(module.attrs, join_dicts([attrs for _, attrs in outcomes]))
        for index, value in enumerate(shared):
            _join_items(value, before[index], [items[index] for items in grown])

    def _exec_for(self, node: cst.For, frame: Frame) -> None:
        items = as_sequence(iterated(self.eval(node.iter, frame)))
        if items is None or len(items) > MAX_UNROLL or node.orelse is not None \
                or jumps(node.body):
            if not jumps(node.body):
                self._probe(node.target, frame, lambda sub: self._exec_block(node.body.body, sub))
            havoc(node, frame)
            return
        for item in items:
            self._assign(node.target, item, frame)
            self._exec_block(node.body.body, frame)

    def _probe(self, target, frame: Frame, body) -> None:
        """`conv-lint stats` only: a loop over a sequence not known (`for v in cfg`, `range(depth)`)
        is not followed, but its body is run once on a copy of the frame, the loop variable
        unknown and nothing reported, so the layers it builds are counted with what is known."""
        if self.constructions is None:
            return
        sub = Frame(dict(frame.env), frame.self_module, frame.cls, [], frame.in_forward)
        self.uncertain += 1
        try:
            self._assign(target, UNKNOWN, sub)
            body(sub)
        except Return:
            pass
        finally:
            self.uncertain -= 1


def _mutables(values: list) -> list:
    """The lists being built and the containers among ``values``, each once."""
    found: dict = {}
    for value in values:
        if isinstance(value, (ListValue, Container)) and value.items is not None:
            found.setdefault(id(value), value)
    return list(found.values())


def _copy(items: Optional[list]) -> Optional[list]:
    """A snapshot of a list's items (None: a branch inside left it unknown)."""
    return None if items is None else list(items)


def _join_items(value, before: list, outcomes: list) -> None:
    """What a list or container holds after an undecided `if`: what every branch left in it
    (the same objects), else unknown from the first item a branch changed."""
    if None not in outcomes and all(
            len(items) == len(outcomes[0]) and all(a is b for a, b in zip(items, outcomes[0]))
            for items in outcomes):
        value.items = list(outcomes[0])
    elif isinstance(value, ListValue):
        value.items = None
    else:  # a container: its items before the `if` are certain, the rest is not known
        value.items = list(before) + [("?", UNKNOWN)]
