"""einops patterns read as einops 0.8 reads them: ``'b c (h p1) (w p2) -> b (h w) (p1 p2 c)'``.

:func:`parse` answers None wherever einops rejects the pattern itself (a syntax error, an axis
on one side only); a Pattern that is not ``sized`` (a length given for an axis the pattern
does not use, a group with two unknown axes) is rejected too, but after einops checks the
rank. Those are not shape bugs: the result is unknown and nothing is said. What depends on
the input, the rank and the axis sizes, is the families' (``layers/einops.py``).
"""

from __future__ import annotations

from typing import Optional

from conv_lint.records import record

ELLIPSIS = "…"  # `...` stands as one character, as einops replaces it
REDUCTIONS = ("min", "max", "sum", "mean", "prod", "any", "all")
LAYER_ELLIPSIS_RANKS = 8  # a layer prepares its recipes for an ellipsis of 0 to 7 axes


class PatternError(Exception):
    """Where einops raises on the pattern alone."""


@record(eq=False)
class Anonymous:
    """An anonymous axis (``2`` in ``'b c -> b c 2'``): each one is its own axis, as in einops."""

    value: int

    def __str__(self) -> str:
        return str(self.value)


@record(frozen=True)
class Side:
    """One side of a pattern: its groups (a tuple of axes each, or ELLIPSIS alone) and the
    axes it names (names, ELLIPSIS, Anonymous axes)."""

    groups: tuple
    identifiers: frozenset

    @property
    def ellipsis(self) -> bool:
        return ELLIPSIS in self.identifiers


@record(frozen=True)
class Pattern:
    """A pattern einops accepts for an operation and the names of the lengths given."""

    left: Side
    right: Side
    # False when einops raises on the lengths given once the rank is right (a length for an
    # axis not in the pattern, a group of two unknown axes): a layer raises so at construction
    sized: bool = True

    def ranks(self) -> str:
        """The ranks the pattern takes, as CNV111 words them."""
        others = len(self.left.groups) - self.left.ellipsis
        return f"{others}D or higher" if self.left.ellipsis else f"{others}D"

    def at_rank(self, rank: int, layer: bool = False) -> Optional[tuple]:
        """(left groups, right groups) for an input of ``rank`` axes, an ellipsis spelt out as
        axes of its own; None when einops raises on that rank (a layer knows eight ranks)."""
        if not self.left.ellipsis:
            return (self.left.groups, self.right.groups) if rank == len(self.left.groups) \
                else None
        extra = rank - (len(self.left.groups) - 1)
        if extra < 0 or layer and extra >= LAYER_ELLIPSIS_RANKS:
            return None
        axes = tuple(f"{ELLIPSIS}{i}" for i in range(extra))
        return _spelt(self.left.groups, axes), _spelt(self.right.groups, axes)


def _spelt(groups: tuple, axes: tuple) -> tuple:
    out = []
    for group in groups:
        if group == ELLIPSIS:
            out.extend((axis,) for axis in axes)
        else:
            out.append(tuple(a for axis in group for a in (axes if axis == ELLIPSIS else (axis,))))
    return tuple(out)


def parse(pattern, operation, names: tuple) -> Optional[Pattern]:
    """The pattern of ``rearrange`` / ``repeat`` / a reduction (``"mean"``...) with lengths
    given for ``names``; None where einops rejects it whatever the input."""
    if not isinstance(pattern, str) or not isinstance(operation, str):
        return None
    try:
        return _checked(pattern, operation, names)
    except PatternError:
        return None


def _checked(pattern: str, operation: str, names: tuple) -> Pattern:
    sides = pattern.split("->")
    if len(sides) != 2:
        raise PatternError("one arrow")
    left, right = side(sides[0]), side(sides[1])
    if right.ellipsis and not left.ellipsis or any(
            ELLIPSIS in group for group in left.groups if group != ELLIPSIS):
        raise PatternError("ellipsis")
    anonymous = any(isinstance(a, Anonymous) for a in left.identifiers | right.identifiers)
    new = right.identifiers - left.identifiers
    if operation == "rearrange":
        if anonymous or new or left.identifiers - right.identifiers:
            raise PatternError("axes on one side")
    elif operation == "repeat":
        if left.identifiers - right.identifiers or any(
                not isinstance(a, Anonymous) and a not in names for a in new):
            raise PatternError("repeat's axes")
    elif operation not in REDUCTIONS or new:
        raise PatternError("reduction")
    used = left.identifiers | right.identifiers
    sized = all(valid_name(n) and n in used for n in names) and not any(
        group != ELLIPSIS and sum(1 for a in group if not isinstance(a, Anonymous)
                                  and a not in names) > 1 for group in left.groups)
    return Pattern(left, right, sized)


def side(text: str) -> Side:
    """One side parsed, einops's ParsedExpression: raises PatternError where it raises."""
    if "." in text:
        if text.count("...") != 1 or text.count(".") != 3:
            raise PatternError("dots")
        text = text.replace("...", ELLIPSIS)
    groups: list = []
    identifiers: set = set()
    bracket: Optional[list] = None
    word = ""

    def add(name: str) -> None:
        if name in identifiers:
            raise PatternError("duplicate")
        axis = _axis(name)
        if axis is None:  # a 1: an empty group alone, nothing inside brackets
            if bracket is None:
                groups.append(())
            return
        identifiers.add(axis)
        if bracket is not None:
            bracket.append(axis)
        else:
            groups.append(axis if axis == ELLIPSIS else (axis,))

    for char in text:
        if char in "() ":
            if word:
                add(word)
            word = ""
            if char == "(":
                if bracket is not None:
                    raise PatternError("nested brackets")
                bracket = []
            elif char == ")":
                if bracket is None:
                    raise PatternError("unbalanced")
                groups.append(tuple(bracket))
                bracket = None
        elif char.isalnum() or char in ("_", ELLIPSIS):
            word += char
        else:
            raise PatternError("character")
    if bracket is not None:
        raise PatternError("unbalanced")
    if word:
        add(word)
    return Side(tuple(groups), frozenset(identifiers))


def _axis(name: str):
    """An axis name as it stands, an Anonymous axis for a number, None for 1."""
    if name == ELLIPSIS:
        return name
    if name.isdecimal():
        value = int(name)
        if value == 1:
            return None
        if value < 1:
            raise PatternError("anonymous axis of length 0")
        return Anonymous(value)
    if not valid_name(name):
        raise PatternError("axis name")
    return name


def valid_name(name) -> bool:
    """An axis name einops takes: an identifier that does not start or end with `_`."""
    return isinstance(name, str) and name.isidentifier() and name[0] != "_" and name[-1] != "_"
