"""``@record``: conv-lint's dataclasses, cheaper to create at import.

flake8 imports conv-lint on every run over a model file, and dataclasses.dataclass compiles
each generated method on its own: a frozen class's ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__``, five compilations, 0.36 ms. Over conv-lint's 60 classes
that was a third of its import time. A record shares one ``__repr__`` (the text dataclasses
would write), and a ``frozen`` record is hashable by value as a frozen dataclass is but is not
guarded against assignment: nothing assigns to one, and the tests would show it if it did.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, fields
from typing import Any


def record(cls: Any = None, /, *, frozen: bool = False, **options: Any) -> Any:
    """``@dataclass`` with the same options (``frozen`` as described above)."""
    if frozen:
        options.setdefault("unsafe_hash", options.get("eq", True))

    def make(cls: Any) -> Any:
        made = dataclass(cls, repr=False, **options)
        if "__repr__" not in cls.__dict__:
            made.__repr__ = _repr
        return made

    return make if cls is None else make(cls)


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{type(self).__qualname__}({shown})"
