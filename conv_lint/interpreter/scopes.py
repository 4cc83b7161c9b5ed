"""Module scopes: the globals of the linted file and of each module it reads, and the
resolver that finds what an imported qualified name defines (a sibling module's class, function
or constant, or a well-known block's stub)."""

from __future__ import annotations

from dataclasses import field
from typing import Optional

import libcst as cst

from conv_lint.interpreter.toplevel import ABSENT, TopLevel
from conv_lint.records import record
from conv_lint.source import skim
from conv_lint.source.imports import ImportMap
from conv_lint.source.parsing import parse_file
from conv_lint.source.project import Project, is_foreign


@record(eq=False)
class Scope:
    """One module's globals: what its top level defines, imports and assigns."""

    module: cst.Module
    imports: ImportMap
    name: str = ""  # dotted module name ("mypkg.blocks"); "" for the linted file of no package
    stub: bool = False  # a well-known block's stand-in (conv_lint/known), not the user's code
    classes: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)  # the top-level names evaluated so far
    top: Optional[TopLevel] = None  # the top-level lines, run as their names are read

    def function(self, name: str) -> Optional[cst.FunctionDef]:
        """The top-level function ``name``, parsed now if the parse left it for later."""
        value = self.functions.get(name)
        if isinstance(value, skim.Deferred):
            value = value.node()
            if value is None:  # its text is not one function after all: unknown
                del self.functions[name]
            else:
                self.functions[name] = value
        return value


def star_exports(scope: Scope, read) -> dict:
    """The names ``from module import *`` binds, as qualified names: ``__all__`` if the module
    lists it plainly, else its public top-level names (its own imports included)."""
    listed = read(scope, "__all__") if scope.top is not None and "__all__" in scope.top.writers \
        else None
    items = getattr(listed, "items", listed)
    if isinstance(items, (tuple, list)) and all(isinstance(name, str) for name in items):
        names = list(items)
    else:
        names = list(scope.classes) + list(scope.functions) + list(scope.imports.names)
        names += list(scope.top.writers) if scope.top is not None else []
        names = [name for name in names if not name.startswith("_")]
    return {name: scope.imports.names.get(name, f"{scope.name}.{name}") for name in names}


class Resolver:
    """Qualified names the file imports -> what the project (or a well-known stub) defines.

    ``build(module, name, package, stub, preset)`` turns a parsed module into its collected
    ``Scope``, and ``read(scope, name)`` gives one of its top-level values (or ABSENT); the
    interpreter does both (module constants need evaluating). Each module is built once per
    resolver; re-exports (``from .conv_bn_act import ConvNormAct`` in an
    ``__init__.py``) are followed to a bounded depth.
    """

    MAX_HOPS = 8

    def __init__(self, project: Project, build, read) -> None:
        self.project = project
        self._build = build
        self._read = read
        self._scopes: dict[str, Optional[Scope]] = {}
        self._found: dict[str, object] = {}

    def lookup(self, qualname: str, hops: int = 0):
        """The class (ClassInfo), function (FunctionDef) or constant ``qualname`` names, with
        the scope it was found in; None when it is not the project's or a known block."""
        if qualname in self._found:
            return self._found[qualname]
        self._found[qualname] = None  # a cycle of re-exports ends here
        found = self._lookup(qualname, hops)
        self._found[qualname] = found
        return found

    def module_scope(self, module: str) -> Optional[Scope]:
        """The project's module ``module`` (dotted), built; None if it is not the project's."""
        if is_foreign(module):
            return None
        path = self.project.module_path(module)
        return None if path is None else self._scope(module, path, None)

    def _lookup(self, qualname: str, hops: int):
        from conv_lint import known

        if hops > self.MAX_HOPS:
            return None
        stub = known.KNOWN.get(qualname)
        if stub is not None:
            scope = self._scope(f"<stub {stub.file}>", None, stub.file)
            return None if scope is None else self._member(scope, stub.name, hops)
        module, _, name = qualname.rpartition(".")
        if not module or is_foreign(module):
            return None
        path = self.project.module_path(module)
        if path is None:
            return None
        scope = self._scope(module, path, None)
        return None if scope is None else self._member(scope, name, hops)

    def _member(self, scope: Scope, name: str, hops: int):
        if name in scope.classes:
            return scope, scope.classes[name]
        function = scope.function(name)
        if function is not None:
            return scope, function
        value = self._read(scope, name)
        if value is not ABSENT:
            return scope, value
        target = scope.imports.names.get(name)
        if target is not None:
            from conv_lint.source.imports import canonical

            return self.lookup(canonical(target), hops + 1)
        return None

    def _scope(self, key: str, path: Optional[str], stub_file: Optional[str]) -> Optional[Scope]:
        if key not in self._scopes:
            self._scopes[key] = None  # being built: a cyclic import sees nothing yet
            if stub_file is not None:
                from conv_lint import known

                module = known.stub_module(stub_file)
                scope = None if module is None else self._build(
                    module, "", None, True, known.PRESET)
            else:
                module = parse_file(path) if path else None
                scope = None if module is None else self._build(
                    module, key, self.project.package_of(key), False, None)
            self._scopes[key] = scope
        return self._scopes[key]
