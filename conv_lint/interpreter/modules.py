"""torch.nn's module semantics: building modules (a user class's ``__init__``, a catalogue
layer's constructor, Sequential / ModuleList / ModuleDict and their subclasses), registering
children, and what an attribute of a module, a container or a layer is.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`, overriding the evaluator's
extension points; ``built`` and ``constructions`` record what each constructor call built.
"""

from __future__ import annotations

import sys
from typing import Any

from conv_lint import layers
from conv_lint.interpreter.callables import UNHANDLED
from conv_lint.layers.convolution import Conv
from conv_lint.interpreter.classes import CONTAINER_BASES, ClassInfo, decorated
from conv_lint.interpreter.forward import (
    TENSOR_FACTORIES, Parameter, factory_tensor, raised_at_construction, unknown_result,
)
from conv_lint.interpreter.product_calls import PRODUCT_FUNCTIONS
from conv_lint.interpreter.pyvalues import as_sequence, iterated
from conv_lint.interpreter.tensor_calls import TUPLE_RESULTS, NamedTensors, TensorMethod
from conv_lint.interpreter.values import (
    UNKNOWN, ClassRef, Container, FunctionRef, Layer, ListValue, Module, OpaqueModule, Tensor,
    UserModule, plain,
)
from conv_lint.records import record

# torch functions that keep their first argument's shape (elementwise maths, *_like factories).
_TORCH_SAME_SHAPE = {
    f"torch.{name}" for name in (
        "exp", "log", "sqrt", "rsqrt", "abs", "neg", "sin", "cos", "clamp", "clip", "sign",
        "zeros_like", "ones_like", "randn_like", "rand_like", "empty_like", "full_like",
        "dropout", "erf", "square", "pow", "log1p", "expm1", "reciprocal",
    )
}
# Module methods that set an attribute by name: a submodule, a buffer (a tensor, not counted
# among the parameters) or a parameter.
_REGISTERING = ("add_module", "register_module", "register_buffer", "register_parameter")
# nn.Module methods that return the module itself: nn.Linear(400, 120).to(device)
_RETURNING_SELF = frozenset({"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train",
                             "eval", "requires_grad_", "apply", "type", "share_memory"})
# The arguments torch's convolutions keep as one int per axis (_pair, _triple).
_CONV_TUPLES = frozenset({"kernel_size", "stride", "padding", "dilation", "output_padding"})
_TORCH_BINARY = {"torch.add": "Add", "torch.sub": "Subtract", "torch.mul": "Multiply",
                 "torch.div": "Divide", "torch.maximum": "Combine", "torch.minimum": "Combine"}
# Packages whose classes are not torch modules: a class of theirs built in __init__ is data.
_NOT_MODULE_PACKAGES = frozenset(sys.stdlib_module_names) | {
    "numpy", "scipy", "pandas", "PIL", "cv2", "sklearn", "matplotlib", "omegaconf", "yaml"}


