"""Python-level values the interpreter evaluates: arithmetic, comparisons, a few builtins.

Every operation answers UNKNOWN rather than guess, and refuses work that could blow up
(huge powers, long ranges).
"""

from __future__ import annotations

import math
import re
from typing import Callable, Optional

from conv_lint.algebra import sizes, symbols
from conv_lint.algebra.symbols import SYMBOLIC, Poly
from conv_lint.interpreter.values import (
    UNKNOWN, ClassRef, Container, FunctionRef, ListValue, Module, Tensor,
)

MAX_UNROLL = 256  # longest loop or sequence the interpreter unrolls
MAX_TEXT = 4096  # longest string it builds (module names, not documents)
# a width or precision of 4 digits or more, or one taken from the arguments (`*`, `{0:{1}}`)
_WIDE_FORMAT = re.compile(r"\d{4,}|\*|\{[^}]*\{")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def literal_number(node, kind: type):
    """The value of an Integer (``kind`` int) or Float (float) node: what its evaluated_value
    gives, without the ast.literal_eval behind it compiling the text each time."""
    try:
        return int(node.value, 0) if kind is int else float(node.value)
    except ValueError:  # a text int()/float() read otherwise: libcst's own answer
        pass
    try:
        return node.evaluated_value
    except (ValueError, SyntaxError):  # past int's digit limit
        return UNKNOWN


def hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def as_sequence(value) -> Optional[list]:
    if isinstance(value, ListValue):
        return None if value.items is None else list(value.items)
    if isinstance(value, (tuple, list)):
        return list(value)
    if isinstance(value, range):
        return list(value) if len(value) <= MAX_UNROLL else None
    return None


def iterated(value):
    """What iterating over ``value`` gives: a container's modules, a dict's keys."""
    if isinstance(value, Container):
        return [item for _, item in value.items]
    if isinstance(value, dict):
        return list(value)
    return value


def truth(value) -> Optional[bool]:
    """bool(value) where the interpreter knows it, else None."""
    if isinstance(value, (Module, ClassRef, FunctionRef)):
        return True
    if isinstance(value, ListValue):
        return None if value.items is None else bool(value.items)
    if isinstance(value, (int, float, str, tuple, dict, type(None))):
        return bool(value)  # a tuple's truth is its length, whatever it holds
    return None  # UNKNOWN, tensors, references


def unary(op: str, value):
    if isinstance(value, Tensor):
        return value.derived()
    if isinstance(value, SYMBOLIC):
        return _known(symbols.negate(value)) if op == "Minus" and isinstance(value, Poly) \
            else UNKNOWN
    if op == "Not":
        return UNKNOWN if value is UNKNOWN or isinstance(value, (Tensor,)) else not value
    if not isinstance(value, (int, float)) or isinstance(value, bool) and op != "Minus":
        return UNKNOWN
    return {"Minus": lambda v: -v, "Plus": lambda v: +v, "BitInvert": lambda v: ~v}.get(
        op, lambda v: UNKNOWN)(value)


_ARITH: dict[str, Callable] = {
    "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
    "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
    "Power": lambda a, b: a ** b, "LeftShift": lambda a, b: a << b,
    "RightShift": lambda a, b: a >> b,
    "BitOr": lambda a, b: a | b, "BitAnd": lambda a, b: a & b,
}


_SIZES = (sizes.Expr, sizes.Product)  # symbolic sizes of the input, read in forward
_BIG = 10 ** 12  # numbers past this are not layer sizes; treat them as unknown, cheaply


