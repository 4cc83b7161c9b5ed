"""Exact channel counts in terms of constructor parameters the reader cannot resolve.

``BasicBlock(inplanes, planes)`` analysed on its own, or built with an argument from a config
object, has ``planes`` bound to a :class:`Symbol`; ``planes * self.expansion`` is then the
:class:`Poly` ``4*planes``. A Poly is a sum of int coefficients times products of symbols
(``growth*i + c`` with ``i`` unrolled is ``3*growth + c``); floor division that does not divide
exactly makes a new opaque symbol, so ``c // 2`` equals ``c // 2`` but nothing else.

Proofs: two Polys are equal when their canonical forms are, whatever the symbols stand for.
They differ when their difference is a nonzero constant, or keeps one sign for every parameter
>= 1 (``4*planes`` against ``planes``): a parameter that is a channel count is at least 1 in any
model that runs (torch rejects a conv or norm with no output channels, which fails anyway).
``inplanes`` against ``planes`` is neither: unknown, and unknown is silent.
"""

from __future__ import annotations

import itertools
import math

from typing import TYPE_CHECKING, Dict, Optional, Tuple, Union

from conv_lint.records import record

if TYPE_CHECKING:
    from fractions import Fraction

_MAX_TERMS = 16  # past these a value is not a channel count anyone writes: unknown
_MAX_DEGREE = 4
_MAX_COEFF = 10**12
_MAX_TEXT = 200  # an opaque float longer than this is not a channel computation

_uids = itertools.count(1)


@record(frozen=True)
class Symbol:
    """One unknown integer: a parameter (a fresh one per binding) or an inexact floor division."""

    name: str
    uid: int
    positive: bool = True  # a parameter is >= 1; an inexact floor division may be anything

    def __str__(self) -> str:
        return self.name


Monomial = Tuple[Symbol, ...]  # sorted by uid; () is the constant term
Terms = Tuple[Tuple[Monomial, int], ...]


@record(frozen=True)
class Poly:
    """A canonical polynomial in symbols with int coefficients, never a plain constant."""

    terms: Terms

    def __str__(self) -> str:
        text = ""
        for monomial, coeff in sorted(self.terms, key=lambda t: (len(t[0]) == 0, _order(t[0]))):
            factors = [str(abs(coeff))] if abs(coeff) != 1 or not monomial else []
            body = "*".join(factors + [s.name for s in monomial])
            if not text:
                text = body if coeff > 0 else f"-{body}"
            else:
                text += f" {'+' if coeff > 0 else '-'} {body}"
        return text

    def __repr__(self) -> str:
        return f"Poly({str(self)!r})"

    @property
    def atomic(self) -> bool:
        """No top-level sum: safe to print next to `*`."""
        return len(self.terms) == 1 and self.terms[0][1] == 1


Value = Union[int, Poly]


def _order(monomial: Monomial) -> tuple:
    return tuple(s.uid for s in monomial)


def parameter(name: str) -> Poly:
    """A fresh symbol for an unresolved parameter called ``name``."""
    return Poly((((Symbol(name, next(_uids)),), 1),))


def _canonical(terms: Dict[Monomial, int]) -> Optional[Value]:
    kept = {m: c for m, c in terms.items() if c}
    if len(kept) > _MAX_TERMS or any(abs(c) > _MAX_COEFF or len(m) > _MAX_DEGREE
                                     for m, c in kept.items()):
        return None
    if not kept or list(kept) == [()]:
        return kept.get((), 0)
    return Poly(tuple(sorted(kept.items(), key=lambda t: _order(t[0]))))


def _terms(value: Value) -> Dict[Monomial, int]:
    return dict(value.terms) if isinstance(value, Poly) else {(): value}


def _is_value(value) -> bool:
    return isinstance(value, Poly) or (type(value) is int)


def add(a: Value, b: Value, sign: int = 1) -> Optional[Value]:
    terms = _terms(a)
    for monomial, coeff in _terms(b).items():
        terms[monomial] = terms.get(monomial, 0) + sign * coeff
    return _canonical(terms)


def multiply(a: Value, b: Value) -> Optional[Value]:
    terms: Dict[Monomial, int] = {}
    for (ma, ca), (mb, cb) in itertools.product(_terms(a).items(), _terms(b).items()):
        monomial = tuple(sorted(ma + mb, key=lambda s: s.uid))
        terms[monomial] = terms.get(monomial, 0) + ca * cb
    return _canonical(terms)


_opaque: Dict[tuple, Symbol] = {}


def _interned(key: tuple, text: str) -> Poly:
    """The one symbol for an exact but unexpandable function of symbols (``c // 2``)."""
    if key not in _opaque:
        if len(_opaque) > 10_000:  # a bound, not a cache policy: symbols stay distinct anyway
            _opaque.clear()
        _opaque[key] = Symbol(text, next(_uids), positive=False)
    return Poly((((_opaque[key],), 1),))


