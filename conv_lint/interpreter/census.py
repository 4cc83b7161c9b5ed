"""The forward census: every call that forward() makes on tensors, whether its result got a
known shape, and, where the analysis lost a shape, why (for explain, stats and the server:
silence must say where it comes from).

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`, overriding the evaluator's
``_observe_call``. A call is judged once the model has run: an input whose rank the first
layer fixes later is known by then.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Optional

import libcst as cst

from conv_lint.algebra.symbols import SYMBOLIC
from conv_lint.interpreter.callables import (
    Builtin, DictMethod, ListMethod, Qualified, StrFormat,
)
from conv_lint.interpreter.forward import display_name
from conv_lint.interpreter.modules import ContainerMethod, ReturnsSelf, modelled_function
from conv_lint.interpreter.tensor_calls import TensorMethod, modelled_method
from conv_lint.interpreter.values import (
    UNKNOWN, ClassRef, Container, FunctionRef, Layer, ListValue, Module, OpaqueModule, Tensor,
    UserModule, plain,
)
from conv_lint.records import record

# Tensor methods whose result is not a tensor: not calls whose shape is asked for.
_NOT_TENSOR_RESULTS = frozenset({
    "size", "dim", "numel", "item", "tolist", "ndimension", "nelement", "element_size",
    "is_contiguous", "get_device", "stride", "data_ptr", "storage_offset", "equal", "numpy",
    "is_floating_point", "backward", "register_hook", "retain_grad", "__len__",
})
_INPUT_NOT_SIZED = ("the input's shape is not set (no input shape given, and no layer fixes "
                    "its rank)")
_LOST_BETWEEN = ("its input's shape was lost before it, between calls (an operator, indexing, "
                 "a loop or a branch not followed)")
_PYTHON_CALLABLES = (FunctionRef, ClassRef, Builtin, DictMethod, ListMethod, StrFormat,
                     ContainerMethod, ReturnsSelf)
_MODULE_RUNNERS = frozenset({"torch.nn.parallel.data_parallel"})  # module(*inputs)
_CODE = cst.Module([])


@record(eq=False)
class CallVisit:
    """One call forward() made on tensors: what it received and gave."""

    key: tuple  # (id(call node), id(module called) or 0): a call site of one module instance
    node: Any  # where explain points: the linted file's call that led here
    callee: Any
    inputs: list  # the tensors it received
    args: list  # every argument, keywords' values too
    complete: bool
    result: Any


@record
class LostShape:
    """Where forward's shapes were lost, and why."""

    node: Any
    call: str  # "self.lstm(...)", "torch.stack(...)"
    reason: str  # "nn.LSTM not modelled"


@record
class ForwardFigure:
    """A model's forward calls: how many, how many with a known result shape, where lost."""

    calls: int = 0
    known: int = 0
    lost: list = field(default_factory=list)  # [LostShape], first loss first
    reasons: list = field(default_factory=list)  # the reason of each unknown call (downstream too)


