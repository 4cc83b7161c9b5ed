"""The abstract interpreter: __init__ builds module trees, forward() moves shapes through them.

One evaluator serves both methods. Values are plain Python values, UNKNOWN, or the classes in
``values``; anything the interpreter does not understand evaluates to UNKNOWN (or a tensor of
unknown shape), and nothing unknown ever produces a report.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Optional

import libcst as cst

from conv_lint import layers
from conv_lint.algebra import sizes, symbols
from conv_lint.codes import message
from conv_lint.interpreter.forward import (
    TENSOR_FACTORIES, Parameter, Row, ShapeFlow, TensorMethod, factory_tensor, index_shape,
    raised_at_construction, unknown_result,
)
from conv_lint.interpreter.havoc import havoc, is_self, jumps
from conv_lint.interpreter.joins import join, join_all, join_dicts, replace
from conv_lint.interpreter.pyvalues import (
    BUILTINS, MATH, MAX_UNROLL, arith, as_sequence, call_builtin, call_math, compare, hashable,
    bounded_text, is_int, literal_number, safe_template, unary,
)
from conv_lint.interpreter.scopes import Resolver, Scope
from conv_lint.interpreter.toplevel import ABSENT, TopLevel
from conv_lint.interpreter.values import (
    UNKNOWN, ClassRef, Container, FunctionRef, LazyInput, Layer, ListValue, Module, Tensor,
    UserModule, named_modules, plain,
)
from conv_lint.records import record
from conv_lint.source import skim
from conv_lint.source.imports import ImportMap
from conv_lint.source.jaxtyped import annotated_shape
from conv_lint.source.project import Project

# torch functions that keep their first argument's shape (elementwise maths, *_like factories).
_TORCH_SAME_SHAPE = {
    f"torch.{name}" for name in (
        "exp", "log", "sqrt", "rsqrt", "abs", "neg", "sin", "cos", "clamp", "clip", "sign",
        "zeros_like", "ones_like", "randn_like", "rand_like", "empty_like", "full_like",
        "dropout", "erf", "square", "pow", "log1p", "expm1", "reciprocal",
    )
}
_TORCH_BINARY = {"torch.add": "Add", "torch.sub": "Subtract", "torch.mul": "Multiply",
                 "torch.div": "Divide", "torch.maximum": "Combine", "torch.minimum": "Combine"}

# Bounds that keep pathological input cheap: beyond them the analysis gives up (silently).
MAX_STEPS = 200_000
MAX_DEPTH = 24

CONTAINER_BASES = {"torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"}
MODULE_BASES = CONTAINER_BASES | {
    "torch.nn.Module", "pytorch_lightning.LightningModule", "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
}


class GiveUp(Exception):
    """Raised when a bound is exceeded; the class being analysed is then skipped silently."""


@record(eq=False)
class ClassInfo:
    """A class of the linted file or of a module it reads: bases, methods, class body."""

    name: str
    node: cst.ClassDef
    bases: list  # ClassInfo or qualified-name strings
    methods: dict
    body_assigns: list  # class-body `name = expr` statements, evaluated on demand
    is_module: bool = False
    scope: Optional[Scope] = None  # the module that defines it (the linted file or a sibling)

    @property
    def container(self) -> Optional[str]:
        """"Sequential" for a subclass of nn.Sequential (likewise ModuleList, ModuleDict)."""
        for info in self.mro():
            for base in info.bases:
                if isinstance(base, str) and base in CONTAINER_BASES:
                    return base.rsplit(".", 1)[1]
        return None

    def mro(self) -> list["ClassInfo"]:
        order, todo = [], [self]
        while todo:
            info = todo.pop(0)
            if info not in order:
                order.append(info)
                todo.extend(b for b in info.bases if isinstance(b, ClassInfo))
        return order

    def method(self, name: str) -> Optional[cst.FunctionDef]:
        for info in self.mro():
            if name in info.methods:
                return info.methods[name]
        return None


@record
class Report:
    """A finding before it has a place: the node it is about, its code and text."""

    node: cst.CSTNode
    code: str
    text: str
    changes: list = field(default_factory=list)  # fixes.proposals.Change, one per layer


class _Return(Exception):
    pass


@record
class Frame:
    """One function call's locals, and the module and class it runs for."""

    env: dict
    self_module: Optional[UserModule] = None
    cls: Optional[ClassInfo] = None  # for super()
    returns: list = field(default_factory=list)
    in_forward: bool = False


