"""Input shapes given by the user: option values and `# conv-lint: input-shape=` comments.

Pure text handling, no libcst: the flake8 plugin and the command line call this before (or
without) parsing anything. A directive names the per-sample shape (batch left out) of the
class (or module-level model, ``model = nn.Sequential(...)``) it stands on or above:

    # conv-lint: input-shape=3,32,32
    class LeNet(nn.Module):
        ...

    class Tiny(nn.Module):  # conv-lint: input-shape=1,28,28
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

_MIN_AXES, _MAX_AXES = 1, 4  # L (token ids, features) / C,L / C,H,W / C,D,H,W
_SHAPE_HELP = "input shape must be 1 to 4 positive integers like 3,32,32"

# `# conv-lint: key=value`; the value runs to the end of the comment (or a second `#`).
_DIRECTIVE = re.compile(r"#\s*conv-lint\s*:\s*(?P<key>[\w-]*)\s*(?:=\s*(?P<value>[^#]*))?")
_CLASS = re.compile(r"^\s*class\s+(?P<name>[A-Za-z_]\w*)")
_ASSIGNED = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=[^=]")  # model = nn.Sequential(...)
_DECORATOR = re.compile(r"^\s*@")
_INPUT_SHAPE = "input-shape"


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3, 32, 32"`` -> ``(3, 32, 32)``; ValueError unless 1 to 4 positive integers."""
    parts = [part.strip() for part in text.split(",")]
    digits = all(part.isascii() and part.isdigit() for part in parts)  # no "²", "-1", "3.0"
    if not (digits and _MIN_AXES <= len(parts) <= _MAX_AXES) or any(int(p) == 0 for p in parts):
        raise ValueError(f"{_SHAPE_HELP}, got {text!r}")
    return tuple(int(part) for part in parts)


class Directive(NamedTuple):
    line: int  # 1-based
    key: str  # "input-shape"
    value: str
    target: Optional[str]  # the class it belongs to, if any


def class_input_shapes(source: str) -> dict[str, tuple[int, ...]]:
    """Class name -> its directive's shape. Malformed or stray directives are left out."""
    shapes: dict[str, tuple[int, ...]] = {}
    for directive in directives(source):
        if directive.key == _INPUT_SHAPE and directive.target is not None:
            try:
                shapes[directive.target] = parse_shape(directive.value)
            except ValueError:
                continue
    return shapes


def bad_directives(source: str) -> list[tuple[int, str]]:
    """(1-based line, message) for every directive ``class_input_shapes`` had to ignore."""
    problems: list[tuple[int, str]] = []
    winner: dict[str, int] = {}  # class -> line of its last valid directive, which wins
    for directive in directives(source):
        if directive.key != _INPUT_SHAPE:
            why = f"unknown directive {directive.key!r} (known: {_INPUT_SHAPE})"
        elif directive.target is None:
            why = "it is neither on nor directly above a class statement or a module-level " \
                  "assignment"
        else:
            try:
                parse_shape(directive.value)
            except ValueError as error:
                why = str(error)
            else:
                if directive.target in winner:
                    problems.append((winner[directive.target], _overridden(directive)))
                winner[directive.target] = directive.line
                continue
        problems.append((directive.line, f"conv-lint directive ignored: {why}"))
    return sorted(problems)


def _overridden(directive: Directive) -> str:
    return (f"conv-lint directive ignored: the one on line {directive.line} "
            f"for class {directive.target} wins")


def directives(source: str) -> list[Directive]:
    """Every `# conv-lint:` comment in ``source``, with the class it stands on or above."""
    if "conv-lint" not in source:  # the common case: no directive, no line split
        return []
    lines = source.splitlines()
    found = []
    for index, text in enumerate(lines):
        match = _DIRECTIVE.search(text)
        if match is not None:
            value = (match.group("value") or "").strip()
            target = _target_class(lines, index)
            found.append(Directive(index + 1, match.group("key"), value, target))
    return found


def _target_class(lines: list[str], index: int) -> str | None:
    """The class a directive on ``lines[index]`` belongs to: that line's, or the next one's.

    A directive standing alone may be followed by blank lines, comments and decorators
    (a decorator's arguments may run over several lines) before its class statement.
    """
    own = _CLASS.match(lines[index]) or _ASSIGNED.match(lines[index])
    if own:
        return own.group("name")
    if not lines[index].lstrip().startswith("#"):
        return None  # a trailing comment on some other statement
    depth = 0  # open brackets of a decorator spanning several lines
    for text in lines[index + 1:]:
        stripped = text.strip()
        if depth > 0 or _DECORATOR.match(text):
            depth = max(0, depth + _bracket_balance(stripped))
            continue
        if not stripped or stripped.startswith("#"):
            continue
        match = _CLASS.match(text) or _ASSIGNED.match(text)
        return match.group("name") if match else None
    return None


def _bracket_balance(text: str) -> int:
    code = text.split("#", 1)[0]
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
