"""Running a model: a root class built with its defaults and its forward run on an input, a
module-level Sequential run on one, or building code run on its own with every parameter a
symbol (``conv-lint stats``).

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.algebra import sizes
from conv_lint.interpreter.calls import positional_params
from conv_lint.interpreter.classes import ClassInfo
from conv_lint.interpreter.frames import Frame
from conv_lint.interpreter.values import (
    UNKNOWN, Container, LazyInput, Tensor, UserModule, named_modules,
)
from conv_lint.source.jaxtyped import annotated_shape
from conv_lint.source.walk import names_in


class ModelRunner:
    """The two ways the engine and stats start the interpreter."""

    def run_root(self, info: ClassInfo, input_shape: Optional[tuple], forced: bool,
                 tables: bool) -> tuple[Optional[UserModule], Optional[Tensor]]:
        """Build ``info`` with its defaults; run forward on the configured or a symbolic input."""
        self.names, self.rows, self.calls = {}, None, None  # __init__ may probe sizes: not rows
        self.census = None
        self.failed = False
        if self.built is None:
            self.built = {}
        module = self.instantiate(info, [], {}, node=info.node)
        self.names = named_modules(module)
        self.rows = [] if tables else None
        self.census = [] if tables else None
        self.calls = []
        forward = info.method("forward")
        if forward is None:
            return module, None
        params = positional_params(forward)[1:]
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
                                     self_module=module, cls=info.owner("forward"),
                                     in_forward=True)
        return module, output if isinstance(output, Tensor) else None

    def module_level_models(self) -> list[tuple[str, Container]]:
        """``model = nn.Sequential(...)`` at the top level of the linted file (a tutorial's
        model, no class): a model of its own unless a class of the file builds with it."""
        used: set = set()
        for info in self.module_classes():
            used |= names_in(info.node.body)
        return [(name, value) for name, value in self.home.constants.items()
                if isinstance(value, Container) and value.kind_name == "Sequential"
                and name not in used]

    def run_container(self, name: str, container: Container, input_shape: Optional[tuple],
                      forced: bool, tables: bool) -> Optional[Tensor]:
        """Run a module-level Sequential as a model: its layers are named ``model.0``..."""
        self.names = {key: f"{name}.{path}" for key, path in named_modules(container).items()}
        self.rows = [] if tables else None
        self.census = [] if tables else None
        self.calls, self.failed = [], False
        if self.built is None:
            self.built = {}
        if forced and input_shape is not None:
            first = Tensor((sizes.BATCH,) + tuple(input_shape), origin="input")
        else:
            first = Tensor(lazy=LazyInput(input_shape), origin="input")
        self.first_input = first.lazy
        output = self._apply_module(container, [first], {}, None, Frame(env={}, in_forward=True))
        return output if isinstance(output, Tensor) else None

    def run_builder(self, fn: cst.FunctionDef, info: Optional[ClassInfo] = None,
                    instance: Optional[UserModule] = None) -> None:
        """Run building code on its own (`conv-lint stats`): a module-level function, or a method
        of ``instance``. Every parameter, defaults too, becomes a symbol, so that a test on one
        (`if version == "1_0"`) is followed both ways."""
        self.failed = False
        positional = positional_params(fn)[1 if instance is not None else 0:]
        args = ([instance] if instance is not None else []) + [UNKNOWN] * len(positional)
        kwargs = {param.name.value: UNKNOWN for param in fn.params.kwonly_params}
        self._call_function(fn, args, kwargs, self_module=instance, cls=info)


def _given(shape: tuple) -> LazyInput:
    """An input whose full shape is known from the start (a jaxtyping annotation)."""
    lazy = LazyInput()
    lazy.shape, lazy.settled = shape, True
    return lazy