def arith(op: str, a, b):
    # concatenations stay short: `t = t + t` in a loop must not double its way out of memory
    if isinstance(a, ListValue) and isinstance(b, ListValue) and op == "Add":
        if a.items is None or b.items is None or len(a.items) + len(b.items) > MAX_UNROLL:
            return UNKNOWN
        return ListValue(a.items + b.items)
    if isinstance(a, tuple) and isinstance(b, tuple) and op == "Add":
        return a + b if len(a) + len(b) <= MAX_UNROLL else UNKNOWN
    if isinstance(a, str) and isinstance(b, str) and op == "Add":
        return a + b if len(a) + len(b) <= MAX_TEXT else UNKNOWN
    if isinstance(a, str) and op == "Modulo" and _formattable(b) and safe_template(a):
        try:  # 'denselayer%d' % (i + 1)
            return bounded_text(a % b)
        except (TypeError, ValueError, KeyError):
            return UNKNOWN
    if op == "Multiply" and is_int(a) and isinstance(b, (tuple, ListValue)):
        a, b = b, a
    if op == "Multiply" and isinstance(a, (tuple, ListValue)) and is_int(b):  # [1] * (n - 1)
        items = as_sequence(a)
        if items is None or len(items) * max(b, 0) > MAX_UNROLL:
            return UNKNOWN
        return ListValue(items * b) if isinstance(a, ListValue) else tuple(items * b)
    if isinstance(a, SYMBOLIC) or isinstance(b, SYMBOLIC):
        return _known(symbols.arith(op, a, b))
    if isinstance(a, _SIZES) and (is_int(b) or isinstance(b, _SIZES)) or \
            isinstance(b, _SIZES) and is_int(a):  # c * h * w of x.size() in forward
        return _known(sizes.size_arith(op, a, b))
    numeric = (int, float)
    if not isinstance(a, numeric) or not isinstance(b, numeric):
        return UNKNOWN
    if abs(a) > _BIG or abs(b) > _BIG or (op in ("Power", "LeftShift") and abs(b) > 64):
        return UNKNOWN
    try:
        return _ARITH[op](a, b)
    except (KeyError, ZeroDivisionError, OverflowError, ValueError, TypeError):
        return UNKNOWN


def _known(value):
    return UNKNOWN if value is None else value


def bounded_text(value: str):
    """``value``, or UNKNOWN past MAX_TEXT characters."""
    return value if len(value) <= MAX_TEXT else UNKNOWN


def safe_template(template: str) -> bool:
    """A format template whose output stays about as long as its text and arguments."""
    return len(template) <= MAX_TEXT and not _WIDE_FORMAT.search(template)


def _formattable(value) -> bool:
    if isinstance(value, tuple):
        return all(_formattable(v) for v in value)
    return isinstance(value, (int, float, str))


def _comparable(value) -> bool:
    if isinstance(value, tuple):
        return all(_comparable(v) for v in value)
    return isinstance(value, (int, float, str, type(None)))


def compare(op: str, a, b):
    if op in ("Is", "IsNot"):
        if any(v is UNKNOWN or isinstance(v, SYMBOLIC) for v in (a, b)):
            return UNKNOWN
        if b is None or a is None:
            same = a is b
            return same if op == "Is" else not same
        return UNKNOWN
    if op in ("In", "NotIn"):
        if isinstance(a, str) and isinstance(b, str):  # 'tiered' in stem_type
            return (a in b) == (op == "In")
        seq = as_sequence(b)
        if seq is None or any(v is UNKNOWN or isinstance(v, SYMBOLIC) for v in [a] + seq):
            return UNKNOWN
        try:
            found = a in seq
        except TypeError:
            return UNKNOWN
        return found if op == "In" else not found
    symbolic = (sizes.Expr, sizes.Product) + SYMBOLIC
    if isinstance(a, symbolic) or isinstance(b, symbolic):
        if op in ("Equal", "NotEqual"):
            if sizes.proven_equal(a, b):
                return op == "Equal"
            if sizes.proven_different(a, b):
                return op == "NotEqual"
        return UNKNOWN
    if not _comparable(a) or not _comparable(b):
        return UNKNOWN
    try:
        return {
            "Equal": a == b, "NotEqual": a != b,
        }[op] if op in ("Equal", "NotEqual") else {
            "LessThan": lambda: a < b, "LessThanEqual": lambda: a <= b,
            "GreaterThan": lambda: a > b, "GreaterThanEqual": lambda: a >= b,
        }[op]()
    except (TypeError, KeyError):
        return UNKNOWN


BUILTINS = {"range", "len", "int", "float", "max", "min", "abs", "round", "list", "tuple",
            "sum", "enumerate", "zip", "isinstance", "bool", "str", "reversed", "sorted", "dict"}