class FileInterpreter(ShapeFlow):
    """Everything the interpreter knows about one source file."""

    def __init__(self, module: cst.Module, filename: str = "<stdin>", *,
                 record: bool = False) -> None:
        self.module = module
        project = Project(filename)
        self.home = Scope(module, ImportMap(module, project.package), project.package or "")
        self.scope = self.home  # the module whose code runs now: its names are the globals
        self.home_site: Optional[cst.Call] = None  # the linted file's call that led elsewhere
        self.home_visit = 0  # counts the linted file's calls: tells visits of a site apart
        # For `conv-lint stats` (None: not recorded): each layer built, as (site, visit, direct,
        # kind, bound), the site being the linted file's call that led to it (direct: the call
        # itself); and each call of the file reached, with its evaluated arguments.
        self.constructions: Optional[list] = [] if record else None
        self.reached: Optional[dict] = {} if record else None
        self._scope_of: dict[int, Scope] = {}  # id(FunctionDef) -> the module defining it
        self.resolver = Resolver(project, self._build_scope, self._read_global)
        self.reports: list[Report] = []
        self._reported: dict = {}  # (id(node), code) -> its Report
        # What fixes must know: the layers each constructor call built while a model was run,
        # and every input shape each layer received (None when unknown).
        self.built: Optional[dict] = None  # id(call node) -> [Layer]; None outside the models
        self.received: dict = {}  # id(Layer) -> [shape]
        self.rows: Optional[list[Row]] = None
        self.names: dict[int, str] = {}
        self.steps = 0
        self.depth = 0
        self.first_input: Optional[LazyInput] = None
        self.uncertain = 0  # depth of branches run without knowing their condition
        self.calls: Optional[list] = None  # flow.Call records of the forward being run
        self.failed = False  # the model being run has hit an error already
        self._collect(self.home)
        self._run_calling_lines(self.home)

    # ---- the file's definitions -------------------------------------------------------------

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
        try:
            self._collect_definitions(scope)
        finally:
            self.scope = previous

    def _collect_definitions(self, scope: Scope) -> None:
        for statement in scope.module.body:
            if isinstance(statement, cst.ClassDef):
                self.classes[statement.name.value] = self._class_info(statement)
            elif isinstance(statement, cst.FunctionDef):
                self.functions[statement.name.value] = statement
                self._scope_of[id(statement)] = scope
        self.functions.update(skim.deferred(scope.module))  # parsed when looked up
        for info in self.classes.values():
            info.scope = scope
            self._scope_of.update((id(method), scope) for method in info.methods.values())
            info.bases = [self._base(arg.value) for arg in info.node.bases if not arg.keyword]
        for info in self.classes.values():
            info.is_module = self._is_module(info, set())
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
        except (_Return, RecursionError):
            pass
        finally:
            top.running.pop()
            (self.scope, self.built, self.rows, self.calls, self.uncertain,
             self.home_site) = saved

    def _class_info(self, node: cst.ClassDef) -> ClassInfo:
        methods, assigns = {}, []
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                methods[statement.name.value] = statement
            elif isinstance(statement, cst.SimpleStatementLine):
                assigns.extend(small for small in statement.body
                               if isinstance(small, (cst.Assign, cst.AnnAssign)))
        return ClassInfo(node.name.value, node, [], methods, assigns)

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
            return _Qualified(qualname)
        scope, value = found
        if isinstance(value, ClassInfo):
            return ClassRef(value)
        if isinstance(value, cst.FunctionDef):
            self._scope_of[id(value)] = scope
            return FunctionRef(value)
        return value

    def _is_module(self, info: ClassInfo, seen: set) -> bool:
        if info.name in seen:
            return False
        seen.add(info.name)
        for base in info.bases:
            if isinstance(base, ClassInfo):
                if self._is_module(base, seen):
                    return True
            elif base in MODULE_BASES:
                return True
        return False

    def module_classes(self) -> list[ClassInfo]:
        """The linted file's own nn.Module classes (never a sibling's)."""
        return [info for info in self.home.classes.values() if info.is_module]

    # ---- reports ----------------------------------------------------------------------------

    def report(self, node: cst.CSTNode, code: str, **fields: Any) -> Optional[Report]:
        """Report an error (CNV1xx); the Report made, or None when it is not reported."""
        if self.uncertain:
            return None  # a branch we cannot tell is taken: its guard may be what makes it valid
        if self.failed:
            return None  # torch stops at the first error of a model; so do we, per model
        if self.scope is not self.home:  # raised in a sibling's code: where this file led there
            node = self.home_site
            if node is None:
                return None
        key = (id(node), code)
        if key in self._reported:
            return None
        text = message(code, **fields)
        self._reported[key] = report = Report(node, code, text[len(code) + 1:])
        self.reports.append(report)
        self.failed = True
        return report

    def warn(self, node: cst.CSTNode, code: str, **fields: Any) -> Report:
        """A design warning (CNV2xx): unlike errors, every one is kept. One Report per node and
        code (a loop may build several layers with one call): the first one's."""
        key = (id(node), code)
        if key not in self._reported:
            text = message(code, **fields)
            self._reported[key] = Report(node, code, text[len(code) + 1:])
            self.reports.append(self._reported[key])
        return self._reported[key]

    def _report_problems(self, problems, node, layer_name: str, source: str,
                         change=None) -> None:
        """Report ``problems``; ``change(problem)`` proposes the fix of one (or None)."""
        for problem in problems:
            fields = dict(problem.fields)
            fields.setdefault("layer", layer_name)
            fields.setdefault("source", f" (from {source})" if source else "")
            try:
                report = self.report(node, problem.code, **fields)
            except (KeyError, IndexError, ValueError):
                continue  # a template field the problem did not provide: better silent than wrong
            proposal = change(problem) if report is not None and change is not None else None
            if proposal is not None:
                report.changes.append(proposal)

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise GiveUp("step budget exceeded")

    # ---- running a model ----------------------------------------------------------------------

    def instantiate(self, info: ClassInfo, args: list, kwargs: dict, node=None) -> UserModule:
        module = UserModule(node=node, cls=info)
        init = info.method("__init__")
        if init is not None:
            self._call_function(init, [module] + list(args), kwargs, self_module=module,
                                cls=self._owner(info, "__init__"))
        return module

    def _owner(self, info: ClassInfo, method: str) -> Optional[ClassInfo]:
        for klass in info.mro():
            if method in klass.methods:
                return klass
        return None

    def run_root(self, info: ClassInfo, input_shape: Optional[tuple], forced: bool,
                 tables: bool) -> tuple[Optional[UserModule], Optional[Tensor]]:
        """Build ``info`` with its defaults; run forward on the configured or a symbolic input."""
        self.names, self.rows, self.calls = {}, None, None  # __init__ may probe sizes: not rows
        self.failed = False
        if self.built is None:
            self.built = {}
        module = self.instantiate(info, [], {}, node=info.node)
        self.names = named_modules(module)
        self.rows = [] if tables else None
        self.calls = []
        forward = info.method("forward")
        if forward is None:
            return module, None
        params = _positional_params(forward)[1:]
        if not forced and len(params) > 1 and params[1].default is None:
            input_shape = None  # a shape set for every model does not say which input it is
        # The input's shape: a directive's (forced), else a jaxtyping annotation's (the author's
        # statement about this class wins over a global option), else the option's if its rank
        # fits the first layer, else symbols.
        annotated = [annotated_shape(param, self.imports) for param in params]
        if forced and input_shape is not None:
            first = Tensor((sizes.BATCH,) + tuple(input_shape), origin="input")
        else:
            first = Tensor(lazy=_given(annotated[0]) if annotated and annotated[0]
                           else LazyInput(input_shape), origin="input")
        self.first_input = first.lazy
        inputs = [first]
        for index, param in enumerate(params[1:], start=1):
            if param.default is not None:
                break  # run as model(x): optional arguments keep their defaults
            lazy = _given(annotated[index]) if annotated[index] else LazyInput(suffix=str(index))
            inputs.append(Tensor(lazy=lazy, origin="input"))
        output = self._call_function(forward, [module] + inputs[:len(params)], {},
                                     self_module=module, cls=self._owner(info, "forward"),
                                     in_forward=True)
        return module, output if isinstance(output, Tensor) else None

    def run_builder(self, fn: cst.FunctionDef, info: Optional[ClassInfo] = None,
                    instance: Optional[UserModule] = None) -> None:
        """Run building code on its own (`conv-lint stats`): a module-level function, or a method
        of ``instance``. Every parameter, defaults too, becomes a symbol, so that a test on one
        (`if version == "1_0"`) is followed both ways."""
        self.failed = False
        positional = _positional_params(fn)[1 if instance is not None else 0:]
        args = ([instance] if instance is not None else []) + [UNKNOWN] * len(positional)
        kwargs = {param.name.value: UNKNOWN for param in fn.params.kwonly_params}
        self._call_function(fn, args, kwargs, self_module=instance, cls=info)

    # ---- functions ---------------------------------------------------------------------------

    def _call_function(self, fn: cst.FunctionDef, args: list, kwargs: dict, *,
                       self_module=None, cls=None, in_forward=False):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return UNKNOWN
            previous, self.scope = self.scope, self._scope_of.get(id(fn), self.scope)
            try:
                env = self._bind_params(fn, args, kwargs)  # defaults: in the defining module
                if env is None:
                    return UNKNOWN
                if not in_forward:
                    _symbolize(fn, env)
                frame = Frame(env=env, self_module=self_module, cls=cls, in_forward=in_forward)
                try:
                    self._exec_block(fn.body.body, frame)
                    frame.returns.append(None)  # falling off the end returns None
                except _Return:
                    pass
                return join_all(frame.returns)
            finally:
                self.scope = previous
        finally:
            self.depth -= 1

    def _bind_params(self, fn: cst.FunctionDef, args: list, kwargs: dict) -> Optional[dict]:
        env: dict = {}
        p = fn.params
        positional = list(p.posonly_params) + list(p.params)
        for index, param in enumerate(positional):
            name = param.name.value
            env[name] = args[index] if index < len(args) else self._argument(param, kwargs)
        extra = args[len(positional):]
        if isinstance(p.star_arg, cst.Param):
            env[p.star_arg.name.value] = tuple(extra)
        elif extra:
            return None
        for param in p.kwonly_params:
            env[param.name.value] = self._argument(param, kwargs)
        if p.star_kwarg is not None:  # `**kwargs` passed on to a layer keeps its values
            env[p.star_kwarg.name.value] = dict(kwargs)
        elif kwargs:
            return None
        return env

    def _argument(self, param: cst.Param, kwargs: dict):
        """A parameter's value from the call's keywords (taken out of them), else its default."""
        name = param.name.value
        if name in kwargs:
            return kwargs.pop(name)
        if param.default is not None:
            return self.eval(param.default, Frame(env={}))
        return UNKNOWN

    # ---- statements --------------------------------------------------------------------------

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
                raise _Return()
            elif isinstance(small, cst.Raise):
                raise _Return()  # a path that raises returns nothing we need to join
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
        test = _truth(self.eval(node.test, frame))
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
        outcomes = []
        self.uncertain += 1
        try:
            for branch in (first, second):
                sub = Frame(dict(frame.env), module, frame.cls, frame.returns, frame.in_forward)
                try:
                    self._exec_block(branch, sub)
                    outcomes.append((sub.env, dict(module.attrs) if module else {}))
                except _Return:
                    pass  # this branch returned (or raised): nothing of it flows on
                if module:
                    replace(module.attrs, start)
        finally:
            self.uncertain -= 1
        if not outcomes:
            raise _Return()
        replace(frame.env, join_dicts([env for env, _ in outcomes]))
        if module:
            replace(module.attrs, join_dicts([attrs for _, attrs in outcomes]))

    def _exec_for(self, node: cst.For, frame: Frame) -> None:
        items = as_sequence(_iterable(self.eval(node.iter, frame)))
        if items is None or len(items) > MAX_UNROLL or node.orelse is not None \
                or jumps(node.body):
            if not jumps(node.body):
                self._probe(node.target, frame, lambda sub: self._exec_block(node.body.body, sub))
            havoc(node, frame)
            return
        for item in items:
            self._assign(node.target, item, frame)
            self._exec_block(node.body.body, frame)

    # ---- expressions -------------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, frame: Frame):
        self._tick()
        kind = type(node)  # the commonest first, by exact type: isinstance on libcst's ABCs is slow
        if kind is cst.Name:
            return self._lookup(node.value, frame)
        if kind is cst.Call:
            return self._call(node, frame)
        if kind is cst.Attribute:
            return self._attribute(node, frame)
        if isinstance(node, cst.Integer):
            return literal_number(node, int)
        if isinstance(node, cst.Float):
            return literal_number(node, float)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                value = node.evaluated_value
            except (ValueError, SyntaxError):  # a bad escape
                return UNKNOWN
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(node, cst.Name):
            return self._lookup(node.value, frame)
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, frame)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, frame)
        if isinstance(node, (cst.Tuple, cst.List)):
            items = self._elements(node.elements, frame)
            if items is None:
                return UNKNOWN
            return tuple(items) if isinstance(node, cst.Tuple) else ListValue(items)
        if isinstance(node, cst.Dict):
            return self._dict(node, frame)
        if isinstance(node, cst.UnaryOperation):
            return unary(type(node.operator).__name__, self.eval(node.expression, frame))
        if isinstance(node, cst.BinaryOperation):
            left = self.eval(node.left, frame)
            right = self.eval(node.right, frame)
            return self._binary(type(node.operator).__name__, left, right, node, frame)
        if isinstance(node, cst.BooleanOperation):
            return self._boolean(node, frame)
        if isinstance(node, cst.Comparison):
            return self._comparison(node, frame)
        if isinstance(node, cst.IfExp):
            test = _truth(self.eval(node.test, frame))
            if test is True:
                return self.eval(node.body, frame)
            if test is False:
                return self.eval(node.orelse, frame)
            self.uncertain += 1
            try:
                return join(self.eval(node.body, frame), self.eval(node.orelse, frame))
            finally:
                self.uncertain -= 1
        if isinstance(node, cst.Subscript):
            return self._subscript(node, frame)
        if isinstance(node, cst.Call):
            return self._call(node, frame)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, frame)
        return UNKNOWN

    def _fstring(self, node: cst.FormattedString, frame: Frame):
        """f"layer{i + 1}": module names built in loops."""
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if part.format_spec or part.conversion or not isinstance(value, (int, float, str)):
                return UNKNOWN
            text.append(str(value))
        return bounded_text("".join(text))

    def _elements(self, elements, frame: Frame) -> Optional[list]:
        items = []
        for element in elements:
            value = self.eval(element.value, frame)
            if isinstance(element, cst.StarredElement):
                seq = as_sequence(_iterable(value))
                if seq is None:
                    return None
                items.extend(seq)
            else:
                items.append(value)
        return items

    def _dict(self, node: cst.Dict, frame: Frame):
        result = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return UNKNOWN
            key = self.eval(element.key, frame)
            if key is UNKNOWN or not hashable(key):
                return UNKNOWN
            result[key] = self.eval(element.value, frame)
        return result

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
            return _Builtin(name)
        return UNKNOWN

    def _attribute(self, node: cst.Attribute, frame: Frame):
        attr = node.attr.value
        base = self.eval(node.value, frame)
        if isinstance(base, _Qualified):
            return self._qualified(base.name + "." + attr)
        if isinstance(base, UserModule):
            return self._module_attr(base, attr)
        if isinstance(base, Tensor):
            shape = base.shape
            if attr == "shape" and shape is not None:
                return tuple(shape)
            if attr == "ndim" and shape is not None:
                return len(shape)
            return TensorMethod(base, attr)
        if isinstance(base, str) and attr == "format":
            return _StrFormat(base)
        if isinstance(base, ListValue) and attr not in _READING_LIST_METHODS:
            return _ListMethod(base, attr)
        if isinstance(base, dict):
            return _DictMethod(base, attr)
        if isinstance(base, Container):
            return _ContainerMethod(base, attr)
        if isinstance(base, Layer):
            if attr in ("weight", "bias", "running_mean", "running_var"):
                shape = base.kind.parameter_shape(base.bound, attr) if base.bound else None
                return Tensor(shape) if shape is not None else Tensor()  # fuse(): w.size(1)
            value = base.bound.get(attr, UNKNOWN) if base.bound else UNKNOWN
            return value if not isinstance(value, ListValue) else UNKNOWN
        if isinstance(base, ClassRef) and isinstance(base.target, ClassInfo):
            return self._class_attr(base.target, attr)
        return UNKNOWN

    def _module_attr(self, module: UserModule, attr: str):
        if attr in module.attrs:
            return module.attrs[attr]
        if attr == "_modules":  # c, bn = self._modules.values(): the children, in order
            return dict(module.children())
        if attr in ("add_module", "register_module") or (
                module.cls is not None and module.cls.container and not module.cls.method(attr)
                and attr in ("append", "extend", "insert", "update")):
            return _ContainerMethod(module, attr)
        if module.cls is None:
            return UNKNOWN
        method = module.cls.method(attr)
        if method is not None:
            if _decorated(method, "staticmethod"):
                return FunctionRef(method)
            if _decorated(method, "classmethod"):
                return UNKNOWN  # bound to the class, not to the module: not followed
            return FunctionRef(method, bound_self=module)
        return self._class_attr(module.cls, attr)

    def _class_attr(self, info: ClassInfo, attr: str):
        method = info.method(attr)
        if method is not None and _decorated(method, "staticmethod"):
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

    def _subscript_key(self, node: cst.Subscript, frame: Frame):
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        return self.eval(node.slice[0].slice.value, frame)

    def _subscript(self, node: cst.Subscript, frame: Frame):
        base = self.eval(node.value, frame)
        if isinstance(base, Tensor):
            items = [self._index_item(element.slice, frame) for element in node.slice]
            return Tensor(index_shape(base.shape, items), origin=base.origin)
        if len(node.slice) != 1:
            return UNKNOWN
        part = node.slice[0].slice
        seq = base.items if isinstance(base, ListValue) else base
        if isinstance(base, Container):
            seq = [item for _, item in base.items]
        if isinstance(part, cst.Slice):
            bounds = [None if b is None else self.eval(b, frame) for b in (part.lower, part.upper)]
            step = None if part.step is None else self.eval(part.step, frame)
            if not isinstance(seq, (tuple, list)) or any(
                b is not None and not is_int(b) for b in bounds + [step]
            ):
                return UNKNOWN
            sliced = seq[bounds[0]:bounds[1]:step]
            return ListValue(list(sliced)) if isinstance(base, ListValue) else tuple(sliced)
        key = self.eval(part.value, frame)
        if isinstance(seq, (tuple, list)) and is_int(key) and -len(seq) <= key < len(seq):
            return seq[key]
        if isinstance(base, dict) and key is not UNKNOWN and hashable(key):
            return base.get(key, UNKNOWN)
        if isinstance(base, symbols.Poly) and (is_int(key) or isinstance(key, str)):
            return symbols.item(base, key)  # stage_out_channels[0] of a parameter list
        return UNKNOWN

    def _index_item(self, part, frame: Frame):
        """One item of ``x[...]``: a slice as a Python slice, else the evaluated value."""
        if isinstance(part, cst.Slice):
            bounds = [None if b is None else self.eval(b, frame)
                      for b in (part.lower, part.upper, part.step)]
            return slice(*bounds) if all(b is None or is_int(b) for b in bounds) else UNKNOWN
        if isinstance(part.value, cst.Ellipsis):
            return Ellipsis
        return self.eval(part.value, frame)

    def _boolean(self, node: cst.BooleanOperation, frame: Frame):
        left = self.eval(node.left, frame)
        truth = _truth(left)
        is_and = isinstance(node.operator, cst.And)
        if truth is None:
            self.eval(node.right, frame)
            return UNKNOWN
        if truth is (not is_and):
            return left
        return self.eval(node.right, frame)

    def _comparison(self, node: cst.Comparison, frame: Frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            outcome = compare(type(target.operator).__name__, left, right)
            if outcome is UNKNOWN:
                return UNKNOWN
            result = result and outcome
            left = right
        return result

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
        except _Return:
            pass
        finally:
            self.uncertain -= 1

    def _comprehension(self, node, frame: Frame):
        results = []
        if not self._comprehend(node.for_in, node.elt, frame, dict(frame.env), results):
            return UNKNOWN
        return ListValue(results) if isinstance(node, cst.ListComp) else tuple(results)

    def _comprehend(self, comp: cst.CompFor, elt, frame: Frame, env: dict, results: list) -> bool:
        items = as_sequence(_iterable(self.eval(comp.iter, Frame(env=env, **_ctx(frame)))))
        if items is None or len(items) > MAX_UNROLL:
            self._probe(comp.target, Frame(env=env, **_ctx(frame)), lambda sub: (
                self.eval(elt, sub) if comp.inner_for_in is None
                else self._comprehend(comp.inner_for_in, elt, sub, sub.env, [])))
            return False
        for item in items:
            sub = Frame(env=dict(env), **_ctx(frame))
            self._assign(comp.target, item, sub)
            keep = True
            for condition in comp.ifs:
                truth = _truth(self.eval(condition.test, sub))
                if truth is None:
                    return False
                keep = keep and truth
            if not keep:
                continue
            if comp.inner_for_in is not None:
                if not self._comprehend(comp.inner_for_in, elt, frame, sub.env, results):
                    return False
            else:
                results.append(self.eval(elt, sub))
        return True

    # ---- operators ---------------------------------------------------------------------------

    def _binary(self, op: str, left, right, node, frame: Frame):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self._tensor_binary(op, left, right, node)
        return arith(op, left, right)

    # ---- calls -------------------------------------------------------------------------------

    def _call(self, node: cst.Call, frame: Frame):
        if self.scope is self.home and self.home_site is not node:
            outer, self.home_site = self.home_site, node  # errors in siblings point here
            self.home_visit += 1
            try:
                return self._call(node, frame)
            finally:
                self.home_site = outer
        func = node.func
        # super().__init__(...) and Base.__init__(self, ...): run the base class's __init__.
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
            return self._super_init(node, frame)
        callee = self.eval(func, frame)
        args, kwargs, complete = self._arguments(node, frame)
        if self.reached is not None and self.scope is self.home:
            self.reached.setdefault(node, []).append((args, kwargs, complete))
        if isinstance(callee, _Qualified):
            return self._call_qualified(callee.name, args, kwargs, complete, node, frame)
        if isinstance(callee, Module):
            return self._apply_module(callee, args, kwargs, node, frame)
        if isinstance(callee, TensorMethod):
            return self._tensor_method(callee, args, kwargs, complete, node)
        if isinstance(callee, _DictMethod):
            result = callee.call(args, kwargs, complete)
            if result is _FORGET:  # changed in a way not followed: its names forget it
                self._forget(func.value, frame)
                return UNKNOWN
            return result
        if isinstance(callee, (_ListMethod, _ContainerMethod, _StrFormat)):
            return callee.call(args, complete)
        if not complete:
            return UNKNOWN
        if isinstance(callee, ClassRef):
            target = callee.target
            if isinstance(target, ClassInfo) and target.is_module:
                return self.instantiate(target, args, kwargs, node=node)
            if isinstance(target, layers.LayerType):
                return self._construct(target, args, kwargs, node)
            return UNKNOWN
        if isinstance(callee, FunctionRef):
            prefix = [callee.bound_self] if callee.bound_self is not None else []
            owner = callee.bound_self.cls if isinstance(callee.bound_self, UserModule) else None
            given = dict(kwargs)  # binding takes the keywords out of kwargs
            result = self._call_function(callee.node, prefix + args, kwargs,
                                         self_module=callee.bound_self, cls=owner,
                                         in_forward=frame.in_forward)
            if result is UNKNOWN and not prefix and not frame.in_forward:
                return _pure_call(callee.node, args, given)
            return result
        if isinstance(callee, _Builtin):
            return call_builtin(callee.name, args, kwargs)
        return unknown_result(args)

    def _arguments(self, node: cst.Call, frame: Frame):
        args, kwargs, complete = [], {}, True
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                seq = as_sequence(_iterable(value))
                if seq is None:
                    complete = False
                else:
                    args.extend(seq)
            elif arg.star == "**":
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    kwargs.update(value)
                else:
                    complete = False
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        return args, kwargs, complete

    def _super_init(self, node: cst.Call, frame: Frame):
        func = node.func
        if frame.self_module is None or frame.cls is None:
            return None
        args, kwargs, complete = self._arguments(node, frame)
        receiver = func.value
        base_info = None
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) \
                and receiver.func.value == "super":
            bases = frame.cls.bases
            if bases and isinstance(bases[0], str) and bases[0] in CONTAINER_BASES:
                return self._container_init(frame.self_module, bases[0], args, complete)
            base_info = bases[0] if bases and isinstance(bases[0], ClassInfo) else None
        elif isinstance(receiver, cst.Name) and receiver.value in self.classes:
            base_info = self.classes[receiver.value]
            args = args[1:]  # Base.__init__(self, ...)
        if base_info is None or not complete:
            return None
        init = base_info.method("__init__")
        if init is not None:
            self._call_function(init, [frame.self_module] + args, kwargs,
                                self_module=frame.self_module,
                                cls=self._owner(base_info, "__init__"))
        return None

    def _container_init(self, module: UserModule, base: str, args, complete: bool) -> None:
        """super().__init__(*layers) in a subclass of nn.Sequential / ModuleList / ModuleDict."""
        built = self._container(base, args, complete, None) if "Dict" not in base \
            else self._module_dict(args, complete, None)
        if not isinstance(built, Container):
            _add_child(module, "?", UNKNOWN)
            return None
        for key, item in built.items:
            _add_child(module, key, item)
        return None

    def _call_qualified(self, name: str, args, kwargs, complete, node, frame: Frame):
        if name in ("torch.nn.Sequential", "torch.nn.ModuleList"):
            return self._container(name, args, complete, node)
        if name == "torch.nn.ModuleDict":
            return self._module_dict(args, complete, node)
        if name == "collections.OrderedDict":
            if not args:
                return {}
            pairs = as_sequence(args[0]) if complete else None
            if isinstance(args[0], dict):
                return dict(args[0])
            if pairs is None or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
                return UNKNOWN
            return {k: v for k, v in pairs}
        if name in ("torch.cat", "torch.stack"):
            return self._cat(name, args, kwargs, node) if complete else Tensor()
        if name == "torch.nn.Parameter":
            return Parameter(args[0] if args else kwargs.get("data", UNKNOWN))
        if name in TENSOR_FACTORIES:
            return factory_tensor(args, kwargs)
        if name in MATH:
            return call_math(name, args, kwargs)
        if name in _TORCH_BINARY and len(args) == 2 and complete:
            return self._binary(_TORCH_BINARY[name], args[0], args[1], node, frame)
        if name in _TORCH_SAME_SHAPE and args and isinstance(args[0], Tensor):
            return args[0].derived()
        kind = layers.lookup(name)
        if kind is None:
            return unknown_result(args)
        if name in layers.LAYERS:
            return self._construct(kind, args, kwargs, node) if complete else UNKNOWN
        return self._apply_function(kind, args, kwargs, complete, node, name)

    def _construct(self, kind, args, kwargs, node):
        bound = kind.bind(list(map(plain, args)), {k: plain(v) for k, v in kwargs.items()})
        if bound is None:
            return UNKNOWN
        layer = Layer(node=node, kind=kind, bound=bound)
        if self.built is not None:
            self.built.setdefault(id(node), []).append(layer)
        if self.constructions is not None:
            direct = self.scope is self.home  # else built by a sibling's or a stub's code
            self.constructions.append((node if direct else self.home_site, self.home_visit,
                                       direct, kind, bound))
        problems = kind.check(bound)
        init_problems = [p for p in problems if raised_at_construction(p)]
        self._report_problems(init_problems, node, kind.name, "")
        return layer

    def _container(self, name: str, args, complete: bool, node):
        kind_name = name.rsplit(".", 1)[1]
        if not complete:
            return UNKNOWN
        if kind_name == "Sequential" and len(args) == 1 and isinstance(args[0], dict):
            items = list(args[0].items())
        elif kind_name == "ModuleList":
            seq = as_sequence(args[0]) if args else []
            if seq is None:
                return UNKNOWN
            items = [(str(i), item) for i, item in enumerate(seq)]
        else:
            items = [(str(i), item) for i, item in enumerate(args)]
        return Container(node=node, kind_name=kind_name, items=items)

    def _module_dict(self, args, complete, node):
        if not complete:
            return UNKNOWN
        source = args[0] if args else {}
        if not isinstance(source, dict):
            return UNKNOWN
        return Container(node=node, kind_name="ModuleDict", items=list(source.items()))


