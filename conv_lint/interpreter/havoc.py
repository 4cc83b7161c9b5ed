"""What a statement the interpreter does not follow (while, try, a loop it cannot unroll) may
change: every name it assigns or mutates is forgotten, so nothing stale is ever judged."""

from __future__ import annotations

import libcst as cst

from conv_lint.interpreter.values import UNKNOWN, Tensor
from conv_lint.source.walk import walk


def havoc(node: cst.CSTNode, frame) -> None:
    """Forget every name a statement we do not follow may assign or mutate."""
    for name in assigned_names(node):
        if name.startswith("self."):
            if frame.self_module is not None:
                frame.self_module.attrs[name[5:]] = UNKNOWN
        elif name in frame.env:
            old = frame.env[name]
            frame.env[name] = Tensor(origin=old.origin) if isinstance(old, Tensor) else UNKNOWN


# Exact node types (a visitor's visit_X is called for type X only; isinstance on libcst's ABCs
# is also ~5x slower than a type lookup).
_BINDERS = {cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor}
_JUMPS = {cst.Break, cst.Continue}


def assigned_names(node: cst.CSTNode) -> set:
    names: set = set()
    for inner in walk(node):
        kind = type(inner)
        if kind in _BINDERS:
            names.update(target_names(inner.target))
        elif kind is cst.WithItem and inner.asname is not None:
            names.update(target_names(inner.asname.name))
        elif kind is cst.ExceptHandler and inner.name is not None:
            names.update(target_names(inner.name.name))
        elif kind is cst.Del:  # del cfg[k]
            names.update(target_names(inner.target))
        elif kind is cst.Call and isinstance(inner.func, cst.Attribute):
            names.update(target_names(inner.func.value))  # layers.append(...)
    return names


def jumps(body: cst.CSTNode) -> bool:
    """Does a loop body break or continue (which unrolling does not follow)?"""
    return any(type(inner) in _JUMPS for inner in walk(body, prune=(cst.FunctionDef,)))


def target_names(target) -> set:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Attribute) and is_self(target.value):
        return {"self." + target.attr.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        result: set = set()
        for element in target.elements:
            result |= target_names(element.value)
        return result
    if isinstance(target, (cst.Subscript, cst.Attribute)):
        return target_names(target.value)
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


def is_self(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"