class ModuleSemantics:
    """Modules built and read; torch's functions called."""

    def instantiate(self, info: ClassInfo, args: list, kwargs: dict, node=None) -> UserModule:
        module = UserModule(node=node, cls=info)
        init = info.method("__init__")
        if init is not None:
            self._call_function(init, [module] + list(args), kwargs, self_module=module,
                                cls=info.owner("__init__"))
        elif info.layer_base is not None:  # the layer's own __init__: StdConv2d(3, 16, 3)
            self._build_layer_base(module, info.layer_base, args, kwargs, True)
        return module

    def _build_layer_base(self, module: UserModule, base: str, args, kwargs, direct: bool):
        """The catalogue layer a subclass of one is. Built by the class's own ``__init__``
        (not ``direct``), its arguments are not the call's: no fix edits that call."""
        layer = self._construct(layers.LAYERS[base], args, kwargs or {}, module.node,
                                register=direct)
        module.layer = layer if isinstance(layer, Layer) else None

    def _other_attribute(self, base, attr: str):
        if isinstance(base, UserModule):
            return self._module_attr(base, attr)
        if isinstance(base, Tensor):
            return self._tensor_attribute(base, attr)
        if isinstance(base, NamedTensors) and attr in base.names:  # torch.max(x, 1).values
            return base[base.names.index(attr)]
        if isinstance(base, (Container, Layer, OpaqueModule)) and attr in _RETURNING_SELF:
            return ReturnsSelf(base)
        if isinstance(base, Container):
            return ContainerMethod(base, attr)
        if isinstance(base, Layer):
            if attr == "bias" and base.bound and base.bound.get("bias") is False:
                return None  # torch's layers set no bias to None
            if attr in ("weight", "bias", "running_mean", "running_var"):
                shape = base.kind.parameter_shape(base.bound, attr) if base.bound else None
                return Tensor(shape) if shape is not None else Tensor()  # fuse(): w.size(1)
            value = base.bound.get(attr, UNKNOWN) if base.bound else UNKNOWN
            if attr in _CONV_TUPLES and type(value) is int and isinstance(base.kind.family, Conv):
                return (value,) * base.kind.family.rank  # nn.Conv2d(3, 8, 3).stride == (1, 1)
            return value if not isinstance(value, ListValue) else UNKNOWN
        return UNKNOWN

    def _module_attr(self, module: UserModule, attr: str):
        if attr in module.attrs:
            value = module.attrs[attr]
            if isinstance(value, Parameter) and isinstance(value.data, Tensor):
                return value.data  # a parameter read is its tensor: self.gamma * x
            return value
        if attr == "_modules":  # c, bn = self._modules.values(): the children, in order
            return dict(module.children())
        if attr in _REGISTERING or (
                module.cls is not None and module.cls.container and not module.cls.method(attr)
                and attr in ("append", "extend", "insert", "update")):
            return ContainerMethod(module, attr)
        if attr in _RETURNING_SELF and (module.cls is None or module.cls.method(attr) is None):
            return ReturnsSelf(module)
        if module.cls is None:
            return UNKNOWN
        method = module.cls.method(attr)
        if method is not None:
            if decorated(method, "staticmethod"):
                return FunctionRef(method)
            if decorated(method, "classmethod"):
                return UNKNOWN  # bound to the class, not to the module: not followed
            return FunctionRef(method, bound_self=module)
        value = self._class_attr(module.cls, attr)
        if value is UNKNOWN and module.layer is not None:  # self.weight, self.stride
            value = self._other_attribute(module.layer, attr)
            if attr == "normalized_shape" and type(value) is int:
                return (value,)  # torch keeps it as a tuple
        return value

    def _call_other(self, callee, args, kwargs, complete, node, frame):
        if isinstance(callee, Module):
            return self._apply_module(callee, args, kwargs, node, frame)
        if isinstance(callee, TensorMethod):
            return self._tensor_method(callee, args, kwargs, complete, node)
        if isinstance(callee, (ContainerMethod, ReturnsSelf)):
            return callee.call(args, complete)
        if complete and isinstance(callee, ClassRef):
            target = callee.target
            if isinstance(target, ClassInfo) and target.is_module:
                return self.instantiate(target, args, kwargs, node=node)
            if isinstance(target, layers.LayerType):
                return self._construct(target, args, kwargs, node)
        return UNHANDLED

    def _init_library_base(self, module: UserModule, base: str, args, complete: bool,
                           kwargs=None):
        """super().__init__(*layers) in a subclass of nn.Sequential / ModuleList / ModuleDict;
        super().__init__(in_channels, ...) in a subclass of a catalogue layer."""
        if base in layers.LAYERS and complete:
            self._build_layer_base(module, base, args, kwargs, False)
        if base not in CONTAINER_BASES:
            return None
        built = self._container(base, args, complete, None) if "Dict" not in base \
            else self._module_dict(args, complete, None)
        if not isinstance(built, Container):
            add_child(module, "?", UNKNOWN)
            return None
        for key, item in built.items:
            add_child(module, key, item)
        return None

    def _call_library(self, name: str, args, kwargs, complete, node, frame):
        if name in ("torch.nn.Sequential", "torch.nn.ModuleList"):
            return self._container(name, args, complete, node)
        if name == "torch.nn.ModuleDict":
            return self._module_dict(args, complete, node)
        if name.startswith("torch.") and name[6:] in TUPLE_RESULTS and args \
                and isinstance(args[0], Tensor):  # torch.max(x, 1), torch.chunk(x, 2, dim=1)
            return self._tuple_result(args[0], name[6:], args[1:], kwargs, complete, node)
        if name in PRODUCT_FUNCTIONS:
            return self._product_function(name, args, kwargs, complete, node)
        if name in ("torch.cat", "torch.stack"):
            return self._cat(name, args, kwargs, node) if complete else Tensor()
        if name == "torch.nn.parallel.data_parallel" and args and isinstance(args[0], Module):
            inputs = args[1] if len(args) > 1 else kwargs.get("inputs", UNKNOWN)
            inputs = list(inputs) if isinstance(inputs, tuple) else [inputs]
            return self._apply_module(args[0], inputs, {}, node, frame)  # module(*inputs)
        if name == "torch.nn.Parameter":
            return Parameter(args[0] if args else kwargs.get("data", UNKNOWN))
        if name in TENSOR_FACTORIES:  # torch.zeros(1, dim, *img_size): all sizes must be known
            return factory_tensor(args, kwargs) if complete else Tensor()
        if name in _TORCH_BINARY and len(args) == 2 and complete:
            return self._binary(_TORCH_BINARY[name], args[0], args[1], node, frame)
        if name in _TORCH_SAME_SHAPE and args and isinstance(args[0], Tensor):
            return args[0].derived()
        kind = layers.lookup(name)
        if kind is None:
            if not frame.in_forward and is_module_class_name(name):
                return OpaqueModule(node=node, qualname=name)
            return unknown_result(args)
        if name in layers.LAYERS:
            return self._construct(kind, args, kwargs, node) if complete else UNKNOWN
        return self._apply_function(kind, args, kwargs, complete, node, name)

    def _construct(self, kind, args, kwargs, node, register: bool = True):
        """A catalogue layer built; ``register``: recorded as built by ``node`` (for fixes)."""
        given = (lambda a: a if isinstance(a, Layer) else plain(a)) if kind.family.takes_layers \
            else plain  # TransformerEncoder(layer, 6) reads its layer's arguments
        bound = kind.bind(list(map(given, args)), {k: given(v) for k, v in kwargs.items()})
        if bound is None:
            return UNKNOWN
        layer = Layer(node=node, kind=kind, bound=bound)
        if self.built is not None and register:
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


