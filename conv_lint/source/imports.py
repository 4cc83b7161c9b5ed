"""Resolve names to qualified names from a module's own imports.

Cheaper than libcst's QualifiedNameProvider (~7x a parse): we only need to know that ``nn.Conv2d``,
``Conv2d`` or ``torch.nn.Conv2d`` all mean ``torch.nn.Conv2d`` in this file.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

# torch.nn.modules.conv.Conv2d is re-exported as torch.nn.Conv2d; the catalogue uses the short form.
_SUBMODULE = re.compile(r"^torch\.nn\.modules\.[a-z_]+\.")
_SHORTHANDS = {"torch.concat": "torch.cat", "torch.concatenate": "torch.cat"}


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def canonical(qualname: str) -> str:
    qualname = _SUBMODULE.sub("torch.nn.", qualname)
    return _SHORTHANDS.get(qualname, qualname)


class ImportMap:
    """Local name -> qualified name, from the module's top-level imports (also inside if/try)."""

    def __init__(self, module: cst.Module, package: Optional[str] = None,
                 preset: Optional[dict] = None) -> None:
        """``package``: the module's package, to make relative imports absolute (None: skip
        them). ``preset``: names bound before the module's own imports (the stubs' ``nn``)."""
        self.package = package
        self.names: dict[str, str] = dict(preset or {})
        self.stars: list[str] = []  # `from .layers import *`: the modules, in order
        for statement in _top_level_statements(module.body):
            for small in statement.body:
                if isinstance(small, cst.Import):
                    self._add_import(small)
                elif isinstance(small, cst.ImportFrom):
                    self._add_import_from(small)

    def _add_import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.names[alias.asname.name.value] = full
            else:  # `import torch.nn` binds `torch`
                head = full.split(".")[0]
                self.names[head] = head

    def _add_import_from(self, node: cst.ImportFrom) -> None:
        base = dotted(node.module) if node.module is not None else ""
        if base is None:
            return
        if node.relative:
            base = _absolute(self.package, len(node.relative), base)
        if not base:
            return
        if isinstance(node.names, cst.ImportStar):
            self.stars.append(base)  # its names are the interpreter's to find (scopes.py)
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.names[local] = f"{base}.{alias.name.value}"

    def resolve(self, node: cst.BaseExpression) -> Optional[str]:
        """The canonical qualified name ``node`` refers to, if it comes from an import."""
        path = dotted(node)
        if path is None:
            return None
        head, _, rest = path.partition(".")
        base = self.names.get(head)
        if base is None:
            return None
        return canonical(f"{base}.{rest}" if rest else base)


def _absolute(package: Optional[str], level: int, name: str) -> Optional[str]:
    """``from ..x import`` (level 2, name "x") in package ``a.b.c``: "a.b.x"."""
    if package is None:
        return None
    parts = package.split(".") if package else []
    if level > len(parts):
        return None  # beyond the top-level package: Python raises ImportError
    head = parts[:len(parts) - (level - 1)]
    return ".".join(head + ([name] if name else [])) or None


def _top_level_statements(body):
    """Simple statements at module level, looking into if/try/else blocks (guarded imports)."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield statement
        elif isinstance(statement, (cst.If, cst.Try)):
            yield from _top_level_statements(statement.body.body)
            for extra in _branches(statement):
                yield from _top_level_statements(extra.body.body)


def _branches(statement):
    if isinstance(statement, cst.If):
        orelse = statement.orelse
        while orelse is not None:
            yield orelse
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    else:
        yield from statement.handlers
        if statement.orelse is not None:
            yield statement.orelse
