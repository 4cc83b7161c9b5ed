"""Well-known building blocks of libraries people use as layers, as data.

Each block is a simplified stand-in (a stub) written as plain nn.Module code the interpreter
already follows, in a ``.stub`` file of this package, parsed lazily once per process. A stub
builds the same submodules under the same names as the real block, with the same size rules;
tests/test_known.py checks each against the real library's code under torch.

Stub files bind ``nn``, ``F`` and ``torch`` without importing them (PRESET), and never import
anything else: a name they do not define is unknown, which keeps what it touches silent.
"""

from __future__ import annotations

import os

from typing import Optional

import libcst as cst

from conv_lint.records import record

PRESET = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch"}


@record(frozen=True)
class Stub:
    """Where a well-known block's stand-in is defined."""

    file: str  # in this package: "torchvision.stub"
    name: str  # the class or function defined there


def _names(file: str, table: dict) -> dict:
    return {qualname: Stub(file, name) for qualname, name in table.items()}


_TV_MISC = "torchvision.ops.misc."
_TIMM = "timm.layers."
KNOWN: dict[str, Stub] = {
    **_names("torchvision.stub", {
        _TV_MISC + "ConvNormActivation": "ConvNormActivation",
        _TV_MISC + "Conv2dNormActivation": "Conv2dNormActivation",
        _TV_MISC + "Conv3dNormActivation": "Conv3dNormActivation",
        _TV_MISC + "SqueezeExcitation": "SqueezeExcitation",
        "torchvision.ops.Conv2dNormActivation": "Conv2dNormActivation",
        "torchvision.ops.Conv3dNormActivation": "Conv3dNormActivation",
        "torchvision.ops.SqueezeExcitation": "SqueezeExcitation",
    }),
    **_names("timm.stub", {
        _TIMM + "ConvNormAct": "ConvNormAct",
        _TIMM + "ConvBnAct": "ConvNormAct",
        _TIMM + "ConvNormActAa": "ConvNormAct",
        _TIMM + "conv_bn_act.ConvNormAct": "ConvNormAct",
        _TIMM + "conv_bn_act.ConvBnAct": "ConvNormAct",
        _TIMM + "create_conv2d": "create_conv2d",
        _TIMM + "create_conv2d.create_conv2d": "create_conv2d",
        _TIMM + "get_padding": "get_padding",
        _TIMM + "padding.get_padding": "get_padding",
        _TIMM + "BatchNormAct2d": "BatchNormAct2d",
        _TIMM + "norm_act.BatchNormAct2d": "BatchNormAct2d",
    }),
}
# Blocks whose call sites count as conv layers for `conv-lint stats` (they build a conv).
CONV_BLOCKS = frozenset(
    qualname for qualname, stub in KNOWN.items()
    if stub.name in ("ConvNormActivation", "Conv2dNormActivation", "Conv3dNormActivation",
                     "ConvNormAct", "create_conv2d")
)

_MODULES: dict[str, Optional[cst.Module]] = {}


def stub_module(file: str) -> Optional[cst.Module]:
    """The parsed stub file (once per process)."""
    if file not in _MODULES:
        try:
            with open(os.path.join(os.path.dirname(__file__), file), encoding="utf-8") as handle:
                _MODULES[file] = cst.parse_module(handle.read())
        except (OSError, cst.ParserSyntaxError):
            _MODULES[file] = None
    return _MODULES[file]