def is_module_class_name(qualname: str) -> bool:
    """Could ``qualname`` be a library's nn.Module class? A capitalised name in torch.nn or in
    a package that is not the standard library's or a known non-torch one (numpy, PIL...)."""
    package, _, last = qualname.rpartition(".")
    if not last[:1].isupper() or not package:
        return False
    root = package.split(".", 1)[0]
    if root == "torch":
        return package.startswith("torch.nn")
    return root not in _NOT_MODULE_PACKAGES


def modelled_function(qualname: str) -> bool:
    """Does the analysis have a shape rule for the library function ``qualname``?"""
    return (layers.lookup(qualname) is not None or qualname in TENSOR_FACTORIES
            or qualname in _TORCH_BINARY or qualname in _TORCH_SAME_SHAPE
            or qualname in ("torch.cat", "torch.stack", "torch.nn.parallel.data_parallel")
            or qualname in PRODUCT_FUNCTIONS
            or qualname.startswith("torch.") and qualname[6:] in TUPLE_RESULTS)


@record(eq=False)
class ContainerMethod:
    """A method that adds submodules, buffers or parameters (Sequential.append, add_module,
    register_buffer...): mutations we follow."""

    target: Any  # Container, or UserModule (add_module, or a Sequential/ModuleList subclass)
    name: str

    def call(self, args, complete):
        name = self.name
        if name in _REGISTERING and complete and isinstance(args[0] if args else None, str) \
                and (len(args) == 2 or name == "register_buffer" and len(args) == 3):
            add_child(self.target, args[0], args[1])  # a buffer's `persistent` changes nothing
        elif name == "append" and complete and len(args) == 1:
            add_child(self.target, None, args[0])
        elif name == "extend" and complete and len(args) == 1 \
                and as_sequence(iterated(args[0])) is not None:
            for item in as_sequence(iterated(args[0])):
                add_child(self.target, None, item)
        elif name in _REGISTERING or name in ("append", "extend", "insert", "pop", "__setitem__",
                                              "__delitem__", "update", "clear"):
            add_child(self.target, "?", UNKNOWN)  # changed in a way we do not follow
        return None


@record(frozen=True)
class ReturnsSelf:
    """``module.to(device)``, ``.float()``, ``.train()``...: the module itself, unchanged."""

    module: Any

    def call(self, args, complete):
        return self.module


def add_child(target, key, value) -> None:
    """Register ``value`` under ``key`` (None: the next index, as ModuleList.append does)."""
    if isinstance(target, Container):
        target.items.append((str(len(target.items)) if key is None else key, value))
    else:
        index = sum(1 for v in target.attrs.values() if isinstance(v, Module))
        target.attrs[str(index) if key is None else key] = value