def call_builtin(name: str, args, kwargs):
    seqs = [as_sequence(a) for a in args]
    try:
        if name == "range" and all(is_int(a) for a in args) and args and not kwargs:
            r = range(*args)
            return r if len(r) <= MAX_UNROLL else UNKNOWN
        if name == "len" and len(args) == 1:
            if isinstance(args[0], Container):
                return len(args[0].items)
            return len(seqs[0]) if seqs[0] is not None else UNKNOWN
        if name in ("int", "round") and len(args) == 1 and isinstance(args[0], SYMBOLIC):
            rounding = symbols.truncate if name == "int" else symbols.rounded
            return _known(rounding(args[0]))  # int(in_chs * 0.25): a channel count
        if name in ("int", "float", "abs", "round", "bool", "str") and len(args) == 1 \
                and isinstance(args[0], (int, float, str)):
            return {"int": int, "float": float, "abs": abs, "round": round, "bool": bool,
                    "str": str}[name](args[0])
        if name in ("max", "min") and len(args) > 1 and not kwargs \
                and any(isinstance(a, Poly) for a in args):
            return _known(symbols.opaque_call(name, tuple(args)))
        if name in ("max", "min", "sum") and args:
            values = seqs[0] if len(args) == 1 else args
            if values and all(isinstance(v, (int, float)) for v in values) and not kwargs:
                return {"max": max, "min": min, "sum": sum}[name](values)
        if name in ("list", "tuple", "reversed", "sorted") and len(args) == 1 \
                and seqs[0] is not None:
            items = seqs[0]
            if name == "reversed":
                items = items[::-1]
            if name == "sorted":
                items = sorted(items)
            return ListValue(items) if name == "list" else tuple(items)
        if name == "dict" and len(args) <= 1:  # dict(act_layer=..., **dd): layer keywords
            base = {} if not args else args[0] if isinstance(args[0], dict) else None
            return UNKNOWN if base is None else {**base, **kwargs}
        if name == "isinstance" and len(args) == 2:
            return _isinstance(args[0], args[1])
        if name == "enumerate" and len(args) == 1 and seqs[0] is not None:
            return tuple(enumerate(seqs[0]))
        if name == "zip" and args and all(s is not None for s in seqs):
            return tuple(zip(*seqs))
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN
    return UNKNOWN


_TYPES = {"int": int, "float": float, "str": str, "tuple": tuple, "list": ListValue,
          "bool": bool, "dict": dict}


def _isinstance(value, types):
    """isinstance() on values the interpreter holds exactly; builtin types only."""
    names = [getattr(t, "name", None) for t in (types if isinstance(types, tuple) else (types,))]
    if value is UNKNOWN or not all(n in _TYPES for n in names):
        return UNKNOWN
    if not isinstance(value, (int, float, str, tuple, ListValue, dict, type(None))):
        return UNKNOWN
    return any(isinstance(value, _TYPES[n]) for n in names)


MATH = {
    "math.log": math.log, "math.log2": math.log2, "math.log10": math.log10, "math.sqrt": math.sqrt,
    "math.floor": math.floor, "math.ceil": math.ceil, "math.exp": math.exp, "math.gcd": math.gcd,
    "math.fabs": math.fabs, "math.trunc": math.trunc,
}


def call_math(name: str, args, kwargs):
    """math.log(channels, 2) and friends, on plain numbers; rounding keeps a channel count."""
    if name in ("math.floor", "math.ceil", "math.trunc") and len(args) == 1 \
            and isinstance(args[0], SYMBOLIC) and not kwargs:
        rounding = {"math.floor": symbols.floor_of, "math.ceil": symbols.ceiling_of,
                    "math.trunc": symbols.truncate}[name]
        return _known(rounding(args[0]))  # math.floor(planes * (base_width / 64))
    if kwargs or not args or not all(isinstance(a, (int, float)) for a in args):
        return UNKNOWN
    if any(abs(a) > _BIG for a in args):
        return UNKNOWN
    try:
        return MATH[name](*args)
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        return UNKNOWN
