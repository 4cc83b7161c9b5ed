"""Classes of the analysed code: their bases, methods and class bodies, and which of them are
torch modules. A class is collected once, with its module (the linted file or one it reads)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.interpreter.scopes import Scope
from conv_lint.layers import LAYERS
from conv_lint.records import record

CONTAINER_BASES = {"torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"}
MODULE_BASES = CONTAINER_BASES | {
    "torch.nn.Module", "pytorch_lightning.LightningModule", "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
}


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

    @property
    def layer_base(self) -> Optional[str]:
        """"torch.nn.Conv2d" for a subclass of a catalogue layer (timm's StdConv2d)."""
        for info in self.mro():
            for base in info.bases:
                if isinstance(base, str) and base in LAYERS:
                    return base
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

    def owner(self, method: str) -> Optional["ClassInfo"]:
        """The class of the MRO that defines ``method`` (what super() inside it starts from)."""
        for klass in self.mro():
            if method in klass.methods:
                return klass
        return None


def class_info(node: cst.ClassDef) -> ClassInfo:
    """A class statement's methods and class-body assignments; bases are resolved later."""
    methods, assigns = {}, []
    for statement in node.body.body:
        if isinstance(statement, cst.FunctionDef):
            methods[statement.name.value] = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            assigns.extend(small for small in statement.body
                           if isinstance(small, (cst.Assign, cst.AnnAssign)))
    return ClassInfo(node.name.value, node, [], methods, assigns)


def subclasses_module(info: ClassInfo, seen: set) -> bool:
    """Does ``info`` derive from nn.Module (directly, or through the classes it names)?"""
    if info.name in seen:
        return False
    seen.add(info.name)
    for base in info.bases:
        if isinstance(base, ClassInfo):
            if subclasses_module(base, seen):
                return True
        elif base in MODULE_BASES or base in LAYERS:
            return True
    return False


def decorated(fn: cst.FunctionDef, name: str) -> bool:
    """Is ``fn`` decorated with the plain name ``name`` (staticmethod, classmethod)?"""
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == name
               for d in fn.decorators)
