"""A cheap guard against source that libcst's parser cannot take: very deep expressions.

libcst's native parser is quadratic in the depth of a nested chain (``y + y + ... + y``: 4 s for
2,000 terms, 11 s for 2,900) and past about 10,000 overflows the native stack, a segfault that
kills the host (flake8, an editor) where no ``except`` can catch it. CPython's own parser gives
up near 3,000. Every level of an expression takes a token of its own (a bracket, an operator,
a dot, a quote or a keyword), so only a statement with that many of them can be deep: only a
file with one pays for the exact check, CPython's parse (linear, about ten times cheaper than
libcst's) and a walk for the depth of its tree.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

MAX_NESTING = 500  # the deepest syntax tree analysed; real code stays far below it

# Characters that may open a level of an expression tree, and the keywords that may.
_LEVEL_CHARS = "([{+-*/%@&|^~<>=.!:'\""
_WITHOUT_LEVEL_CHARS = str.maketrans("", "", _LEVEL_CHARS)
_LEVEL_WORDS = re.compile(r"\b(?:and|or|not|if|else|for|in|is|lambda|await|yield)\b")
_BLOCK_LEVELS = 2  # tree levels per level of indentation (a block and its statement)
_SLACK = 10  # the module, the statement and the leaves' own levels


def too_deep(source: str) -> Optional[str]:
    """Why ``source`` must not go to libcst, or None when it may."""
    if not may_be_deep(source, MAX_NESTING):
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
    if depth(tree) > MAX_NESTING:
        return f"nesting deeper than {MAX_NESTING} levels, not analysed"
    return None


def depth(tree: ast.AST) -> int:
    """The depth of a syntax tree (a loop, not recursion: it may be deeper than the stack)."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def may_be_deep(source: str, limit: int) -> bool:
    """Could a statement of ``source`` (a line, or a run of lines inside brackets or after a
    backslash) make a tree deeper than ``limit``? Only when it holds about that many tokens
    that open a level. Brackets are counted naively (strings and comments included): a
    miscount only makes a run longer, so the exact check runs more often, never less."""
    budget = limit - _SLACK
    run: list[str] = []
    length, open_brackets, continues = 0, 0, False
    for line in source.splitlines():
        run.append(line)
        length += len(line)
        continues = line.endswith("\\")
        open_brackets = max(open_brackets + line.count("(") + line.count("[") + line.count("{")
                            - line.count(")") - line.count("]") - line.count("}"), 0)
        if open_brackets or continues:
            continue  # the statement goes on
        if length > budget // 2 and _levels(run) > budget:
            return True
        run, length = [], 0
    return length > budget // 2 and _levels(run) > budget


def _levels(run: list[str]) -> int:
    """At most how many levels a run of lines can open: its level tokens, and its indentation."""
    text = "\n".join(run)
    tokens = len(text) - len(text.translate(_WITHOUT_LEVEL_CHARS))
    indent = len(run[0]) - len(run[0].lstrip())
    return tokens + len(_LEVEL_WORDS.findall(text)) + _BLOCK_LEVELS * indent
