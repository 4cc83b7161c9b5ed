"""Applying the fixes findings carry: plain text edits on the source, nothing else touched."""

from __future__ import annotations

import re
from typing import Callable, Iterable

# Lines as Python (and libcst's positions) count them: str.splitlines would also break at form
# feeds and other separators inside a line, shifting every position after them.
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(source: str) -> list[str]:
    """The lines of ``source`` with their endings, numbered as the engine numbers them."""
    return _LINES.findall(source)


def apply_fixes(source: str, findings: Iterable) -> str:
    """``source`` with the edits of every finding's fix applied.

    Edits are applied from the end of the file backwards so earlier spans keep their offsets; an
    edit overlapping one already taken is dropped (with its whole fix), so the result never mixes
    two fixes of the same text. Fixing the fixed source again finds nothing to change."""
    lines = split_lines(source)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + col if 1 <= line <= len(lines) else len(source)

    taken: list = []
    for finding in findings:
        fix = getattr(finding, "fix", None)
        if fix is None:
            continue
        spans = [(offset(e.line, e.col), offset(e.end_line, e.end_col), e.text) for e in fix.edits]
        if any(start < end2 and start2 < end or (start == start2 == end == end2)
               for start, end, _ in spans for start2, end2, _ in taken):
            continue
        taken.extend(spans)
    for start, end, text in sorted(taken, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def fix_source(source: str, analyse: Callable[[str], Iterable], max_rounds: int = 10) -> str:
    """``source`` with fixes applied until none is left: ``analyse(text)`` gives the findings
    of a text. Torch stops at a model's first error and so does the analysis: once an error is
    fixed, the next one shows, so one round is rarely enough. Stops after ``max_rounds``."""
    for _ in range(max_rounds):
        fixed = apply_fixes(source, analyse(source))
        if fixed == source:
            break
        source = fixed
    return source
