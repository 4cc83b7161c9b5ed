"""What a statement the interpreter does not follow (while, try, a loop it cannot unroll) may
change: every name it assigns or mutates is forgotten, so nothing stale is ever judged."""

from __future__ import annotations

import libcst as cst

from conv_lint.values import UNKNOWN, Tensor


def havoc(node: cst.CSTNode, frame) -> None:
    """Forget every name a statement we do not follow may assign or mutate."""
    for name in assigned_names(node):
        if name.startswith("self."):
            if frame.self_module is not None:
                frame.self_module.attrs[name[5:]] = UNKNOWN
        elif name in frame.env:
            old = frame.env[name]
            frame.env[name] = Tensor(origin=old.origin) if isinstance(old, Tensor) else UNKNOWN


def assigned_names(node: cst.CSTNode) -> set:
    names: set = set()

    class Collector(cst.CSTVisitor):
        def visit_AssignTarget(self, target):
            names.update(target_names(target.target))

        def visit_AugAssign(self, aug):
            names.update(target_names(aug.target))

        def visit_AnnAssign(self, ann):
            names.update(target_names(ann.target))

        def visit_For(self, loop):
            names.update(target_names(loop.target))

        def visit_CompFor(self, comp):
            names.update(target_names(comp.target))

        def visit_WithItem(self, item):
            if item.asname is not None:
                names.update(target_names(item.asname.name))

        def visit_ExceptHandler(self, handler):
            if handler.name is not None:
                names.update(target_names(handler.name.name))

        def visit_Call(self, call):  # layers.append(...), self.blocks.extend(...)
            if isinstance(call.func, cst.Attribute):
                names.update(target_names(call.func.value))

    node.visit(Collector())
    return names


def jumps(body: cst.CSTNode) -> bool:
    """Does a loop body break or continue (which unrolling does not follow)?"""
    found = []

    class Finder(cst.CSTVisitor):
        def visit_Break(self, node) -> None:
            found.append(node)

        def visit_Continue(self, node) -> None:
            found.append(node)

        def visit_FunctionDef(self, node) -> bool:
            return False

    body.visit(Finder())
    return bool(found)


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
