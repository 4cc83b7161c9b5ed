"""The abstract interpreter: __init__ builds module trees, forward() moves shapes through them.

One evaluator serves both methods. Values are plain Python values, UNKNOWN, or the classes in
``values``; anything the interpreter does not understand evaluates to UNKNOWN (or a tensor of
unknown shape), and nothing unknown ever produces a report.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import libcst as cst

from conv_lint import layers, sizes
from conv_lint.codes import message
from conv_lint.imports import ImportMap
from conv_lint.values import (
    UNKNOWN, ClassRef, Container, FunctionRef, LazyInput, Layer, ListValue, Module, Tensor,
    UserModule, named_modules,
)

# Bounds that keep pathological input cheap: beyond them the analysis gives up (silently).
MAX_STEPS = 200_000
MAX_DEPTH = 24
MAX_UNROLL = 256

MODULE_BASES = {
    "torch.nn.Module", "pytorch_lightning.LightningModule", "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
}
SPATIAL_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
# Layers whose rank tells the rank of an input that has none configured (not BatchNorm1d: 2D or 3D).
_RANKED = re.compile(r"^(Conv|ConvTranspose|MaxPool|AvgPool|Adaptive\w+Pool|LPPool|BatchNorm[23]|"
                     r"InstanceNorm[23]|max_pool|avg_pool|adaptive_\w+pool|lp_pool)\D*(\d)d$")
_SHAPE_PRESERVING_METHODS = {
    "contiguous", "clone", "detach", "float", "double", "half", "bfloat16", "to", "cuda", "cpu",
    "type_as", "requires_grad_", "abs", "exp", "log", "neg", "sqrt", "clamp", "clamp_", "relu_",
    "sigmoid_", "tanh_", "mul_", "add_", "div_", "sub_", "masked_fill", "pow",
}


class GiveUp(Exception):
    """Raised when a bound is exceeded; the class being analysed is then skipped silently."""


@dataclass
class ClassInfo:
    name: str
    node: cst.ClassDef
    bases: list  # ClassInfo or qualified-name strings
    methods: dict
    body_assigns: list  # class-body `name = expr` statements, evaluated on demand
    is_module: bool = False

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


@dataclass
class Report:
    node: cst.CSTNode
    code: str
    text: str


@dataclass
class Row:
    module: Module
    node: Optional[cst.CSTNode]
    name: str
    type: str
    output: Optional[tuple] = None
    params: Optional[int] = None


class _Return(Exception):
    pass


@dataclass
class Frame:
    env: dict
    self_module: Optional[UserModule] = None
    cls: Optional[ClassInfo] = None  # for super()
    returns: list = field(default_factory=list)
    in_forward: bool = False


class FileInterpreter:
    """Everything the interpreter knows about one source file."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.imports = ImportMap(module)
        self.classes: dict[str, ClassInfo] = {}
        self.functions: dict[str, cst.FunctionDef] = {}
        self.constants: dict[str, Any] = {}
        self.reports: list[Report] = []
        self._reported: set = set()
        self.rows: Optional[list[Row]] = None
        self.names: dict[int, str] = {}
        self.steps = 0
        self.depth = 0
        self.first_input: Optional[LazyInput] = None
        self._collect()

    # ---- the file's definitions -------------------------------------------------------------

    def _collect(self) -> None:
        for statement in self.module.body:
            if isinstance(statement, cst.ClassDef):
                self.classes[statement.name.value] = self._class_info(statement)
            elif isinstance(statement, cst.FunctionDef):
                self.functions[statement.name.value] = statement
        for info in self.classes.values():
            info.bases = [self._base(arg.value) for arg in info.node.bases if not arg.keyword]
        for info in self.classes.values():
            info.is_module = self._is_module(info, set())
        frame = Frame(env=self.constants)
        for statement in self.module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                try:
                    self._exec_simple_line(statement, frame)
                except (GiveUp, _Return, RecursionError):
                    pass

    def _class_info(self, node: cst.ClassDef) -> ClassInfo:
        methods, assigns = {}, []
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef):
                methods[statement.name.value] = statement
            elif isinstance(statement, cst.SimpleStatementLine):
                assigns.extend(s for s in statement.body if isinstance(s, (cst.Assign, cst.AnnAssign)))
        return ClassInfo(node.name.value, node, [], methods, assigns)

    def _base(self, expr: cst.BaseExpression):
        if isinstance(expr, cst.Name) and expr.value in self.classes:
            return self.classes[expr.value]
        return self.imports.resolve(expr) or "?"

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
        return [info for info in self.classes.values() if info.is_module]

    # ---- reports ----------------------------------------------------------------------------

    def report(self, node: cst.CSTNode, code: str, **fields: Any) -> None:
        key = (id(node), code)
        if key in self._reported:
            return
        self._reported.add(key)
        text = message(code, **fields)
        self.reports.append(Report(node, code, text[len(code) + 1:]))

    def _report_problems(self, problems, node, layer_name: str, source: str) -> None:
        for problem in problems:
            fields = dict(problem.fields)
            fields.setdefault("layer", layer_name)
            fields.setdefault("source", f" (from {source})" if source else "")
            try:
                self.report(node, problem.code, **fields)
            except (KeyError, IndexError, ValueError):
                pass  # a template field the problem did not provide: better silent than wrong

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
        """Build ``info`` with its defaults and run forward on the configured or a symbolic input."""
        module = self.instantiate(info, [], {}, node=info.node)
        self.names = named_modules(module)
        self.rows = [] if tables else None
        forward = info.method("forward")
        if forward is None:
            return module, None
        if forced and input_shape is not None:
            first = Tensor((sizes.BATCH,) + tuple(input_shape), origin="input")
        else:
            first = Tensor(lazy=LazyInput(input_shape), origin="input")
        self.first_input = first.lazy
        inputs = [first]
        params = _positional_params(forward)[1:]
        for index, _param in enumerate(params[1:], start=1):
            inputs.append(Tensor(lazy=LazyInput(suffix=str(index)), origin="input"))
        output = self._call_function(forward, [module] + inputs[:len(params)], {},
                                     self_module=module, cls=self._owner(info, "forward"),
                                     in_forward=True)
        return module, output if isinstance(output, Tensor) else None

    # ---- functions ---------------------------------------------------------------------------

    def _call_function(self, fn: cst.FunctionDef, args: list, kwargs: dict, *,
                       self_module=None, cls=None, in_forward=False):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return UNKNOWN
            env = self._bind_params(fn, args, kwargs)
            if env is None:
                return UNKNOWN
            frame = Frame(env=env, self_module=self_module, cls=cls, in_forward=in_forward)
            try:
                self._exec_block(fn.body.body, frame)
                frame.returns.append(None)  # falling off the end returns None
            except _Return:
                pass
            return _join_all(frame.returns)
        finally:
            self.depth -= 1

    def _bind_params(self, fn: cst.FunctionDef, args: list, kwargs: dict) -> Optional[dict]:
        env: dict = {}
        p = fn.params
        positional = list(p.posonly_params) + list(p.params)
        for index, param in enumerate(positional):
            name = param.name.value
            if index < len(args):
                env[name] = args[index]
            elif name in kwargs:
                env[name] = kwargs.pop(name)
            elif param.default is not None:
                env[name] = self.eval(param.default, Frame(env={}))
            else:
                env[name] = UNKNOWN
        extra = args[len(positional):]
        if isinstance(p.star_arg, cst.Param):
            env[p.star_arg.name.value] = tuple(extra)
        elif extra:
            return None
        for param in p.kwonly_params:
            name = param.name.value
            if name in kwargs:
                env[name] = kwargs.pop(name)
            elif param.default is not None:
                env[name] = self.eval(param.default, Frame(env={}))
            else:
                env[name] = UNKNOWN
        if p.star_kwarg is not None:
            env[p.star_kwarg.name.value] = UNKNOWN
        elif kwargs:
            return None
        return env

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
                _havoc(statement, frame)

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
                _havoc(small, frame)

    def _assign(self, target: cst.BaseExpression, value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
        elif isinstance(target, cst.Attribute) and _is_self(target.value) and frame.self_module:
            frame.self_module.attrs[target.attr.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = _as_sequence(value)
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
            if isinstance(container, ListValue):
                container.items = None  # an item changed in a way we do not track
            elif isinstance(container, dict):
                key = self._subscript_key(target, frame)
                if key is not UNKNOWN and _hashable(key):
                    container[key] = value
        # other targets (self.x.y = ...) change nothing we track

    def _exec_if(self, node: cst.If, frame: Frame) -> None:
        test = self._truth(self.eval(node.test, frame))
        orelse = node.orelse
        branches = []
        if test is not False:
            branches.append(node.body.body)
        if test is not True:
            if isinstance(orelse, cst.If):
                branches.append([orelse])
            elif isinstance(orelse, cst.Else):
                branches.append(orelse.body.body)
            else:
                branches.append([])
        if len(branches) == 1:
            self._exec_block(branches[0], frame)
            return
        outcomes = []
        for branch in branches:
            env = dict(frame.env)
            attrs = dict(frame.self_module.attrs) if frame.self_module else None
            sub = Frame(env=env, self_module=frame.self_module, cls=frame.cls,
                        returns=frame.returns, in_forward=frame.in_forward)
            try:
                self._exec_block(branch, sub)
                outcomes.append((sub.env, dict(frame.self_module.attrs) if attrs is not None else None))
            except _Return:
                pass
            if attrs is not None:
                frame.self_module.attrs.clear()
                frame.self_module.attrs.update(attrs)
        if not outcomes:
            raise _Return()
        frame.env.clear()
        frame.env.update(_join_dicts([env for env, _ in outcomes]))
        if frame.self_module is not None:
            frame.self_module.attrs.clear()
            frame.self_module.attrs.update(_join_dicts([attrs for _, attrs in outcomes]))

    def _exec_for(self, node: cst.For, frame: Frame) -> None:
        items = _as_sequence(self._iterable(self.eval(node.iter, frame)))
        if items is None or len(items) > MAX_UNROLL or node.orelse is not None:
            _havoc(node, frame)
            return
        for item in items:
            self._assign(node.target, item, frame)
            self._exec_block(node.body.body, frame)  # break/continue: not followed, see _havoc

    def _iterable(self, value):
        if isinstance(value, Container):
            return [item for _, item in value.items]
        if isinstance(value, dict):
            return list(value)
        return value

    # ---- expressions -------------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, frame: Frame):
        self._tick()
        if isinstance(node, cst.Integer):
            return node.evaluated_value
        if isinstance(node, cst.Float):
            return node.evaluated_value
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(node, cst.Name):
            return self._lookup(node.value, frame)
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
            return _unary(type(node.operator).__name__, self.eval(node.expression, frame))
        if isinstance(node, cst.BinaryOperation):
            left = self.eval(node.left, frame)
            right = self.eval(node.right, frame)
            return self._binary(type(node.operator).__name__, left, right, node, frame)
        if isinstance(node, cst.BooleanOperation):
            return self._boolean(node, frame)
        if isinstance(node, cst.Comparison):
            return self._comparison(node, frame)
        if isinstance(node, cst.IfExp):
            test = self._truth(self.eval(node.test, frame))
            if test is True:
                return self.eval(node.body, frame)
            if test is False:
                return self.eval(node.orelse, frame)
            return _join(self.eval(node.body, frame), self.eval(node.orelse, frame))
        if isinstance(node, cst.Subscript):
            return self._subscript(node, frame)
        if isinstance(node, cst.Call):
            return self._call(node, frame)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, frame)
        return UNKNOWN

    def _elements(self, elements, frame: Frame) -> Optional[list]:
        items = []
        for element in elements:
            value = self.eval(element.value, frame)
            if isinstance(element, cst.StarredElement):
                seq = _as_sequence(self._iterable(value))
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
            if key is UNKNOWN or not _hashable(key):
                return UNKNOWN
            result[key] = self.eval(element.value, frame)
        return result

    def _lookup(self, name: str, frame: Frame):
        if name in frame.env:
            return frame.env[name]
        if name in self.constants:
            return self.constants[name]
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name in self.classes:
            return ClassRef(self.classes[name])
        if name in self.functions:
            return FunctionRef(self.functions[name])
        qualname = self.imports.names.get(name)
        if qualname is not None:
            return _Qualified(qualname)
        if name in _BUILTINS:
            return _Builtin(name)
        return UNKNOWN

    def _attribute(self, node: cst.Attribute, frame: Frame):
        attr = node.attr.value
        base = self.eval(node.value, frame)
        if isinstance(base, _Qualified):
            return _Qualified(base.name + "." + attr)
        if isinstance(base, UserModule):
            return self._module_attr(base, attr)
        if isinstance(base, Tensor):
            shape = base.shape
            if attr == "shape" and shape is not None:
                return tuple(shape)
            if attr == "ndim" and shape is not None:
                return len(shape)
            return _TensorMethod(base, attr)
        if isinstance(base, ListValue) and attr in ("append", "extend", "insert"):
            return _ListMethod(base, attr)
        if isinstance(base, Layer):
            value = base.bound.get(attr, UNKNOWN) if base.bound else UNKNOWN
            return value if not isinstance(value, ListValue) else UNKNOWN
        if isinstance(base, ClassRef) and isinstance(base.target, ClassInfo):
            return self._class_attr(base.target, attr)
        return UNKNOWN

    def _module_attr(self, module: UserModule, attr: str):
        if attr in module.attrs:
            return module.attrs[attr]
        if module.cls is None:
            return UNKNOWN
        method = module.cls.method(attr)
        if method is not None:
            return FunctionRef(method, bound_self=module)
        return self._class_attr(module.cls, attr)

    def _class_attr(self, info: ClassInfo, attr: str):
        for klass in info.mro():
            for assign in reversed(klass.body_assigns):
                targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) \
                    else [assign.target]
                if any(isinstance(t, cst.Name) and t.value == attr for t in targets):
                    return self.eval(assign.value, Frame(env={}))
        return UNKNOWN

    def _subscript_key(self, node: cst.Subscript, frame: Frame):
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        return self.eval(node.slice[0].slice.value, frame)

    def _subscript(self, node: cst.Subscript, frame: Frame):
        base = self.eval(node.value, frame)
        if isinstance(base, Tensor):
            return Tensor(origin=base.origin)  # slicing/indexing: shape not followed
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
                b is not None and not _is_int(b) for b in bounds + [step]
            ):
                return UNKNOWN
            return tuple(seq[bounds[0]:bounds[1]:step])
        key = self.eval(part.value, frame)
        if isinstance(seq, (tuple, list)) and _is_int(key) and -len(seq) <= key < len(seq):
            return seq[key]
        if isinstance(base, dict) and key is not UNKNOWN and _hashable(key):
            return base.get(key, UNKNOWN)
        return UNKNOWN

    def _boolean(self, node: cst.BooleanOperation, frame: Frame):
        left = self.eval(node.left, frame)
        truth = self._truth(left)
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
            outcome = _compare(type(target.operator).__name__, left, right)
            if outcome is UNKNOWN:
                return UNKNOWN
            result = result and outcome
            left = right
        return result

    def _truth(self, value) -> Optional[bool]:
        if value is UNKNOWN or isinstance(value, (Tensor, _Qualified)):
            return None
        if isinstance(value, (Module, ClassRef, FunctionRef)):
            return True
        if isinstance(value, ListValue):
            return None if value.items is None else bool(value.items)
        if isinstance(value, (int, float, str, tuple, dict, type(None))):
            if isinstance(value, tuple) and any(v is UNKNOWN for v in value):
                return bool(value)  # a tuple's truth is its length
            return bool(value)
        return None

    def _comprehension(self, node, frame: Frame):
        results = []
        if not self._comprehend(node.for_in, node.elt, frame, dict(frame.env), results):
            return UNKNOWN
        return ListValue(results) if isinstance(node, cst.ListComp) else tuple(results)

    def _comprehend(self, comp: cst.CompFor, elt, frame: Frame, env: dict, results: list) -> bool:
        items = _as_sequence(self._iterable(self.eval(comp.iter, Frame(env=env, **_ctx(frame)))))
        if items is None or len(items) > MAX_UNROLL:
            return False
        for item in items:
            sub = Frame(env=dict(env), **_ctx(frame))
            self._assign(comp.target, item, sub)
            keep = True
            for condition in comp.ifs:
                truth = self._truth(self.eval(condition.test, sub))
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
        return _arith(op, left, right)

    def _tensor_binary(self, op: str, left, right, node):
        if op in ("MatrixMultiply",):
            return Tensor()
        if not (isinstance(left, Tensor) and isinstance(right, Tensor)):
            tensor = left if isinstance(left, Tensor) else right
            return tensor.derived()
        a, b = left.shape, right.shape
        if a is None or b is None:
            if a is None and b is None and left.lazy is not None and left.lazy is right.lazy:
                return left.derived()
            return Tensor(origin=left.origin)
        width = max(len(a), len(b))
        a = (1,) * (width - len(a)) + tuple(a)
        b = (1,) * (width - len(b)) + tuple(b)
        out = []
        for axis, (x, y) in enumerate(zip(a, b)):
            if _broadcast_conflict(x, y):
                verb = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply",
                        "Divide": "divide"}.get(op, "combine")
                self.report(node, "CNV106", op=verb, left=_shape_str(left.shape),
                            right=_shape_str(right.shape),
                            detail=f"axis {axis - width} is {_dim_str(x)} vs {_dim_str(y)}")
                return Tensor(origin=left.origin)
            out.append(_broadcast_dim(x, y))
        return Tensor(tuple(out), left.origin)

    # ---- calls -------------------------------------------------------------------------------

    def _call(self, node: cst.Call, frame: Frame):
        func = node.func
        # super().__init__(...) and Base.__init__(self, ...): run the base class's __init__.
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
            return self._super_init(node, frame)
        callee = self.eval(func, frame)
        args, kwargs, complete = self._arguments(node, frame)
        if isinstance(callee, _Qualified):
            return self._call_qualified(callee.name, args, kwargs, complete, node, frame)
        if isinstance(callee, Module):
            return self._apply_module(callee, args, kwargs, node, frame)
        if isinstance(callee, _TensorMethod):
            return self._tensor_method(callee, args, kwargs, complete, node)
        if isinstance(callee, _ListMethod):
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
            return self._call_function(callee.node, prefix + args, kwargs,
                                       self_module=callee.bound_self, cls=owner,
                                       in_forward=frame.in_forward)
        if isinstance(callee, _Builtin):
            return _call_builtin(callee.name, args, kwargs)
        return UNKNOWN

    def _arguments(self, node: cst.Call, frame: Frame):
        args, kwargs, complete = [], {}, True
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                seq = _as_sequence(self._iterable(value))
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

    def _call_qualified(self, name: str, args, kwargs, complete, node, frame: Frame):
        if name in ("torch.nn.Sequential", "torch.nn.ModuleList"):
            return self._container(name, args, complete, node)
        if name == "torch.nn.ModuleDict":
            return self._module_dict(args, complete, node)
        if name == "collections.OrderedDict":
            if not args:
                return {}
            pairs = _as_sequence(args[0]) if complete else None
            if isinstance(args[0], dict):
                return dict(args[0])
            if pairs is None or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
                return UNKNOWN
            return {k: v for k, v in pairs}
        if name in ("torch.cat", "torch.stack"):
            return self._cat(name, args, kwargs, node) if complete else Tensor()
        if name == "torch.nn.Parameter":
            return _Parameter(args[0] if args else kwargs.get("data", UNKNOWN))
        if name in _TENSOR_FACTORIES:
            return _factory_tensor(args, kwargs)
        kind = layers.lookup(name)
        if kind is None:
            return _unknown_result(args)
        if name in layers.LAYERS:
            return self._construct(kind, args, kwargs, node) if complete else UNKNOWN
        return self._apply_function(kind, args, kwargs, complete, node, name)

    def _construct(self, kind, args, kwargs, node):
        bound = kind.bind(list(map(_plain, args)), {k: _plain(v) for k, v in kwargs.items()})
        if bound is None:
            return UNKNOWN
        layer = Layer(node=node, kind=kind, bound=bound)
        problems = kind.check(bound)
        init_problems = [p for p in problems if _raised_at_construction(p)]
        self._report_problems(init_problems, node, kind.name, "")
        return layer

    def _container(self, name: str, args, complete: bool, node):
        kind_name = name.rsplit(".", 1)[1]
        if not complete:
            return UNKNOWN
        if kind_name == "Sequential" and len(args) == 1 and isinstance(args[0], dict):
            items = list(args[0].items())
        elif kind_name == "ModuleList":
            seq = _as_sequence(args[0]) if args else []
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

    # ---- forward-time application --------------------------------------------------------------

    def _apply_module(self, module: Module, args, kwargs, node, frame: Frame):
        if isinstance(module, Container) and module.kind_name != "Sequential":
            return UNKNOWN  # ModuleList/ModuleDict have no forward
        row = self._open_row(module, node)
        if isinstance(module, Layer):
            result = self._apply_layer(module, args, kwargs, node)
        elif isinstance(module, Container):
            result = args[0] if len(args) == 1 and not kwargs else UNKNOWN
            for _key, child in module.items:
                if not isinstance(child, Module):
                    result = _unknown_result([result])
                    continue
                result = self._apply_module(child, [result], {}, node, frame)
        elif isinstance(module, UserModule):
            forward = module.cls.method("forward") if module.cls else None
            if forward is None:
                result = _unknown_result(args)
            else:
                result = self._call_function(forward, [module] + list(args), dict(kwargs),
                                             self_module=module,
                                             cls=self._owner(module.cls, "forward"),
                                             in_forward=True)
        else:
            result = UNKNOWN
        if row is not None and isinstance(result, Tensor):
            row.output = result.shape
        return result

    def _open_row(self, module: Module, node) -> Optional[Row]:
        if self.rows is None:
            return None
        name = self.names.get(id(module))
        if name is None:
            return None
        row = Row(module, module.node, name, module.type_name, params=self.param_count(module))
        self.rows.append(row)
        return row

    def _apply_layer(self, layer: Layer, args, kwargs, node):
        tensor = args[0] if args else kwargs.get("input", UNKNOWN)
        name = self.names.get(id(layer), layer.kind.name)
        if not isinstance(tensor, Tensor):
            return Tensor(origin=name)
        self._settle(tensor, layer.kind.name)
        problems = [p for p in layer.kind.check(layer.bound) if not _raised_at_construction(p)]
        self._report_problems(problems, node, name, tensor.origin)
        if tensor.shape is None:
            if tensor.lazy is not None and _elementwise(layer.kind, layer.bound, None):
                return tensor.derived(origin=tensor.origin)
            return Tensor(origin=name)
        shape, problems = layer.kind.apply(layer.bound, tensor.shape)
        self._report_problems(problems, node, name, tensor.origin)
        if problems:
            return Tensor(origin=name)
        return Tensor(shape, origin=_origin_after(layer.kind, name, tensor.origin))

    def _apply_function(self, kind, args, kwargs, complete, node, qualname: str):
        if not complete or not args and "input" not in kwargs:
            return _unknown_result(args)
        tensor = args[0] if args else kwargs["input"]
        if not isinstance(tensor, Tensor):
            return _unknown_result(args)
        display = _display_name(qualname)
        bound = kind.bind([_plain(a) for a in args], {k: _plain(v) for k, v in kwargs.items()})
        if bound is None:
            return Tensor(origin=tensor.origin)
        self._settle(tensor, kind.name)
        problems = kind.check(bound)
        self._report_problems(problems, node, display, tensor.origin)
        if tensor.shape is None:
            if tensor.lazy is not None and _elementwise(kind, bound, None):
                return tensor.derived()
            return Tensor(origin=tensor.origin)
        shape, problems = kind.apply(bound, tensor.shape)
        self._report_problems(problems, node, display, tensor.origin)
        if problems:
            return Tensor(origin=tensor.origin)
        return Tensor(shape, origin=tensor.origin)

    def _settle(self, tensor: Tensor, kind_name: str) -> None:
        """Fix an input's rank from the first layer that needs it (see values.LazyInput)."""
        lazy = tensor.lazy
        if lazy is None or lazy.settled:
            return
        match = _RANKED.match(kind_name)
        if match is None:
            return
        rank = int(match.group(2))
        lazy.settled = True
        if lazy.candidate is not None and len(lazy.candidate) == rank + 1:
            lazy.shape = (sizes.BATCH,) + tuple(lazy.candidate)
        else:
            symbols = tuple(sizes.symbol(s + lazy.suffix) for s in SPATIAL_SYMBOLS[rank])
            lazy.shape = (sizes.BATCH, None) + symbols

    def _tensor_method(self, method: "_TensorMethod", args, kwargs, complete, node):
        tensor, name = method.tensor, method.name
        shape = tensor.shape
        if name == "size":
            if shape is None or not complete:
                return UNKNOWN
            if not args and not kwargs:
                return tuple(shape)
            index = args[0] if args else kwargs.get("dim", UNKNOWN)
            return shape[index] if _is_int(index) and -len(shape) <= index < len(shape) else UNKNOWN
        if name == "dim":
            return len(shape) if shape is not None else UNKNOWN
        if name in ("view", "reshape"):
            return self._view(tensor, name, args, complete, node)
        if name in _SHAPE_PRESERVING_METHODS:
            return tensor.derived()
        kind = layers.METHODS.get(name)
        if kind is None or not complete:
            return Tensor(origin=tensor.origin)
        bound = kind.bind([_plain(tensor)] + [_plain(a) for a in args],
                          {k: _plain(v) for k, v in kwargs.items()})
        if bound is None or shape is None:
            return Tensor(origin=tensor.origin)
        out, problems = kind.apply(bound, shape)
        self._report_problems(problems, node, f".{name}()", tensor.origin)
        return Tensor(out if not problems else None, origin=tensor.origin)

    def _view(self, tensor: Tensor, name: str, args, complete: bool, node):
        if len(args) == 1 and isinstance(args[0], (tuple, list)):
            args = list(args[0])
        shape = tensor.shape
        if not complete or shape is None or not args or not shape or shape[0] is not sizes.BATCH:
            return Tensor(origin=tensor.origin)
        per_sample = sizes.product(shape[1:])
        first, rest = args[0], args[1:]
        if first is sizes.BATCH:  # x.view(x.size(0), ...)
            return Tensor(_view_rest(per_sample, rest), origin=tensor.origin)
        if first == -1 and rest and all(_is_int(r) and r > 0 for r in rest):
            wanted = 1
            for r in rest:
                wanted *= r
            if _proven_unequal_size(per_sample, wanted):
                call = f"{name}(-1, {', '.join(str(r) for r in rest)})"
                self.report(node, "CNV104", call=call, got=_dim_str(per_sample),
                            detail=_regroup_detail(per_sample, wanted))
                return Tensor(origin=tensor.origin)
            if sizes.proven_equal(per_sample, wanted) or per_sample == wanted:
                return Tensor((sizes.BATCH,) + tuple(rest), origin=tensor.origin)
        return Tensor(origin=tensor.origin)

    def _cat(self, name: str, args, kwargs, node):
        tensors = _as_sequence(args[0]) if args else _as_sequence(kwargs.get("tensors"))
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if tensors is None or not tensors or not all(isinstance(t, Tensor) for t in tensors):
            return Tensor()
        shapes = [t.shape for t in tensors]
        if any(s is None for s in shapes) or not _is_int(dim):
            return Tensor(origin="torch.cat")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= dim < rank:
            return Tensor(origin="torch.cat")
        if name == "torch.stack":
            return Tensor(origin="torch.stack")
        axis = dim % rank
        for other in range(rank):
            if other == axis:
                continue
            column = [s[other] for s in shapes]
            for later in column[1:]:
                if _cat_conflict(column[0], later):
                    self.report(node, "CNV107", dim=dim,
                                shapes=" and ".join(_shape_str(s) for s in shapes),
                                detail=f"axis {other} differs ({_dim_str(column[0])} vs "
                                       f"{_dim_str(later)})")
                    return Tensor(origin="torch.cat")
        out = list(shapes[0])
        total = [s[axis] for s in shapes]
        out[axis] = sum(total) if all(_is_int(t) for t in total) else None
        for other in range(rank):
            if other != axis and any(s[other] != out[other] for s in shapes):
                out[other] = None if not all(
                    sizes.proven_equal(out[other], s[other]) for s in shapes) else out[other]
        return Tensor(tuple(out), origin="torch.cat")

    # ---- parameter counts ------------------------------------------------------------------------

    def param_count(self, module: Module, seen: Optional[set] = None) -> Optional[int]:
        seen = set() if seen is None else seen
        if id(module) in seen:
            return 0
        seen.add(id(module))
        total = 0
        if isinstance(module, Layer):
            return module.kind.params(module.bound)
        if isinstance(module, UserModule):
            for value in module.attrs.values():
                if isinstance(value, _Parameter):
                    count = value.numel()
                    if count is None:
                        return None
                    total += count
        for _key, child in module.children():
            count = self.param_count(child, seen)
            if count is None:
                return None
            total += count
        if isinstance(module, Container) and any(not isinstance(i, Module) for _, i in module.items):
            return None
        return total


