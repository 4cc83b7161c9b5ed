"""The file's own imports decide what a name means (no QualifiedNameProvider)."""

import libcst as cst
import pytest

from conv_lint.source.imports import ImportMap

SOURCE = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import nn as tnn
from torch.nn import Conv2d, Module as Base
from torch.nn.modules.conv import Conv1d
from collections import OrderedDict
from .blocks import ConvBnAct
try:
    from torch.nn import GELU as Act
except ImportError:
    Act = None
"""


@pytest.mark.parametrize("expr, qualname", [
    ("nn.Conv2d", "torch.nn.Conv2d"),
    ("tnn.BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("torch.nn.Linear", "torch.nn.Linear"),
    ("Conv2d", "torch.nn.Conv2d"),
    ("Base", "torch.nn.Module"),
    ("Conv1d", "torch.nn.Conv1d"),
    ("F.max_pool2d", "torch.nn.functional.max_pool2d"),
    ("torch.flatten", "torch.flatten"),
    ("torch.concat", "torch.cat"),
    ("OrderedDict", "collections.OrderedDict"),
    ("Act", "torch.nn.GELU"),
])
def test_names_resolve_through_the_files_imports(expr, qualname):
    imports = ImportMap(cst.parse_module(SOURCE))
    assert imports.resolve(cst.parse_expression(expr)) == qualname


@pytest.mark.parametrize("expr", ["ConvBnAct", "Sequential", "x.view", "foo()"])
def test_names_not_imported_do_not_resolve(expr):
    imports = ImportMap(cst.parse_module(SOURCE))
    assert imports.resolve(cst.parse_expression(expr)) is None