# ---- small value helpers ----------------------------------------------------------------------

@record(frozen=True)
class _Qualified:
    """A reference to an imported name, e.g. torch.nn.Conv2d, not yet called."""

    name: str


@record(frozen=True)
class _Builtin:
    """A Python builtin (``len``, ``range``...) used as a value."""

    name: str


@record(eq=False)
class _ContainerMethod:
    """A method that adds submodules (Sequential.append, add_module...): mutations we follow."""

    target: Any  # Container, or UserModule (add_module, or a Sequential/ModuleList subclass)
    name: str

    def call(self, args, complete):
        name = self.name
        if name in ("add_module", "register_module") and complete and len(args) == 2 \
                and isinstance(args[0], str):
            _add_child(self.target, args[0], args[1])
        elif name == "append" and complete and len(args) == 1:
            _add_child(self.target, None, args[0])
        elif name == "extend" and complete and len(args) == 1 \
                and as_sequence(_iterable(args[0])) is not None:
            for item in as_sequence(_iterable(args[0])):
                _add_child(self.target, None, item)
        elif name in ("add_module", "register_module", "append", "extend", "insert", "pop",
                      "__setitem__", "__delitem__", "update", "clear"):
            _add_child(self.target, "?", UNKNOWN)  # changed in a way we do not follow
        return None