# ---- small value helpers ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Qualified:
    """A reference to an imported name, e.g. torch.nn.Conv2d, not yet called."""

    name: str


@dataclass(frozen=True)
class _Builtin:
    name: str


@dataclass(eq=False)
class _TensorMethod:
    tensor: Tensor
    name: str


@dataclass(eq=False)
class _ListMethod:
    target: ListValue
    name: str

    def call(self, args, complete):
        if self.target.items is None:
            return None
        if not complete:
            self.target.items = None
        elif self.name == "append" and len(args) == 1:
            self.target.items.append(args[0])
        elif self.name == "extend" and len(args) == 1 and _as_sequence(args[0]) is not None:
            self.target.items.extend(_as_sequence(args[0]))
        else:
            self.target.items = None
        return None


@dataclass(eq=False)
class _Parameter:
    data: Any

    def numel(self) -> Optional[int]:
        shape = self.data.shape if isinstance(self.data, Tensor) else None
        if shape is None or not all(_is_int(d) for d in shape):
            return None
        count = 1
        for d in shape:
            count *= d
        return count


_TENSOR_FACTORIES = {"torch.zeros", "torch.ones", "torch.randn", "torch.rand", "torch.empty",
                     "torch.Tensor", "torch.FloatTensor"}


def _factory_tensor(args, kwargs) -> Tensor:
    dims = args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args)
    if all(_is_int(d) and d >= 0 for d in dims):
        return Tensor(tuple(dims))
    return Tensor()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _plain(value):
    """What the layer catalogue sees: Python values, with lists as tuples, the rest UNKNOWN."""
    if isinstance(value, ListValue):
        return UNKNOWN if value.items is None else tuple(_plain(v) for v in value.items)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (int, float, str, type(None))):
        return value
    if isinstance(value, Tensor):
        return value
    return UNKNOWN


