"""The linted file's project: where its sibling modules are on disk (read, never imported).

``from .blocks import ConvBnAct``, ``from mypkg.layers import X`` and ``import mypkg.layers as L``
name modules of the same project. The top package root is found by walking up from the linted
file while ``__init__.py`` exists; ``mypkg.layers`` is then ``root/mypkg/layers.py`` or
``root/mypkg/layers/__init__.py``.
"""

from __future__ import annotations

import os
from typing import Optional

# The packages a project may not shadow: their names are never looked for on disk.
_FOREIGN = ("torch", "torchvision.transforms", "numpy", "math", "collections", "typing",
            "functools", "itertools", "dataclasses")


class Project:
    """Where the linted file sits: the directory above its top package, and its package name."""

    def __init__(self, filename: str) -> None:
        self.root: Optional[str] = None
        self.package: Optional[str] = None  # the linted file's package ("" at the root)
        self._paths: dict[str, Optional[str]] = {}
        if not filename or filename.startswith("<") or not os.path.isfile(filename):
            return  # <stdin>: no siblings
        directory = os.path.dirname(os.path.abspath(filename))
        parts: list[str] = []
        while os.path.isfile(os.path.join(directory, "__init__.py")):
            parts.insert(0, os.path.basename(directory))
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        self.root = directory
        self.package = ".".join(parts)

    def module_path(self, dotted: str) -> Optional[str]:
        """The file of module ``dotted`` in this project, if there is one."""
        if self.root is None or not dotted or is_foreign(dotted):
            return None
        if dotted not in self._paths:
            base = os.path.join(self.root, *dotted.split("."))
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.isfile(candidate):
                    found = candidate
                    break
            self._paths[dotted] = found
        return self._paths[dotted]

    def package_of(self, dotted: str) -> str:
        """The package a module's relative imports start from (itself, for an __init__.py)."""
        path = self.module_path(dotted)
        if path is not None and os.path.basename(path) == "__init__.py":
            return dotted
        return dotted.rpartition(".")[0]


def is_foreign(dotted: str) -> bool:
    """A module of a package the project may not shadow (torch, numpy, the standard library)."""
    return any(dotted == name or dotted.startswith(name + ".") for name in _FOREIGN)