@record(frozen=True)
class _StrFormat:
    """``"...".format`` of a known string, waiting for its arguments."""

    template: str

    def call(self, args, complete):
        if not complete or not all(isinstance(a, (int, float, str)) for a in args) \
                or not safe_template(self.template):
            return UNKNOWN
        try:
            return bounded_text(self.template.format(*args))
        except (IndexError, KeyError, ValueError):
            return UNKNOWN


def _add_child(target, key, value) -> None:
    """Register ``value`` under ``key`` (None: the next index, as ModuleList.append does)."""
    if isinstance(target, Container):
        target.items.append((str(len(target.items)) if key is None else key, value))
    else:
        index = sum(1 for v in target.attrs.values() if isinstance(v, Module))
        target.attrs[str(index) if key is None else key] = value


def _iterable(value):
    """What iterating over ``value`` gives: a container's modules, a dict's keys."""
    if isinstance(value, Container):
        return [item for _, item in value.items]
    if isinstance(value, dict):
        return list(value)
    return value


# Methods that leave a list as it is; any other (pop, sort, remove...) may change it.
_READING_LIST_METHODS = frozenset({"index", "count", "copy"})


@record(eq=False)
class _ListMethod:
    """A list method: append and extend followed; any other change forgets the items. What a
    method other than those returns is unknown."""

    target: ListValue
    name: str

    def call(self, args, complete):
        if self.target.items is None:
            return UNKNOWN
        if complete and self.name == "append" and len(args) == 1:
            self.target.items.append(args[0])
            return None
        if complete and self.name == "extend" and len(args) == 1 \
                and as_sequence(args[0]) is not None:
            self.target.items.extend(as_sequence(args[0]))
            return None
        self.target.items = None
        return UNKNOWN


