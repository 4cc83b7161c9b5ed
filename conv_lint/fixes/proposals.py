"""Fixes the engine attaches to findings: one argument of one layer's constructor call set to a
value, offered only where the change is certain.

A finding proposes a :class:`Change` (the layer families and the design rules know what value
the argument needs); the engine turns it into a ``Fix`` of text edits here, once positions are
known, after three questions:

1. Does every layer that constructor call built need exactly this change? (A helper or a loop
   may build several layers with one call: all of them must agree.)
2. Is the argument, in the source, a literal we may rewrite (never a variable or an expression
   with names in it: other code may depend on it), or absent, so that a keyword can be added?
3. Nothing else may stand in the way: ``*args`` / ``**kwargs`` may carry the argument.
"""

from __future__ import annotations

from typing import Any, Optional

import libcst as cst

from conv_lint.records import record

_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide)


@record(frozen=True)
class Change:
    """Set argument ``arg`` of the constructor call ``node`` (that built ``layer``, a layer of
    catalogue type ``kind``) to ``value``: an int, a tuple of ints or a bool."""

    node: Any  # cst.Call
    kind: Any  # layers.LayerType: its signature says where a positional argument stands
    arg: str
    value: Any
    layer: Any  # values.Layer

    @property
    def text(self) -> str:
        value = self.value
        if isinstance(value, tuple):
            return "(" + ", ".join(str(v) for v in value) + ")"
        return str(value)

    @property
    def description(self) -> str:
        return f"set {self.arg}={self.text}"


# Arguments whose change moves the sizes of everything after the layer: the engine checks the
# fixed file again before offering such a fix.
RESHAPING_ARGUMENTS = frozenset({"padding"})


def offer(report, interpreter, positions) -> Optional[tuple]:
    """(the Change, its edits) for a reported finding when the change is certain, else None.

    An error (CNV1xx) proposes what its layer receives: every layer of that constructor call
    must receive the same. A design warning's rule proposes a change per layer it warns about:
    it must have proposed the same for every layer of that constructor call."""
    if not report.changes or interpreter.built is None:
        return None
    change = report.changes[0]
    if report.code.startswith("CNV1"):
        certain = needed_by_every_layer(change, interpreter.built, interpreter.received)
    else:
        certain = proposed_for_every_layer(report.changes, interpreter.built)
    if not certain or (change.arg == "bias" and bias_is_read(interpreter.module)):
        return None
    spans = edits(change, positions)
    return None if spans is None else (change, spans)


def needed_by_every_layer(change: Change, built: dict, received: dict) -> bool:
    """Do all the layers ``change.node`` built receive, at every call, inputs that require
    ``change.value`` of the argument? A call whose input is unknown makes it uncertain, and so
    does a layer never called (it may be called where the interpreter does not look)."""
    layers = built.get(id(change.node)) or []
    for layer in layers:
        shapes = received.get(id(layer))
        if not shapes or any(layer.kind.demands(layer.bound, shape).get(change.arg)
                             != change.value for shape in shapes):
            return False
    return bool(layers)


def proposed_for_every_layer(changes: list, built: dict) -> bool:
    """Did the rule propose the same change for every layer the constructor call built?"""
    first = changes[0]
    if any(c.arg != first.arg or c.value != first.value for c in changes):
        return False
    layers = built.get(id(first.node)) or []
    proposed = {id(c.layer) for c in changes}
    return bool(layers) and all(id(layer) in proposed for layer in layers)


def edits(change: Change, positions) -> Optional[tuple]:
    """The text edits of ``change`` as (line, col, end_line, end_col, text), or None when the
    call's source does not allow a certain rewrite."""
    node = change.node
    if not isinstance(node, cst.Call) or not node.args or any(a.star for a in node.args):
        return None
    arg = _argument(node, change)
    if arg is None:  # not passed: add it as a keyword after the last argument
        end = positions[node.args[-1].value].end
        return ((end.line, end.column, end.line, end.column, f", {change.arg}={change.text}"),)
    if arg is _AMBIGUOUS or not _rewritable(arg.value, change.value):
        return None
    span = positions[arg.value]
    return ((span.start.line, span.start.column, span.end.line, span.end.column, change.text),)


_AMBIGUOUS = object()  # the argument's place in the call cannot be told


def _argument(node: cst.Call, change: Change):
    """The cst.Arg passing ``change.arg``, None when it is not passed, _AMBIGUOUS when unsure."""
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == change.arg:
            return arg
    positional = [arg for arg in node.args if arg.keyword is None]
    names = list(change.kind.signature.parameters)
    if change.arg not in names:
        return _AMBIGUOUS
    index = names.index(change.arg)
    if any(p.kind is p.VAR_POSITIONAL for p in list(change.kind.signature.parameters.values())
           [:index + 1]):
        return _AMBIGUOUS
    return positional[index] if index < len(positional) else None


def _rewritable(value: cst.BaseExpression, new) -> bool:
    """A literal of the kind the new value is: True/False (or an int) for a flag; an int, a
    literal arithmetic of ints (``16 * 5 * 5``), a tuple of ints or a padding string for sizes."""
    if isinstance(new, bool):
        return isinstance(value, cst.Integer) or (
            isinstance(value, cst.Name) and value.value in ("True", "False"))
    return _literal_size(value)


def _literal_size(value: cst.BaseExpression) -> bool:
    """A padding as a literal: an int, a tuple/list of ints, or a padding string."""
    if isinstance(value, cst.SimpleString):
        return value.evaluated_value in ("valid", "same")
    if isinstance(value, (cst.Tuple, cst.List)):
        return all(not isinstance(e, cst.StarredElement) and _int_literal(e.value)
                   for e in value.elements)
    return _int_literal(value)


def _int_literal(value: cst.BaseExpression) -> bool:
    """An int literal, or arithmetic of int literals only (no names: nothing else uses it)."""
    if isinstance(value, cst.Integer):
        return True
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, _ARITHMETIC):
        return _int_literal(value.left) and _int_literal(value.right)
    return False


def bias_is_read(module: cst.Module) -> bool:
    """Does the file read some ``.bias`` other than to test it against None? Then removing a
    conv's bias could break it (``nn.init.zeros_(m.bias)`` on a bias that is gone)."""
    reader = _BiasReader()
    module.visit(reader)
    return reader.reads > reader.tests


class _BiasReader(cst.CSTVisitor):
    def __init__(self) -> None:
        self.reads = 0
        self.tests = 0

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "bias":
            self.reads += 1

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if isinstance(node.left, cst.Attribute) and node.left.attr.value == "bias" and all(
                isinstance(c.operator, (cst.Is, cst.IsNot)) and isinstance(c.comparator, cst.Name)
                and c.comparator.value == "None" for c in node.comparisons):
            self.tests += 1