class CallCensus:
    """Counts forward's calls; reads ``census`` (None: not counting) and ``names``."""

    def _observe_call(self, callee, args, kwargs, complete: bool, result, node) -> None:
        if self.census is None or self.failed or not _counted(callee):
            return
        inputs = [t for a in list(args) + list(kwargs.values()) for t in _tensors_in(a)]
        if isinstance(callee, TensorMethod):
            inputs.insert(0, callee.tensor)
        if not inputs and not isinstance(callee, Module):
            return  # torch.zeros(...): made here, not moved
        where = node if self.scope is self.home else (self.home_site or node)
        key = (id(node), id(callee) if isinstance(callee, Module) else 0)
        given = list(args) + list(kwargs.values())
        self.census.append(CallVisit(key, where, callee, inputs, given, complete, result))

    def forward_figure(self) -> ForwardFigure:
        """The census of the model just run, judged now that its input is settled."""
        figure = ForwardFigure()
        sites: dict = {}
        made = set()  # the tensors counted calls gave
        for visit in self.census or ():
            sites.setdefault(visit.key, []).append(visit)
            made.update(id(t) for t in _tensors_in(visit.result))
        seen_reasons = set()
        for visits in sites.values():
            figure.calls += 1
            unknown = next((v for v in visits if not has_shape(v.result)), None)
            if unknown is None:
                figure.known += 1
                continue
            reason = self._loss_reason(unknown, made)
            figure.reasons.append(reason or "after a shape lost earlier")
            if reason is not None and (id(unknown.node), reason) not in seen_reasons:
                seen_reasons.add((id(unknown.node), reason))
                figure.lost.append(LostShape(unknown.node, call_text(unknown.node), reason))
        return figure

    def _loss_reason(self, visit: CallVisit, made: set) -> Optional[str]:
        """Why ``visit`` gave no shape; None when it only passed on a shape lost before it (or
        lost inside a module's own forward, where the call that lost it is counted). ``made``:
        the ids of the tensors counted calls gave."""
        callee = visit.callee
        unknown = _unknown_callee(callee, visit.node)  # the first cause, whatever it got
        if unknown is not None:
            return unknown
        if any(t.lazy is not None and not t.lazy.settled for t in visit.inputs):
            return _INPUT_NOT_SIZED
        if isinstance(callee, Module) and visit.args and not isinstance(
                visit.args[0], (Tensor, tuple, list, ListValue)):
            return None  # not given a tensor at all: a value lost before it (UNKNOWN)
        lost = [t for t in visit.inputs if not has_shape(t)]
        if lost:  # passed on from a counted call, or lost between calls
            return None if any(id(t) in made for t in lost) else _LOST_BETWEEN
        if isinstance(callee, OpaqueModule):
            return f"{short_name(callee.qualname)} not modelled"
        if isinstance(callee, Layer):
            if any(plain(v) is UNKNOWN for v in callee.bound.values()):
                return f"{callee.kind.name}: an argument is not known"
            return f"{callee.kind.name}: no shape rule for this input"
        if isinstance(callee, UserModule):
            if callee.cls is not None and callee.cls.method("forward") is None \
                    and not callee.cls.container:
                return f"{callee.type_name} has no forward"
            return None
        if isinstance(callee, Container):
            if any(not isinstance(item, Module) for _, item in callee.items):
                return f"an item of {callee.kind_name} {callee_text(visit.node)} is not known"
            return None
        if isinstance(callee, TensorMethod):
            return self._function_reason(f"Tensor.{callee.name}",
                                         modelled_method(callee.name), visit)
        if isinstance(callee, Qualified) and callee.name in _MODULE_RUNNERS:
            return None  # the module's own calls are counted
        if isinstance(callee, Qualified):
            return self._function_reason(display_name(callee.name),
                                         modelled_function(callee.name), visit)
        return None

    def _function_reason(self, name: str, modelled: bool, visit: CallVisit) -> str:
        if not modelled:
            return f"{name} not modelled"
        if not visit.complete or any(plain(a) is UNKNOWN for a in visit.args):
            return f"{name}: an argument is a value computed at run time"
        return f"{name}: no shape rule for these arguments"


def short_name(qualname: str) -> str:
    """How code usually spells a torch name: ``nn.LSTM``, ``F.unfold``, ``torch.stack``."""
    if qualname.startswith("torch.nn.") and not qualname.startswith("torch.nn.functional."):
        return qualname[len("torch."):]
    return display_name(qualname)


def _counted(callee) -> bool:
    """Calls whose result is a tensor: modules (not ModuleList / ModuleDict, which have no
    forward), tensor methods but size() and the like, library functions, callables not known.
    The project's own functions are not counted (the calls inside them are), nor Python's
    builtins, classes and the methods of lists, dicts and modules (``.to()``)."""
    if isinstance(callee, Container):
        return callee.kind_name == "Sequential"
    if isinstance(callee, TensorMethod):
        return callee.name not in _NOT_TENSOR_RESULTS
    return not isinstance(callee, _PYTHON_CALLABLES)


def has_shape(result) -> bool:
    """A tensor whose every size is known (a number or a formula), or a tuple of results that
    all have one."""
    if isinstance(result, Tensor):
        return result.shape is not None and None not in result.shape
    if isinstance(result, (tuple, list)) and result:
        return all(has_shape(item) or item is None for item in result) \
            and any(item is not None for item in result)
    return False


def _unknown_callee(callee, node) -> Optional[str]:
    """Why the thing called is not known, if it is not: nothing it is given can come through."""
    if isinstance(callee, (Module, TensorMethod, Qualified)):
        return None
    if isinstance(callee, SYMBOLIC):
        return f"{callee_text(node)} comes from a constructor argument the model was built " \
               f"without"
    return f"{callee_text(node)} is not known (built by code the analysis does not follow)"


def _tensors_in(value) -> list:
    """The tensors of a value, in tuples and lists (``torch.cat([a, b])``) too."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, ListValue):
        value = value.items or []
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors_in(item)]
    return []


def callee_text(node) -> str:
    """``self.lstm`` for the call ``self.lstm(x)``."""
    func = node.func if isinstance(node, cst.Call) else node
    text = _CODE.code_for_node(func)
    return text if len(text) <= 40 else text[:37] + "..."


def call_text(node) -> str:
    return f"{callee_text(node)}(...)" if isinstance(node, cst.Call) else callee_text(node)
