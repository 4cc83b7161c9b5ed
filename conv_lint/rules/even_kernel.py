"""CNV202 (placeholder: the rule is being written)."""

from __future__ import annotations

from conv_lint.rules import register
from conv_lint.rules.base import Rule


@register
class Placeholder(Rule):
    code = "CNV202"

    def check(self, run, options):
        return ()
