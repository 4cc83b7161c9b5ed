"""Design rules (CNV2xx): models that run but are probably not what was meant.

Each rule is one module with one class: its code, its examples and a ``check`` that reads one
model's forward run (``ModelRun``) and yields ``(node, fields)`` for the code's message
template. The interpreter never calls rules; the engine does, after each model's run.
"""

from __future__ import annotations

from conv_lint.rules.base import ModelRun, Options, Rule

RULES: list[Rule] = []


def register(rule_class: type) -> type:
    RULES.append(rule_class())
    return rule_class


# Rule modules register themselves when imported; list each one here.
_RULE_MODULES = (
    "padding_size", "even_kernel", "early_stride", "stride_kernel", "floor_drop",
    "bias_before_norm",
)
for _module in _RULE_MODULES:
    __import__(f"conv_lint.rules.{_module}")

__all__ = ["ModelRun", "Options", "Rule", "RULES", "register"]