_FORGET = object()  # a dict method's answer when the dict changed in a way not followed
_DICT_READS = frozenset({"get", "keys", "values", "items", "copy"})


@record(eq=False)
class _DictMethod:
    """A method of a dict the interpreter holds: reads and changes followed where the keys are
    known (``d.keys()`` and the other views give a tuple); any other change gives _FORGET."""

    target: dict
    name: str

    def call(self, args, kwargs, complete):
        target, name = self.target, self.name
        unfollowed = UNKNOWN if name in _DICT_READS else _FORGET
        if not complete:
            return unfollowed
        if not args and not kwargs:
            if name in ("keys", "values", "items"):
                return tuple(getattr(target, name)())
            if name == "copy":
                return dict(target)
            if name == "clear":
                target.clear()
                return None
        if name == "update" and len(args) <= 1 and all(isinstance(a, dict) for a in args):
            target.update(*args, **kwargs)
            return None
        if kwargs or len(args) not in (1, 2) or args[0] is UNKNOWN or not hashable(args[0]):
            return unfollowed
        key, default = args[0], (args[1] if len(args) == 2 else None)
        if name == "get":
            return target.get(key, default)
        if name == "setdefault":
            return target.setdefault(key, default)
        if name == "pop" and (key in target or len(args) == 2):
            return target.pop(key, default)
        return unfollowed


