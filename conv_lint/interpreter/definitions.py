"""The evaluator's globals: what the linted file and each module it reads define (classes,
functions, top-level lines), names looked up in them, and imported names resolved.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`: it reads and sets ``scope``
(the module whose code runs now), ``home`` (the linted file), ``resolver`` and ``_scope_of``.
"""

from __future__ import annotations

import libcst as cst

from conv_lint.interpreter.callables import Builtin, Qualified
from conv_lint.interpreter.classes import ClassInfo, class_info, decorated, subclasses_module
from conv_lint.interpreter.frames import Frame, GiveUp, Return
from conv_lint.interpreter.pyvalues import BUILTINS
from conv_lint.interpreter.scopes import Scope, star_exports
from conv_lint.interpreter.toplevel import ABSENT, TopLevel
from conv_lint.interpreter.values import UNKNOWN, ClassRef, FunctionRef
from conv_lint.source import skim
from conv_lint.source.imports import ImportMap


class Definitions:
    """Collecting a module's definitions, and reading its globals as the code runs."""

    # The globals of the code running now: the linted file's, or a sibling module's.
    imports = property(lambda self: self.scope.imports)
    classes = property(lambda self: self.scope.classes)
    functions = property(lambda self: self.scope.functions)
    constants = property(lambda self: self.scope.constants)

    def _build_scope(self, module, name, package, stub, preset) -> Scope:
        """A sibling module (or a well-known block's stub) collected like the linted file."""
        scope = Scope(module, ImportMap(module, package, preset), name, stub)
        self._collect(scope)
        return scope

    def _collect(self, scope: Scope) -> None:
        previous, self.scope = self.scope, scope
        for module in scope.imports.stars:  # before the bases are resolved: they may be its
            star = self.resolver.module_scope(module)
            if star is not None:
                for name, qualname in star_exports(star, self._read_global).items():
                    scope.imports.names.setdefault(name, qualname)
        try:
            self._collect_definitions(scope)
        finally:
            self.scope = previous

    def _collect_definitions(self, scope: Scope) -> None:
        for statement in scope.module.body:
            if isinstance(statement, cst.ClassDef):
                self.classes[statement.name.value] = class_info(statement)
            elif isinstance(statement, cst.FunctionDef):
                self.functions[statement.name.value] = statement
                self._scope_of[id(statement)] = scope
        self.functions.update(skim.deferred(scope.module))  # parsed when looked up
        for info in self.classes.values():
            info.scope = scope
            self._scope_of.update((id(method), scope) for method in info.methods.values())
            info.bases = [self._base(arg.value) for arg in info.node.bases if not arg.keyword]
        for info in self.classes.values():
            info.is_module = subclasses_module(info, set())
        scope.top = TopLevel(scope.module)

    def _run_calling_lines(self, scope: Scope) -> None:
        """The top-level lines that call something (``model = nn.Sequential(...)`` in a script:
        the layers they build are checked), run in order; the tables stay unread till needed."""
        for index in scope.top.calling:
            if not scope.top.done[index]:
                try:
                    self._run_top_line(scope, index)
                except GiveUp:
                    return

    def _read_global(self, scope: Scope, name: str):
        """``name`` at the top level of ``scope`` as it stands now: the lines writing it are run
        when it is first read (toplevel.py); ABSENT when no top-level line binds it."""
        top = scope.top
        if top is None or name not in top.writers:
            return scope.constants.get(name, ABSENT)
        plan = top.plan(name)
        if plan is None:
            return UNKNOWN
        for index in plan:
            self._run_top_line(scope, index)
        return scope.constants.get(name, ABSENT)

    def _run_top_line(self, scope: Scope, index: int) -> None:
        """One top-level line of ``scope``, run as at import time: outside any model's run."""
        top = scope.top
        top.done[index] = True
        top.running.append(index)
        saved = (self.scope, self.built, self.rows, self.calls, self.uncertain, self.home_site)
        self.scope, self.built, self.rows, self.calls = scope, None, None, None
        self.uncertain, self.home_site = 0, None
        try:
            self._exec_simple_line(top.lines[index], Frame(env=scope.constants))
        except (Return, RecursionError):
            pass
        finally:
            top.running.pop()
            (self.scope, self.built, self.rows, self.calls, self.uncertain,
             self.home_site) = saved

    def _base(self, expr: cst.BaseExpression):
        if isinstance(expr, cst.Name) and expr.value in self.classes:
            return self.classes[expr.value]
        qualname = self.imports.resolve(expr)
        found = self._qualified(qualname) if qualname else None
        if isinstance(found, ClassRef) and isinstance(found.target, ClassInfo):
            return found.target
        return qualname or "?"

    def _qualified(self, qualname: str):
        """An imported name: a sibling module's (or a known block's) definition, if found."""
        found = self.resolver.lookup(qualname)
        if found is None:
            return Qualified(qualname)
        scope, value = found
        if isinstance(value, ClassInfo):
            return ClassRef(value)
        if isinstance(value, cst.FunctionDef):
            self._scope_of[id(value)] = scope
            return FunctionRef(value)
        return value

    def module_classes(self) -> list[ClassInfo]:
        """The linted file's own nn.Module classes (never a sibling's)."""
        return [info for info in self.home.classes.values() if info.is_module]

    def _lookup(self, name: str, frame: Frame):
        env = frame.env
        if name in env and env is not self.scope.constants:  # a top-level line reads globals
            return env[name]
        value = self._read_global(self.scope, name)
        if value is not ABSENT:
            return value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name in self.classes:
            return ClassRef(self.classes[name])
        function = self.scope.function(name)
        if function is not None:
            self._scope_of[id(function)] = self.scope
            return FunctionRef(function)
        qualname = self.imports.names.get(name)
        if qualname is not None:
            return self._qualified(qualname)
        if name in BUILTINS:
            return Builtin(name)
        return UNKNOWN

    def _class_attr(self, info: ClassInfo, attr: str):
        method = info.method(attr)
        if method is not None and decorated(method, "staticmethod"):
            return FunctionRef(method)  # Block.depthwise_conv(...)
        for klass in info.mro():
            for assign in reversed(klass.body_assigns):
                targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) \
                    else [assign.target]
                if any(isinstance(t, cst.Name) and t.value == attr for t in targets):
                    previous, self.scope = self.scope, klass.scope or self.scope
                    try:
                        return self.eval(assign.value, Frame(env={}))
                    finally:
                        self.scope = previous
        return UNKNOWN