def floor_divide(a: Value, k: int) -> Optional[Value]:
    """``a // k`` for a positive int ``k``: exact when k divides every symbolic coefficient."""
    if type(k) is not int or k <= 0:
        return None
    terms = _terms(a)
    constant = terms.pop((), 0)
    if all(c % k == 0 for c in terms.values()):  # (k*q + c)//k == q + c//k for integer q
        quotient = _canonical({m: c // k for m, c in terms.items()})
        return None if quotient is None else add(quotient, constant // k)
    return _interned(("floor", a.terms if isinstance(a, Poly) else (), k), f"{_wrapped(a)}//{k}")


_OPS = {"Add": lambda a, b: add(a, b), "Subtract": lambda a, b: add(a, b, -1),
        "Multiply": multiply}


@record(frozen=True)
class Scaled:
    """``poly * ratio``, a float before it is rounded: ``in_chs * 0.25``, ``width / 2``.

    Only ratios whose float arithmetic is exact (or, for a division by an int, correctly
    rounded) are kept, so ``int()`` of it is exactly the floor Python computes."""

    poly: Poly
    ratio: Fraction

    def __str__(self) -> str:
        return f"{_wrapped(self.poly)}*{self.ratio}"


@record(frozen=True)
class Real:
    """A float computed from symbols that no exact form holds (``c * 0.0625 * (2/3)``): only
    the same computation equals it. ``int()`` of it is an opaque channel count."""

    key: tuple
    text: str

    def __str__(self) -> str:
        return self.text


_REAL_OPS = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/"}


def _real(op: str, a, b) -> Optional[Real]:
    """``a op b`` kept as an opaque float; numbers only (a float's repr is exact)."""
    if op not in _REAL_OPS or not all(isinstance(v, SYMBOLIC) or type(v) in (int, float)
                                      for v in (a, b)):
        return None
    if op != "Divide" and not any(isinstance(v, (Scaled, Real)) or type(v) is float
                                  for v in (a, b)):
        return None  # integer arithmetic past the bounds stays unknown
    text = f"{_wrapped(a)} {_REAL_OPS[op]} {_wrapped(b)}"
    if len(text) > _MAX_TEXT:
        return None
    key = (op, a.key if isinstance(a, Real) else a, b.key if isinstance(b, Real) else b)
    return Real(key, text)


def _wrapped(a) -> str:
    if isinstance(a, Real) or (isinstance(a, Poly) and not a.atomic):
        return f"({a})"
    return repr(a) if type(a) is float else str(a)


def fraction(*args) -> Fraction:
    """fractions.Fraction, imported the first time exact ratios are needed: it brings in the
    decimal module, 3 ms at the start of every flake8 run, for arithmetic few files do."""
    from fractions import Fraction

    return Fraction(*args)


def _dyadic(value) -> Optional[Fraction]:
    """A float that is k/2**m with a small m: multiplying a channel count by it is exact."""
    if type(value) is not float or not math.isfinite(value) or abs(value) > _MAX_COEFF:
        return None
    ratio = fraction(value)
    return ratio if ratio.denominator <= 1 << 10 else None


def arith(op: str, a, b):
    """A Python binary operation with a Poly, Scaled or Real operand: exact where it can be,
    else an opaque Real for float arithmetic; None for anything else."""
    exact = _exact_arith(op, a, b)
    if exact is not None:
        return exact
    if op in _OPAQUE_OPS and _is_value(a) and _is_value(b):  # in_dim // num_heads
        return _interned((op, a, b), f"({_wrapped(a)} {_OPAQUE_OPS[op]} {_wrapped(b)})")
    return _real(op, a, b)


_OPAQUE_OPS = {"FloorDivide": "//", "Modulo": "%"}  # on integers: an integer, however unknown


def item(container: Poly, key) -> Poly:
    """``channels[0]``, ``cfg['stem_width']`` of a parameter: read as a count, equal only to
    the same item of the same parameter."""
    return _interned(("item", container, key), f"{_wrapped(container)}[{key!r}]")


def opaque_call(name: str, args: tuple) -> Optional[Poly]:
    """``max(1, c // 30)``: a builtin of integers, kept as an opaque count."""
    if not all(_is_value(a) for a in args) or not any(isinstance(a, Poly) for a in args):
        return None
    return _interned(("call", name, args), f"{name}({', '.join(map(str, args))})")


def _exact_arith(op: str, a, b):
    if isinstance(a, Real) or isinstance(b, Real):
        return None
    a, b = _integral(a), _integral(b)
    if isinstance(a, Scaled) or isinstance(b, Scaled):
        return _scaled_arith(op, a, b)
    if op == "Multiply" and isinstance(b, Poly) and not _is_value(a):
        a, b = b, a
    if isinstance(a, Poly) and op == "Multiply" and _dyadic(b) is not None:
        return _scaled(a, _dyadic(b))
    if isinstance(a, Poly) and op == "Divide" and type(b) is int and b > 0:
        return _scaled(a, fraction(1, b))
    if not (_is_value(a) and _is_value(b)):
        return None
    if op in _OPS:
        return _OPS[op](a, b)
    if op == "FloorDivide" and type(b) is int:
        return floor_divide(a, b)
    if op == "Power" and type(b) is int and 0 <= b <= _MAX_DEGREE:  # kernel_size ** 2
        result: Optional[Value] = 1
        for _ in range(b):
            result = multiply(result, a) if result is not None else None
        return result
    return None


def _scaled(poly: Poly, ratio: Fraction):
    if ratio.denominator == 1:
        return multiply(poly, ratio.numerator)
    return Scaled(poly, ratio) if ratio > 0 else None


def _scaled_arith(op: str, a, b):
    """``in_chs * 0.25 + 4.0`` (timm's make_divisible adds half the divisor): sums with
    numbers the ratio can carry exactly; everything else unknown."""
    if op == "Multiply" and isinstance(b, Scaled) and not isinstance(a, Scaled):
        a, b = b, a
    if op == "Multiply" and isinstance(a, Scaled):  # channels * rd_ratio * se_factor
        factor = fraction(b) if type(b) is int else _dyadic(b)
        return None if factor is None else _scaled(a.poly, a.ratio * factor)
    if op not in ("Add", "Subtract") or not isinstance(a, Scaled):
        return None
    offset = fraction(b) if type(b) is int else _dyadic(b)
    if offset is None:
        return None
    numerator = offset * a.ratio.denominator  # a.poly*n/d + o == (a.poly*n + o*d)/d
    if numerator.denominator != 1:
        return None
    sign = 1 if op == "Add" else -1
    poly = add(multiply(a.poly, a.ratio.numerator), sign * numerator.numerator)
    return None if not isinstance(poly, Poly) else Scaled(poly, fraction(1, a.ratio.denominator))


def call(name: str, function: int, args: tuple, keywords: tuple, shown: str) -> Poly:
    """The result of a pure function of these arguments, opaque: ``make_divisible(c*1/4, 8)``."""
    return _interned(("call", function, args, keywords), f"{name}({shown})")


def floor_of(value) -> Optional[Value]:
    """``math.floor`` of a Scaled (and of a channel count, itself)."""
    if isinstance(value, Real):
        return _interned(("floor", value.key), f"floor({value})")
    if isinstance(value, Scaled):
        return floor_divide(multiply(value.poly, value.ratio.numerator), value.ratio.denominator)
    return value if isinstance(value, Poly) else None


def ceiling_of(value) -> Optional[Value]:
    """``math.ceil``: ceil(p*n/d) == floor((p*n + d - 1)/d) for integer p*n."""
    if isinstance(value, Real):
        return _interned(("ceil", value.key), f"ceil({value})")
    if isinstance(value, Scaled):
        numerator = multiply(value.poly, value.ratio.numerator)
        return None if numerator is None else floor_divide(
            add(numerator, value.ratio.denominator - 1), value.ratio.denominator)
    return value if isinstance(value, Poly) else None


def truncate(value) -> Optional[Value]:
    """``int()``: the floor where the value cannot be negative (parameters are >= 1)."""
    if isinstance(value, Real):
        return _interned(("int", value.key), f"int({value})")
    if isinstance(value, Scaled) and not _non_negative(value.poly):
        return None
    return floor_of(value)


def _non_negative(poly: Poly) -> bool:
    return all(c >= 0 and all(s.positive for s in m) for m, c in poly.terms)


def rounded(value) -> Optional[Value]:
    """``round()``: ties go to even, so an opaque symbol (equal only to the same rounding)."""
    if isinstance(value, Poly):
        return value
    if isinstance(value, Real):
        return _interned(("round", value.key), f"round({value})")
    if not isinstance(value, Scaled):
        return None
    key = ("round", value.poly.terms, value.ratio)
    return _interned(key, f"round({value})")


def _integral(value):
    """A float that is a whole number multiplies like an int (``planes * (64 / 64.0)``)."""
    if type(value) is float and value.is_integer() and abs(value) <= _MAX_COEFF:
        return int(value)
    return value


def difference(a, b) -> Optional[int]:
    """a - b when it is the same constant whatever the symbols stand for, else None."""
    if not (_is_value(a) and _is_value(b)):
        return None
    delta = add(a, b, -1)
    return delta if type(delta) is int else None


def never_equal(a, b) -> bool:
    """a != b for every value of the parameters (each >= 1)."""
    if not (_is_value(a) and _is_value(b)):
        return False
    delta = add(a, b, -1)
    if delta is None or type(delta) is int:
        return bool(delta)
    terms = dict(delta.terms)
    constant = terms.pop((), 0)
    if not all(s.positive for monomial in terms for s in monomial):
        return False
    coeffs = list(terms.values())
    # every monomial is >= 1, so the sum is at least (at most) the sum of its coefficients
    if all(c > 0 for c in coeffs):
        return sum(coeffs) + constant > 0
    if all(c < 0 for c in coeffs):
        return sum(coeffs) + constant < 0
    return False


def negate(a: Value) -> Optional[Value]:
    return multiply(a, -1)


SYMBOLIC = (Poly, Scaled, Real)  # every value made from parameter symbols
