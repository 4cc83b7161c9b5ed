"""A function call's frame, the bounds of one analysis, and the two ways evaluation leaves a
block early (a ``return``, or a bound exceeded)."""

from __future__ import annotations

from dataclasses import field
from typing import Optional

from conv_lint.interpreter.classes import ClassInfo
from conv_lint.interpreter.values import UserModule
from conv_lint.records import record

# Bounds that keep pathological input cheap: beyond them the analysis gives up (silently).
MAX_STEPS = 200_000
MAX_DEPTH = 24


class GiveUp(Exception):
    """Raised when a bound is exceeded; the class being analysed is then skipped silently."""


class Return(Exception):
    """A ``return`` (or ``raise``) left the block: the frame's returns hold what it gave."""


@record
class Frame:
    """One function call's locals, and the module and class it runs for."""

    env: dict
    self_module: Optional[UserModule] = None
    cls: Optional[ClassInfo] = None  # for super()
    returns: list = field(default_factory=list)
    in_forward: bool = False

    def with_env(self, env: dict) -> "Frame":
        """A frame for a nested scope (a comprehension): ``env`` as locals, the same self."""
        return Frame(env=env, self_module=self.self_module, cls=self.cls,
                     in_forward=self.in_forward)