def _ctx(frame: Frame) -> dict:
    return {"self_module": frame.self_module, "cls": frame.cls, "in_forward": frame.in_forward}


def _pure_call(fn: cst.FunctionDef, args: list, kwargs: dict):
    """``make_divisible(in_chs * 0.25, 8)``: a plain function of numbers that cannot be followed
    exactly on symbols gives the same count whenever it gets the same arguments, so its result
    is a symbol of its own (equal only to the same call). Unknown unless some argument is
    symbolic and all are numbers."""
    values = list(args) + [kwargs[k] for k in sorted(kwargs)]
    made = symbols.SYMBOLIC
    if not all(isinstance(v, (int, float, str, type(None)) + made) for v in values) or not any(
            isinstance(v, made) for v in values):
        return UNKNOWN
    shown = ", ".join([str(v) for v in args] + [f"{k}={kwargs[k]}" for k in sorted(kwargs)])
    return symbols.call(fn.name.value, id(fn), tuple(values), tuple(sorted(kwargs)), shown)


def _decorated(fn: cst.FunctionDef, name: str) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == name
               for d in fn.decorators)


def _symbolize(fn: cst.FunctionDef, env: dict) -> None:
    """Building code: a parameter bound to nothing known becomes a symbol of its own, so channel
    arithmetic on it stays exact (`planes * 4`). Tensors in forward code never become symbols."""
    p = fn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        name = param.name.value
        if env.get(name) is UNKNOWN:
            env[name] = symbols.parameter(name)


def _given(shape: tuple) -> LazyInput:
    """An input whose full shape is known from the start (a jaxtyping annotation)."""
    lazy = LazyInput()
    lazy.shape, lazy.settled = shape, True
    return lazy


def _positional_params(fn: cst.FunctionDef) -> list:
    return list(fn.params.posonly_params) + list(fn.params.params)


def _truth(value) -> Optional[bool]:
    """bool(value) where the interpreter knows it, else None."""
    if isinstance(value, (Module, ClassRef, FunctionRef)):
        return True
    if isinstance(value, ListValue):
        return None if value.items is None else bool(value.items)
    if isinstance(value, (int, float, str, tuple, dict, type(None))):
        return bool(value)  # a tuple's truth is its length, whatever it holds
    return None  # UNKNOWN, tensors, references
