"""What a design rule reads (one model's forward run) and what it may be configured with."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Iterable, Optional

from conv_lint.options import Options  # noqa: F401  (rules take it from here)
from conv_lint.records import record


@record
class ModelRun:
    """One model's forward, as the design rules see it.

    ``calls`` are the layer and torch-function applications of forward, in execution order,
    each a ``flow.Call`` with its arguments, input and output shapes and the call that fed it.
    Calls made under an ``if`` the interpreter could not decide are left out.
    """

    cls_name: str
    calls: list
    names: dict = field(default_factory=dict)  # id(module) -> named_modules() name
    concrete: bool = False  # an input shape was given: sizes are ints
    # rule code -> its (node, fields) warnings on this run: rules consult the rules below them,
    # and each rule should check a run once, not once per rule above it.
    warnings_by_code: dict = field(default_factory=dict, repr=False, compare=False)

    def warnings(self, rule: "Rule", options: Options) -> list:
        """``rule``'s warnings on this run, checked once; a rule that fails keeps those it gave
        before failing."""
        if rule.code not in self.warnings_by_code:
            found: list = []
            try:
                found.extend(rule.check(self, options))
            except Exception:  # noqa: BLE001 - one rule's bug must not cost the others theirs
                pass
            self.warnings_by_code[rule.code] = found
        return self.warnings_by_code[rule.code]

    def parent(self, call) -> Optional[str]:
        """The name of the module that holds ``call``'s layer ("" for the model itself)."""
        if call.layer is None:
            return None
        name = self.names.get(id(call.layer))
        if name is None:
            return None
        return name.rsplit(".", 1)[0] if "." in name else ""


class Rule:
    """A design rule: subclasses set ``code`` and implement ``check``."""

    code: str = ""
    # Fixit-style examples: source that must stay quiet / must warn (`# expect: CNV2xx` lines).
    VALID: tuple = ()
    INVALID: tuple = ()

    def check(self, run: ModelRun, options: Options) -> Iterable[tuple[Any, dict]]:
        raise NotImplementedError

    def change(self, run: ModelRun, node: Any, fields: dict):
        """The proposals.Change that removes the warning ``check`` yielded as (node, fields), or
        None: most rules offer no fix (codes.py says which do and what they change)."""
        return None

    @staticmethod
    def layer_call(run: ModelRun, node: Any, fields: dict):
        """The call of a layer (not a function) the warning (node, fields) is about, if any."""
        for call in run.calls:
            if call.node is node and call.name == fields.get("layer") and call.layer is not None:
                return call
        return None