def _as_sequence(value) -> Optional[list]:
    if isinstance(value, ListValue):
        return None if value.items is None else list(value.items)
    if isinstance(value, (tuple, list)):
        return list(value)
    if isinstance(value, range):
        return list(value) if len(value) <= MAX_UNROLL else None
    return None


def _ctx(frame: Frame) -> dict:
    return {"self_module": frame.self_module, "cls": frame.cls, "in_forward": frame.in_forward}


def _is_self(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _positional_params(fn: cst.FunctionDef) -> list:
    return list(fn.params.posonly_params) + list(fn.params.params)


def _havoc(node: cst.CSTNode, frame: Frame) -> None:
    """Forget every name a statement we do not follow may assign or mutate."""
    for name in _assigned_names(node):
        if name.startswith("self."):
            if frame.self_module is not None:
                frame.self_module.attrs[name[5:]] = UNKNOWN
        elif name in frame.env:
            old = frame.env[name]
            frame.env[name] = Tensor(origin=old.origin) if isinstance(old, Tensor) else UNKNOWN


def _assigned_names(node: cst.CSTNode) -> set:
    names: set = set()

    class Collector(cst.CSTVisitor):
        def visit_AssignTarget(self, target):
            names.update(_target_names(target.target))

        def visit_AugAssign(self, aug):
            names.update(_target_names(aug.target))

        def visit_AnnAssign(self, ann):
            names.update(_target_names(ann.target))

        def visit_For(self, loop):
            names.update(_target_names(loop.target))

        def visit_CompFor(self, comp):
            names.update(_target_names(comp.target))

        def visit_WithItem(self, item):
            if item.asname is not None:
                names.update(_target_names(item.asname.name))

        def visit_ExceptHandler(self, handler):
            if handler.name is not None:
                names.update(_target_names(handler.name.name))

        def visit_Call(self, call):  # layers.append(...), self.blocks.extend(...)
            if isinstance(call.func, cst.Attribute):
                names.update(_target_names(call.func.value))

    node.visit(Collector())
    return names


def _target_names(target) -> set:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Attribute) and _is_self(target.value):
        return {"self." + target.attr.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        result: set = set()
        for element in target.elements:
            result |= _target_names(element.value)
        return result
    if isinstance(target, (cst.Subscript, cst.Attribute)):
        return _target_names(target.value)
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return set()


def _join(a, b):
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.lazy is not None and a.lazy is b.lazy and a.shape is None and b.shape is None:
            return a
        sa, sb = a.shape, b.shape
        if sa is None or sb is None or len(sa) != len(sb):
            return Tensor(origin=a.origin if a.origin == b.origin else "")
        dims = tuple(x if (x is y or x == y or sizes.proven_equal(x, y)) else None
                     for x, y in zip(sa, sb))
        return Tensor(dims, origin=a.origin if a.origin == b.origin else "")
    if type(a) is type(b) and isinstance(a, (int, float, str, bool, type(None))) and a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(_join(x, y) for x, y in zip(a, b))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Tensor()
    return UNKNOWN


def _join_all(values: list):
    if not values:
        return UNKNOWN
    result = values[0]
    for value in values[1:]:
        result = _join(result, value)
    return result


def _join_dicts(dicts: list) -> dict:
    keys: list = []
    for d in dicts:
        keys.extend(k for k in d if k not in keys)
    return {k: _join_all([d.get(k, UNKNOWN) for d in dicts]) for k in keys}


def _unary(op: str, value):
    if isinstance(value, Tensor):
        return value.derived()
    if op == "Not":
        return UNKNOWN if value is UNKNOWN or isinstance(value, (Tensor,)) else not value
    if not isinstance(value, (int, float)) or isinstance(value, bool) and op != "Minus":
        return UNKNOWN
    return {"Minus": lambda v: -v, "Plus": lambda v: +v, "BitInvert": lambda v: ~v}.get(
        op, lambda v: UNKNOWN)(value)


_ARITH: dict[str, Callable] = {
    "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
    "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
    "Power": lambda a, b: a ** b, "LeftShift": lambda a, b: a << b, "RightShift": lambda a, b: a >> b,
    "BitOr": lambda a, b: a | b, "BitAnd": lambda a, b: a & b,
}
_BIG = 10 ** 12  # numbers past this are not layer sizes; treat them as unknown, cheaply


def _arith(op: str, a, b):
    if isinstance(a, ListValue) and isinstance(b, ListValue) and op == "Add":
        if a.items is None or b.items is None:
            return UNKNOWN
        return ListValue(a.items + b.items)
    if isinstance(a, tuple) and isinstance(b, tuple) and op == "Add":
        return a + b
    if isinstance(a, str) and isinstance(b, str) and op == "Add":
        return a + b
    numeric = (int, float)
    if not isinstance(a, numeric) or not isinstance(b, numeric):
        return UNKNOWN
    if abs(a) > _BIG or abs(b) > _BIG or (op == "Power" and abs(b) > 64):
        return UNKNOWN
    try:
        return _ARITH[op](a, b)
    except (KeyError, ZeroDivisionError, OverflowError, ValueError, TypeError):
        return UNKNOWN


def _compare(op: str, a, b):
    if op in ("Is", "IsNot"):
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if b is None or a is None:
            same = a is b
            return same if op == "Is" else not same
        return UNKNOWN
    if op in ("In", "NotIn"):
        seq = _as_sequence(b)
        if seq is None or a is UNKNOWN or any(v is UNKNOWN for v in seq):
            return UNKNOWN
        try:
            found = a in seq
        except TypeError:
            return UNKNOWN
        return found if op == "In" else not found
    if isinstance(a, (sizes.Expr, sizes.Product)) or isinstance(b, (sizes.Expr, sizes.Product)):
        if op in ("Equal", "NotEqual"):
            if sizes.proven_equal(a, b):
                return op == "Equal"
            if sizes.proven_different(a, b):
                return op == "NotEqual"
        return UNKNOWN
    plain = (int, float, str, type(None))
    if not isinstance(a, plain) or not isinstance(b, plain):
        return UNKNOWN
    try:
        return {
            "Equal": a == b, "NotEqual": a != b,
        }[op] if op in ("Equal", "NotEqual") else {
            "LessThan": lambda: a < b, "LessThanEqual": lambda: a <= b,
            "GreaterThan": lambda: a > b, "GreaterThanEqual": lambda: a >= b,
        }[op]()
    except (TypeError, KeyError):
        return UNKNOWN


_BUILTINS = {"range", "len", "int", "float", "max", "min", "abs", "round", "list", "tuple",
             "sum", "enumerate", "zip", "isinstance", "bool", "str", "reversed", "sorted"}


def _call_builtin(name: str, args, kwargs):
    seqs = [_as_sequence(a) for a in args]
    try:
        if name == "range" and all(_is_int(a) for a in args) and args and not kwargs:
            r = range(*args)
            return r if len(r) <= MAX_UNROLL else UNKNOWN
        if name == "len" and len(args) == 1:
            if isinstance(args[0], Container):
                return len(args[0].items)
            return len(seqs[0]) if seqs[0] is not None else UNKNOWN
        if name in ("int", "float", "abs", "round", "bool", "str") and len(args) == 1 \
                and isinstance(args[0], (int, float, str)):
            return {"int": int, "float": float, "abs": abs, "round": round, "bool": bool,
                    "str": str}[name](args[0])
        if name in ("max", "min", "sum") and args:
            values = seqs[0] if len(args) == 1 else args
            if values and all(isinstance(v, (int, float)) for v in values) and not kwargs:
                return {"max": max, "min": min, "sum": sum}[name](values)
        if name in ("list", "tuple", "reversed", "sorted") and len(args) == 1 and seqs[0] is not None:
            items = seqs[0]
            if name == "reversed":
                items = items[::-1]
            if name == "sorted":
                items = sorted(items)
            return ListValue(items) if name == "list" else tuple(items)
        if name == "enumerate" and len(args) == 1 and seqs[0] is not None:
            return tuple(enumerate(seqs[0]))
        if name == "zip" and args and all(s is not None for s in seqs):
            return tuple(zip(*seqs))
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN
    return UNKNOWN


def _unknown_result(args):
    """A call we do not know: a tensor of unknown shape if it was given a tensor."""
    if any(isinstance(a, Tensor) for a in args):
        return Tensor()
    return UNKNOWN


def _raised_at_construction(problem) -> bool:
    return getattr(problem, "when", "init") == "init"


def _elementwise(kind, bound, shape) -> bool:
    """Does this layer keep its input's shape whatever it is (activations, dropout)?"""
    return bool(getattr(kind, "elementwise", False))


def _origin_after(kind, name: str, previous: str) -> str:
    """Which layer the channel count of the output comes from, for messages."""
    return previous if getattr(kind, "elementwise", False) else name


def _display_name(qualname: str) -> str:
    if qualname.startswith("torch.nn.functional."):
        return "F." + qualname.rsplit(".", 1)[1]
    return qualname


def _dim_str(dim) -> str:
    if dim is None:
        return "?"
    return str(sizes.describe(dim))


def _shape_str(shape) -> str:
    if shape is None:
        return "(?)"
    return "(" + ", ".join(_dim_str(d) for d in shape) + ")"


def _broadcast_conflict(x, y) -> bool:
    if x is None or y is None or x is sizes.BATCH or y is sizes.BATCH:
        return False
    if _is_int(x) and _is_int(y):
        return x != y and x != 1 and y != 1
    return sizes.proven_unbroadcastable(x, y)


def _broadcast_dim(x, y):
    if x == 1:
        return y
    if y == 1:
        return x
    if x is y or x == y or (x is not None and y is not None and sizes.proven_equal(x, y)):
        return x
    return None


def _cat_conflict(x, y) -> bool:
    if x is None or y is None or x is sizes.BATCH or y is sizes.BATCH:
        return False
    if _is_int(x) and _is_int(y):
        return x != y
    return sizes.proven_different(x, y)


def _proven_unequal_size(per_sample, wanted: int) -> bool:
    if per_sample is None:
        return False
    if _is_int(per_sample):
        return per_sample != wanted
    return sizes.can_be(per_sample, wanted) is False


def _regroup_detail(per_sample, wanted: int) -> str:
    if _is_int(per_sample):
        return (f"; torch raises unless the batch holds a multiple of "
                f"{wanted // _gcd(wanted, per_sample)} samples, and then mixes samples")
    return " for any input size"


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _view_rest(per_sample, rest) -> Optional[tuple]:
    """Shape of x.view(x.size(0), *rest): -1 takes what is left of the per-sample size."""
    if not rest:
        return None
    known, holes = 1, 0
    for r in rest:
        if r == -1:
            holes += 1
        elif _is_int(r) and r > 0:
            known *= r
        else:
            return None
    if holes > 1:
        return None
    if holes == 0:
        return (sizes.BATCH,) + tuple(rest) if per_sample == known else None
    if known == 1:
        return (sizes.BATCH,) + tuple(per_sample if r == -1 else r for r in rest)
    if _is_int(per_sample) and per_sample % known == 0:
        return (sizes.BATCH,) + tuple(per_sample // known if r == -1 else r for r in rest)
    return None


__all__ = ["FileInterpreter", "ClassInfo", "Row", "Report", "GiveUp", "copy"]
