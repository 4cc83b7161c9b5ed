"""Fixes: when a finding's proposed change is certain (``proposals``), and applying fixes to a
source text (``apply``: ``fix_source`` loops analyse + apply until nothing changes)."""

from conv_lint.fixes.apply import apply_fixes, fix_source, split_lines

__all__ = ["apply_fixes", "fix_source", "split_lines"]
