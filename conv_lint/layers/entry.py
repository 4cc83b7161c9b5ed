"""A catalogue entry: a torch signature bound to the :class:`Family` that judges it."""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace
from functools import cached_property
from typing import Optional

from conv_lint.interpreter.values import UNKNOWN
from conv_lint.layers.base import Channels, Family, Shape
from conv_lint.records import record

NO_DEFAULT = inspect.Parameter.empty


def signature_of(text: str) -> inspect.Signature:
    """An inspect.Signature from parameter text as torch writes it: "a, b=1, *, c=True"."""
    spec = ast.parse(f"def f({text}): pass").body[0].args
    kind = inspect.Parameter
    params = []
    positional = spec.posonlyargs + spec.args
    defaults = [NO_DEFAULT] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    for arg, default in zip(positional, defaults):
        params.append(kind(arg.arg, kind.POSITIONAL_OR_KEYWORD, default=_literal(default)))
    if spec.vararg:
        params.append(kind(spec.vararg.arg, kind.VAR_POSITIONAL))
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults):
        params.append(kind(arg.arg, kind.KEYWORD_ONLY,
                           default=NO_DEFAULT if default is None else _literal(default)))
    if spec.kwarg:
        params.append(kind(spec.kwarg.arg, kind.VAR_KEYWORD))
    return inspect.Signature(params)


def _literal(node):
    return node if node is NO_DEFAULT else ast.literal_eval(node)


@record(frozen=True, eq=False)
class LayerType:
    """One catalogue entry: a torch layer class, a torch function or a tensor method."""

    name: str  # "Conv2d": what explain prints as the type
    qualname: str  # "torch.nn.Conv2d"
    parameters: str  # torch's parameter list: "in_channels, out_channels, kernel_size, ..."
    family: Family
    is_call: bool = False  # functions and methods: whatever torch rejects, it rejects at the call
    call: Optional[str] = None  # forward's parameters, for a layer given several tensors or
    # giving a structure (RNNs, attention): Family.forward judges it, not Family.apply

    @cached_property
    def signature(self) -> inspect.Signature:
        """Made when the layer is first met: most files meet a handful of the catalogue's."""
        return signature_of(self.parameters)

    @cached_property
    def call_signature(self) -> Optional[inspect.Signature]:
        return None if self.call is None else signature_of(self.call)

    @property
    def elementwise(self) -> bool:
        return self.family.elementwise

    def type_name(self, bound: dict) -> str:
        """The module's class as torch names it: a lazy layer that has run is the eager one."""
        return self.family.becomes(bound) or self.name

    def materialised(self, bound: dict, shape: Optional[Shape]) -> Optional[dict]:
        """A lazy layer's arguments once a call on ``shape`` fixed its in-size, else None."""
        return None if self.is_call else self.family.materialised(bound, shape)

    def bind(self, args: list, kwargs: dict) -> Optional[dict]:
        """Call arguments by parameter name, defaults filled; None if Python could not bind."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return dict(bound.arguments)

    def check(self, bound: dict) -> list:
        """What torch rejects among the arguments alone: at most one Problem, the first raised."""
        problems = self.family.check(bound)
        if self.is_call:
            problems = [replace(p, when="forward") for p in problems]
        return problems[:1]

    def apply(self, bound: dict, shape: Optional[Shape]) -> tuple:
        """(output shape, problems where torch's forward raises) for a full input shape."""
        if shape is None or self.family.check(bound):
            return None, []
        out, problems = self.family.apply(bound, tuple(shape))
        return out, [replace(p, when="forward") for p in problems[:1]]

    def forward(self, bound: dict, args: list, kwargs: dict) -> tuple:
        """(result, problems where torch's forward raises) of an entry with a call signature;
        tensors among ``args``/``kwargs`` are Shaped (see Family.forward). UNKNOWN if the
        layer cannot be built or Python could not bind the call."""
        if self.call_signature is None or self.family.check(bound):
            return UNKNOWN, []
        try:
            call = self.call_signature.bind(*args, **kwargs)
        except TypeError:
            return UNKNOWN, []
        call.apply_defaults()
        result, problems = self.family.forward(bound, dict(call.arguments))
        return result, [replace(p, when="forward") for p in problems[:1]]

    def params(self, bound: dict) -> Optional[int]:
        """sum(p.numel() for p in module.parameters()), None if unknown or never built."""
        if self.is_call:
            return 0  # a function or method owns no parameters
        if any(p.when == "init" for p in self.family.check(bound)):
            return None
        return self.family.params(bound)

    def parameter_shape(self, bound: dict, name: str) -> Optional[tuple]:
        """``conv.weight.shape`` and the like, when the arguments fix it (see Family)."""
        if self.is_call or any(p.when == "init" for p in self.family.check(bound)):
            return None
        return self.family.parameter_shape(bound, name)

    def in_channels(self, bound: dict) -> Optional[Channels]:
        return self.family.in_channels(bound)

    def out_channels(self, bound: dict) -> Optional[Channels]:
        return self.family.out_channels(bound)

    def demands(self, bound: dict, shape: Optional[Shape]) -> dict:
        """What a full input ``shape`` requires of the size arguments (see Family.demands)."""
        return {} if shape is None else self.family.demands(bound, tuple(shape))
