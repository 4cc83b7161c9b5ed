"""Abstract values carried by the interpreter.

Plain Python values (int, float, str, bool, None, tuple) stand for themselves. The classes here
stand for what the interpreter cannot hold as a Python value: tensors with (possibly symbolic)
shapes, modules under construction, and references to same-file code.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Optional

from conv_lint.algebra.symbols import Poly
from conv_lint.records import record


class _Unknown:
    """An argument or value the reader could not resolve. Checks involving it stay silent."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; test `is UNKNOWN` first")


UNKNOWN = _Unknown()


class LazyInput:
    """The shape of a forward() input, fixed by the first layer that needs to know its rank.

    Without a configured input shape, the first Conv2d that receives ``x`` decides that ``x`` is
    (N, C, H, W) with symbolic H and W; every tensor derived elementwise from ``x`` shares this
    cell.
    """

    def __init__(self, candidate: Optional[tuple] = None, suffix: str = "") -> None:
        self.candidate = candidate  # a configured per-sample shape, used if its rank fits
        self.suffix = suffix  # tells the symbols of a second input (H1, W1) from the first's
        self.shape: Optional[tuple] = None
        self.settled = False


@record(eq=False)
class Tensor:
    """A tensor value: its full shape (dim 0 is sizes.BATCH when batched), or None if unknown."""

    own_shape: Optional[tuple] = None
    origin: str = ""  # the layer its channels come from, for messages ("from conv1")
    lazy: Optional[LazyInput] = None
    made_by: Any = None  # the flow.Call that produced it directly, if any

    @property
    def shape(self) -> Optional[tuple]:
        if self.lazy is not None:
            return self.lazy.shape if self.lazy.settled else None
        return self.own_shape

    def derived(self, origin: Optional[str] = None) -> "Tensor":
        """A tensor with the same shape (elementwise ops), sharing an unsettled input cell."""
        if self.lazy is not None and not self.lazy.settled:
            return Tensor(lazy=self.lazy, origin=self.origin if origin is None else origin)
        return Tensor(self.shape, self.origin if origin is None else origin)


@record(eq=False)
class Module:
    """Anything torch registers as a submodule: a catalogue layer, a container or a user class."""

    node: Any = None  # the constructor call, for its line

    type_name = "Module"

    def children(self) -> list[tuple[str, "Module"]]:
        return []


@record(eq=False)
class Layer(Module):
    """An instance of a catalogue layer (layers.LayerType) with its bound arguments."""

    kind: Any = None
    bound: dict = field(default_factory=dict)

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return self.kind.type_name(self.bound)


@record(eq=False)
class Container(Module):
    """nn.Sequential, nn.ModuleList or nn.ModuleDict: named children in order."""

    kind_name: str = "Sequential"
    items: list = field(default_factory=list)  # [(key, Module | UNKNOWN)]

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return self.kind_name

    def children(self) -> list[tuple[str, Module]]:
        return [(key, item) for key, item in self.items if isinstance(item, Module)]


@record(eq=False)
class UserModule(Module):
    """An instance of a same-file nn.Module subclass, built by interpreting its __init__."""

    cls: Any = None  # interpret.ClassInfo
    attrs: dict = field(default_factory=dict)
    parameters: int = 0  # elements of nn.Parameter attributes; None if unknown
    complete: bool = True  # False when __init__ did something we could not follow
    layer: Optional[Layer] = None  # a subclass of a catalogue layer: that layer, as built

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return self.cls.name

    def children(self) -> list[tuple[str, Module]]:
        return [(key, value) for key, value in self.attrs.items() if isinstance(value, Module)]


@record(eq=False)
class OpaqueModule(Module):
    """An instance of a library's module class the analysis does not model (a layer outside
    the catalogue, a block of a package it cannot read): registered and called like any
    module, its output shape and its parameters unknown."""

    qualname: str = ""  # "torch.nn.LSTM", "timm.layers.DropPath"

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return self.qualname.rsplit(".", 1)[-1]


@record(eq=False)
class ListValue:
    """A Python list being built (``layers = []; layers.append(...)``): mutable, unlike tuples."""

    items: list = field(default_factory=list)


@record(frozen=True)
class FunctionRef:
    """A same-file function or method (``conv3x3``, ``self._make_layer``)."""

    node: Any  # cst.FunctionDef
    bound_self: Any = None  # the UserModule for a method


@record(frozen=True)
class ClassRef:
    """A same-file nn.Module subclass, or a catalogue layer type, used as a value."""

    target: Any  # interpret.ClassInfo or layers.LayerType


def named_modules(root: Module) -> dict[int, str]:
    """id(module) -> its name as torch's named_modules() gives it (first path wins, root
    excluded)."""
    names: dict[int, str] = {id(root): ""}

    def walk(module: Module, prefix: str) -> None:
        for key, child in module.children():
            if id(child) not in names:
                names[id(child)] = prefix + key
                walk(child, prefix + key + ".")

    walk(root, "")
    del names[id(root)]
    return names


def plain(value):
    """What the layer catalogue sees: Python values, with lists as tuples, the rest UNKNOWN."""
    if isinstance(value, ListValue):
        return UNKNOWN if value.items is None else tuple(plain(v) for v in value.items)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, (int, float, str, type(None), Poly)):
        return value  # a Poly is read as a channel count only (layers.base._channels)
    if isinstance(value, Tensor):
        return value
    return UNKNOWN


def is_symbolic(value) -> bool:
    """Is ``value`` (or a part of a tuple) a symbolic size, such as an unresolved constructor
    parameter's channels? Concrete ints and UNKNOWN are not."""
    if isinstance(value, tuple):
        return any(is_symbolic(v) for v in value)
    return isinstance(value, Poly)
