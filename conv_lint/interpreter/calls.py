"""Calls: arguments, binding them to a function's parameters, running user functions, methods
of the values the evaluator holds, builtins and ``Base.__init__`` / ``super().__init__``.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`. A callee the evaluator does
not know of itself (a module, a tensor method, a layer class, a torch function) goes to its
extensions first (``_call_other``, ``_call_library``, ``_init_library_base``).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.algebra import symbols
from conv_lint.interpreter.callables import (
    FORGET, UNHANDLED, Builtin, DictMethod, ListMethod, Qualified, StrFormat,
)
from conv_lint.interpreter.frames import MAX_DEPTH, Frame, Return
from conv_lint.interpreter.joins import join_all
from conv_lint.interpreter.pyvalues import MATH, as_sequence, call_builtin, call_math, iterated
from conv_lint.interpreter.values import UNKNOWN, ClassRef, FunctionRef, UserModule


class Calls:
    """What a call evaluates to."""

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
        result = self._dispatch(callee, args, kwargs, complete, node, frame)
        if frame.in_forward:
            self._observe_call(callee, args, kwargs, complete, result, node)
        return result

    def _dispatch(self, callee, args, kwargs, complete, node: cst.Call, frame: Frame):
        func = node.func
        if isinstance(callee, Qualified):
            return self._call_qualified(callee.name, args, kwargs, complete, node, frame)
        result = self._call_other(callee, args, kwargs, complete, node, frame)
        if result is not UNHANDLED:
            return result
        if isinstance(callee, DictMethod):
            result = callee.call(args, kwargs, complete)
            if result is FORGET:  # changed in a way not followed: its names forget it
                self._forget(func.value, frame)
                return UNKNOWN
            return result
        if isinstance(callee, (ListMethod, StrFormat)):
            return callee.call(args, complete)
        if not complete:
            return UNKNOWN
        if isinstance(callee, ClassRef):
            return UNKNOWN  # a class that is not a module: not followed
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
        if isinstance(callee, Builtin):
            return call_builtin(callee.name, args, kwargs)
        return self._unfollowed_call(args)

    def _call_qualified(self, name: str, args, kwargs, complete, node, frame: Frame):
        """An imported name no module of the project defines: the standard library's few the
        evaluator knows, else a library's (``_call_library``)."""
        if name == "collections.OrderedDict":
            if not args:
                return {}
            pairs = as_sequence(args[0]) if complete else None
            if isinstance(args[0], dict):
                return dict(args[0])
            if pairs is None or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
                return UNKNOWN
            return {k: v for k, v in pairs}
        if name in MATH:
            return call_math(name, args, kwargs)
        return self._call_library(name, args, kwargs, complete, node, frame)

    def _arguments(self, node: cst.Call, frame: Frame):
        args, kwargs, complete = [], {}, True
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                seq = as_sequence(iterated(value))
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
                except Return:
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
            if bases and isinstance(bases[0], str):  # a library's class (nn.Sequential...)
                return self._init_library_base(frame.self_module, bases[0], args, complete,
                                               kwargs)
            base_info = bases[0] if bases else None
        elif isinstance(receiver, cst.Name) and receiver.value in self.classes:
            base_info = self.classes[receiver.value]
            args = args[1:]  # Base.__init__(self, ...)
        if base_info is None or not complete:
            return None
        init = base_info.method("__init__")
        if init is not None:
            self._call_function(init, [frame.self_module] + args, kwargs,
                                self_module=frame.self_module,
                                cls=base_info.owner("__init__"))
        return None


def positional_params(fn: cst.FunctionDef) -> list:
    return list(fn.params.posonly_params) + list(fn.params.params)


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


def _symbolize(fn: cst.FunctionDef, env: dict) -> None:
    """Building code: a parameter bound to nothing known becomes a symbol of its own, so channel
    arithmetic on it stays exact (`planes * 4`). Tensors in forward code never become symbols."""
    p = fn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        name = param.name.value
        if env.get(name) is UNKNOWN:
            env[name] = symbols.parameter(name)
