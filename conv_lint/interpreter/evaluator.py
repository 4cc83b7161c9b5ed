"""The Python evaluator: statements, expressions, calls and globals, knowing nothing of torch.

Values are plain Python values, UNKNOWN, or the classes in ``values``; anything the evaluator
does not understand evaluates to UNKNOWN, and nothing unknown ever produces a report. What it
has no rule for goes to the extension points below, which torch's semantics (``modules``,
``forward``) override; their defaults are what plain Python code without torch would give.
"""

from __future__ import annotations

from conv_lint.interpreter.callables import UNHANDLED
from conv_lint.interpreter.calls import Calls
from conv_lint.interpreter.definitions import Definitions
from conv_lint.interpreter.expressions import Expressions
from conv_lint.interpreter.statements import Statements
from conv_lint.interpreter.values import UNKNOWN


class Evaluator(Calls, Expressions, Statements, Definitions):
    """Python semantics; the extension points are the methods of this class."""

    def _other_attribute(self, base, attr: str):
        """``base.attr`` for a value without a Python rule here (a module, a tensor)."""
        return UNKNOWN

    def _tensor_index(self, tensor, node, frame):
        """``tensor[...]``."""
        return UNKNOWN

    def _tensor_binary(self, op: str, left, right, node):
        """An operator with a tensor on either side."""
        return UNKNOWN

    def _call_other(self, callee, args, kwargs, complete, node, frame):
        """A call of a value without a Python rule here; UNHANDLED leaves it to the evaluator."""
        return UNHANDLED

    def _call_library(self, name: str, args, kwargs, complete, node, frame):
        """A call of an imported name that no module of the project defines."""
        return self._unfollowed_call(args)

    def _init_library_base(self, module, base: str, args, complete: bool, kwargs=None):
        """``super().__init__(...)`` in a subclass of the library class ``base``."""
        return None

    def _observe_call(self, callee, args, kwargs, complete: bool, result, node) -> None:
        """Every call made by forward code, once evaluated (the forward census)."""

    def _unfollowed_call(self, args):
        """What a call the analysis does not follow gives."""
        return UNKNOWN
