"""A fast read-only walk over a libcst tree.

libcst's ``node.visit(visitor)`` rebuilds (and re-validates) every node it passes, which costs
about as much as the parse itself; reading the fields directly costs a small fraction of it.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import libcst as cst

# Fields that hold only whitespace, comments or punctuation: nothing a reader of the code's
# meaning looks for (names, calls, assignments) is ever under them.
_PUNCTUATION = frozenset({
    "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "semicolon", "colon",
    "first_colon", "second_colon", "equal", "dot", "operator", "posonly_ind", "separator",
    "asynchronous", "relative", "header", "footer", "leading_lines", "lines_after_decorators",
    "empty_lines", "trailing_whitespace", "leading_whitespace", "newline", "comment",
})
_FIELDS: dict[type, tuple[str, ...]] = {}
_IS_NODE: dict[type, bool] = {}  # CSTNode is an ABC: isinstance() on it is a slow Python call


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(kind)
            if not f.name.startswith("whitespace") and f.name not in _PUNCTUATION
        )
    return names


def _is_node(kind: type) -> bool:
    answer = _IS_NODE.get(kind)
    if answer is None:  # not issubclass: the ABC machinery's first check of a class is slow
        answer = _IS_NODE[kind] = cst.CSTNode in kind.__mro__
    return answer


def walk(node: cst.CSTNode, prune: tuple[type, ...] = ()) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it, parents first, in source order.

    A node whose type is one of ``prune`` is given but not entered (a visitor's ``visit_X``
    returning False; like a visitor's dispatch, the type must be exactly X)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if prune and type(current) in prune:
            continue
        children = []
        for name in _fields(type(current)):
            value = getattr(current, name)
            kind = type(value)
            if kind is list or kind is tuple:
                children.extend(v for v in value if _is_node(type(v)))
            elif _is_node(kind):
                children.append(value)
        children.reverse()
        stack.extend(children)


def names_in(node: cst.CSTNode) -> set[str]:
    """The identifiers of every Name under ``node``: ``walk`` without the order and the yields."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is cst.Name:
            found.add(current.value)
            continue
        for name in _fields(kind):
            value = getattr(current, name)
            kind = type(value)
            if kind is list or kind is tuple:
                stack.extend(v for v in value if _is_node(type(v)))
            elif _is_node(kind):
                stack.append(value)
    return found
