"""Applying the fixes findings carry: plain text edits on the source, nothing else touched."""

from __future__ import annotations

from typing import Iterable


def apply_fixes(source: str, findings: Iterable) -> str:
    """``source`` with the edits of every finding's fix applied.

    Edits are applied from the end of the file backwards so earlier spans keep their offsets; an
    edit overlapping one already taken is dropped (with its whole fix), so the result never mixes
    two fixes of the same text. Fixing the fixed source again finds nothing to change."""
    lines = source.splitlines(keepends=True)
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
