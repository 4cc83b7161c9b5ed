"""A cheap guard against source that libcst's parser cannot take: very deep expressions.

libcst's native parser is quadratic in the depth of a nested chain (``y + y + ... + y``: 4 s for
2,000 terms, 11 s for 2,900) and past about 10,000 overflows the native stack, a segfault that
kills the host (flake8, an editor) where no ``except`` can catch it. CPython's own parser gives
up near 3,000. Only a long statement can be that deep, so only a file with one (a very long
line, or a long run of bracketed or continued lines) pays for the check: CPython's parse,
which is linear and about ten times cheaper than libcst's, and a walk for the depth of its tree.
"""

from __future__ import annotations

import ast
from typing import Optional

MAX_NESTING = 500  # the deepest syntax tree analysed; real code stays far below it
_LONG_STATEMENT = 1000  # characters of one statement (a line, or a bracketed run of lines)
_OPENING, _CLOSING = "([{", ")]}"


def too_deep(source: str) -> Optional[str]:
    """Why ``source`` must not go to libcst, or None when it may."""
    if not _has_long_statement(source):
        return None
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError):
        return "nesting too deep to analyse"
    except SyntaxError as error:
        if "too many nested" in str(error):
            return "nesting too deep to analyse"
        return None  # libcst judges the syntax (it also knows newer grammar)
    except ValueError:  # null bytes: libcst reports them
        return None
    todo = [(tree, 1)]
    while todo:  # a loop, not recursion: the tree may be deeper than Python's stack
        node, depth = todo.pop()
        if depth > MAX_NESTING:
            return f"nesting deeper than {MAX_NESTING} levels, not analysed"
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def _has_long_statement(source: str) -> bool:
    """A line, or a run of lines inside brackets or after a backslash, of over 1000 characters.

    Brackets are counted naively (strings and comments included): a miscount only makes the
    check run more often, or on a statement that is long anyway."""
    open_brackets, run, continues = 0, 0, False
    for line in source.splitlines():
        run = run + len(line) if open_brackets or continues else len(line)
        if run > _LONG_STATEMENT:
            return True
        continues = line.endswith("\\")
        opened = sum(line.count(char) for char in _OPENING)
        closed = sum(line.count(char) for char in _CLOSING)
        open_brackets = max(open_brackets + opened - closed, 0)
    return False
