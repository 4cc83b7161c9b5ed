"""The exact size algebra: concrete sizes, symbolic sizes of one input symbol, and products.

A *dim* is an ``int`` (concrete), an :class:`Expr` (an exact function of one input symbol such
as ``H``), a :class:`Product` (an int coefficient times Exprs: a flattened symbolic map) or
``None`` (unknown). :data:`BATCH` marks dim 0 of full shapes. Every operation accepts any dim and
returns a dim; ``None`` in gives ``None`` out; ints in give ints out (callers judge validity).

Every layer torch sizes along an axis is one *step* ``x -> floor((a*x + b)/m)`` with ``a, m >= 1``:
a floor-mode conv or pool is ``(1, beta, stride)``, a ceil-mode pool is one too (see
:func:`pool_out`), a transposed conv is ``(stride, c, 1)``, a rational upsampling ``(p, 0, q)``,
a pad ``(1, delta, 1)``. Two steps merge exactly (nested floor identity, valid for every integer)
when the second has ``a == 1`` or the first ``m == 1``; otherwise the Expr keeps a chain.

Each step satisfies ``f(x + m) = f(x) + a``, so a chain is exactly periodic: ``f(x + period) =
f(x) + increment``. Proofs look at one period of a difference plus its slope. Only proofs give
``True``; ``False`` means "not proven". Work is bounded: past the limits below, queries answer
``False`` / ``None`` instead of looping.
"""

from __future__ import annotations

import math
from dataclasses import field
from functools import lru_cache
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Tuple, Union

from conv_lint.algebra import symbols
from conv_lint.algebra.symbols import Poly, fraction
from conv_lint.records import record

if TYPE_CHECKING:
    from fractions import Fraction

# Work bounds (this runs on every file save; huge literals must not hang anything).
_PERIOD_LIMIT = 1 << 14  # longest period a proof will scan
_FACTOR_LIMIT = 10**10  # largest value whose divisors we enumerate
_SEARCH_BUDGET = 50_000  # candidate values tried when solving a Product
_SCALE_CHECKED_UP_TO = 1 << 16  # symbolic scale factors agree with torch's doubles up to here
_SCALE_MAX_DENOMINATOR = 1024

Step = Tuple[int, int, int]  # (a, b, m): x -> floor((a*x + b)/m), a >= 1, m >= 1, gcd(a, m) == 1
Span = Tuple[int, int]  # an inclusive range of input sizes


class _Batch:
    """The batch axis N: carried through shapes, never sized."""

    def __repr__(self) -> str:
        return "N"

    __str__ = __repr__


BATCH = _Batch()


# ---------------------------------------------------------------- steps and chains


def _normalize(a: int, b: int, m: int) -> Step:
    # floor((g*a'x + b)/(g*m')) == floor((a'x + floor(b/g))/m')
    g = math.gcd(a, m)
    return (a // g, b // g, m // g)


def _merge(first: Step, second: Step) -> Optional[Step]:
    a1, b1, m1 = first
    a2, b2, m2 = second
    if a2 == 1:  # floor((floor(y/m1) + b2)/m2) == floor((y + m1*b2)/(m1*m2))
        return _normalize(a1, b1 + m1 * b2, m1 * m2)
    if m1 == 1:  # the first step is exact: substitute it
        return _normalize(a1 * a2, a2 * b1 + b2, m2)
    return None


def _append(steps: Tuple[Step, ...], step: Step) -> Tuple[Step, ...]:
    """The canonical chain for ``step`` applied after ``steps``."""
    chain = list(steps)
    while chain:
        merged = _merge(chain[-1], step)
        if merged is None:
            break
        chain.pop()
        step = merged
    if step != (1, 0, 1):
        chain.append(step)
    return tuple(chain)


def _evaluate(steps: Tuple[Step, ...], x: int) -> int:
    for a, b, m in steps:
        x = (a * x + b) // m
    return x


def _lowest(steps: Tuple[Step, ...], v: int) -> int:
    """The smallest integer x with chain(x) >= v (each step is monotone over all integers)."""
    for a, b, m in reversed(steps):
        v = -((b - v * m) // a)  # ceil((v*m - b)/a)
    return v


@lru_cache(maxsize=4096)
def _periodicity(steps: Tuple[Step, ...]) -> Tuple[int, int]:
    period, increment = 1, 1
    for a, _, m in steps:
        repeat = m // math.gcd(increment, m)  # periods needed for the step's input to move by m
        period *= repeat
        increment = increment * repeat // m * a
    return period, increment


def _render(var: str, steps: Tuple[Step, ...]) -> Tuple[str, bool]:
    """The closed form of a chain, and whether it is atomic (no top-level + or -)."""
    text, atomic = var, True
    for a, b, m in steps:
        num = text if a == 1 else f"{a}*{text if atomic else '(' + text + ')'}"
        if b:
            num = f"{num} {'+' if b > 0 else '-'} {abs(b)}"
        if m == 1:
            text, atomic = num, b == 0 and (a == 1 or atomic)
        else:
            text = f"floor({num if b == 0 and atomic else '(' + num + ')'}/{m})"
            atomic = True
    return text, atomic


# ---------------------------------------------------------------- symbolic dims


@record(frozen=True)
class Expr:
    """An exact size as a function of one input symbol: a canonical chain of floor steps.

    ``min_input`` is the smallest input for which every stage yields a size torch accepts
    (>= 1); sizes are monotone, so every larger input is valid too.
    """

    var: str
    steps: Tuple[Step, ...] = ()
    min_input: int = 1
    period: int = field(init=False, compare=False, repr=False)
    increment: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        period, increment = _periodicity(self.steps)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "increment", increment)

    def __call__(self, x: int) -> int:
        return _evaluate(self.steps, x)

    def __str__(self) -> str:
        return _render(self.var, self.steps)[0]

    def __repr__(self) -> str:
        return f"Expr({str(self)!r}, min_input={self.min_input})"

    @property
    def atomic(self) -> bool:
        return _render(self.var, self.steps)[1]

    def then(self, step: Step) -> "Expr":
        """This size fed through one more step; min_input grows to keep that stage >= 1."""
        steps = _append(self.steps, _normalize(*step))
        return Expr(self.var, steps, max(self.min_input, _lowest(steps, 1)))

    def solve(self, v: int) -> Optional[Span]:
        """The valid inputs giving exactly ``v`` (one range: the chain is monotone)."""
        low = max(self.min_input, _lowest(self.steps, v))
        high = _lowest(self.steps, v + 1) - 1
        return (low, high) if low <= high else None


def symbol(var: str) -> Expr:
    """The input size itself, e.g. ``symbol("H")``."""
    return Expr(var)


def _expr_key(e: Expr) -> tuple:
    return (e.var, e.steps, e.min_input)


@record(frozen=True)
class Product:
    """``coeff * f1 * f2 * ...``: what flattening ``(C, h(H), w(W))`` gives. Factors sorted."""

    coeff: int
    factors: Tuple[Expr, ...]

    def __str__(self) -> str:
        parts = [] if self.coeff == 1 else [str(self.coeff)]
        for f in self.factors:
            parts.append(str(f) if f.atomic else f"({f})")
        return "*".join(parts)

    def __repr__(self) -> str:
        return f"Product({str(self)!r})"


Dim = Union[int, Expr, Product, Poly, None]  # a Poly is a channel count of unresolved parameters


# ---------------------------------------------------------------- size operations


def _ints(*values: object) -> bool:
    return all(isinstance(v, int) for v in values)


def _through(n: Dim, step: Step) -> Dim:
    """``n`` fed through ``step``: ints stay ints, Exprs extend, anything else is unknown."""
    if isinstance(n, bool) or n is None:
        return None
    if isinstance(n, int):
        return _evaluate((step,), n)
    if isinstance(n, Expr):
        return n.then(step)
    return None


def conv_out(n: Dim, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> Dim:
    """ConvNd (and floor-mode pools): floor((n + 2p - d(k-1) - 1)/s) + 1."""
    if not _ints(kernel, stride, padding, dilation) or stride < 1:
        return None
    beta = 2 * padding - dilation * (kernel - 1) - 1 + stride
    return _through(n, (1, beta, stride))


def pool_out(
    n: Dim,
    kernel: int,
    stride: Optional[int] = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> Dim:
    """Max/AvgPoolNd. ``stride=None`` means torch's default (the kernel)."""
    stride = kernel if stride is None else stride
    if not ceil_mode:
        return conv_out(n, kernel, stride, padding, dilation)
    if not _ints(kernel, stride, padding, dilation) or stride < 1:
        return None
    span = dilation * (kernel - 1)
    if isinstance(n, int) and not isinstance(n, bool):  # torch's own arithmetic
        out = (n + 2 * padding - span - 1 + stride - 1) // stride + 1
        return out - 1 if (out - 1) * stride >= n + padding else out
    # Ceil output A = floor((n + b_a)/s); the correction keeps the last window starting before
    # n + p, i.e. at most B = floor((n + b_b)/s). torch gives A - [A > B] == min(A, B)
    # whenever A - B <= 1, and a min of two floors over s is the floor of the smaller numerator.
    b_a = 2 * padding - span + 2 * stride - 2
    b_b = padding - 1 + stride
    if b_a - b_b > stride:  # only with padding torch rejects: no exact closed form
        return None
    return _through(n, (1, min(b_a, b_b), stride))


def conv_transpose_out(
    n: Dim,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
) -> Dim:
    """ConvTransposeNd: (n-1)*s - 2p + d(k-1) + output_padding + 1."""
    if not _ints(kernel, stride, padding, dilation, output_padding) or stride < 1:
        return None
    c = -stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    return _through(n, (stride, c, 1))


def scale_out(n: Dim, factor: float) -> Dim:
    """Upsample / F.interpolate with scale_factor: floor(n * factor) in torch's doubles."""
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        return None
    try:
        factor = float(factor)
        if isinstance(n, int) and not isinstance(n, bool):
            return math.floor(float(n) * factor)
    except (OverflowError, ValueError):  # beyond doubles, inf, nan
        return None
    ratio = _exact_scale(factor)
    if ratio is None:
        return None
    return _through(n, (ratio.numerator, 0, ratio.denominator))


@lru_cache(maxsize=256)
def _exact_scale(factor: float) -> Optional[Fraction]:
    """A small fraction p/q with floor(x*p/q) == floor(float(x)*factor) for 1 <= x <= 2**16."""
    if not math.isfinite(factor) or factor <= 0:
        return None
    ratio = fraction(factor).limit_denominator(_SCALE_MAX_DENOMINATOR)
    p, q = ratio.numerator, ratio.denominator
    if p == 0 or float(ratio) != factor or p * _SCALE_CHECKED_UP_TO > 2**52:
        return None
    # factor is ratio rounded: off an integer, x*p/q is >= 1/q away from it, far more than
    # the rounding error. At multiples of q, a factor just below p/q may round down: check.
    if fraction(factor) < ratio:
        for j in range(1, _SCALE_CHECKED_UP_TO // q + 1):
            if math.floor(float(j * q) * factor) != j * p:
                return None
    return ratio


def shift(n: Dim, delta: int) -> Dim:
    """n + delta (F.pad, ZeroPad2d)."""
    if not _ints(delta):
        return None
    return _through(n, (1, delta, 1))


def size_arith(op: str, a: Dim, b: Dim) -> Dim:
    """Python arithmetic on sizes read in forward (``c * h``, ``w // 2``, ``n + 1``), where
    at least one side is symbolic: exact, or None."""
    if op == "Multiply":
        if isinstance(a, Product) or isinstance(b, Product) or not (_ints(a) or _ints(b)):
            return product([a, b])
        k, n = (a, b) if _ints(a) else (b, a)
        return _through(n, (k, 0, 1)) if k >= 1 else (0 if k == 0 else None)
    if op in ("Add", "Subtract") and _ints(b):
        return shift(a, b if op == "Add" else -b)
    if op == "Add" and _ints(a):
        return shift(b, a)
    if op == "FloorDivide" and _ints(b) and b >= 1:
        if isinstance(a, Product):
            return Product(a.coeff // b, a.factors) if a.coeff % b == 0 else None
        return _through(a, (1, 0, b))
    return None


def _split_constant(e: Expr) -> Tuple[int, Expr]:
    """``k*rest`` when the chain ends by multiplying by k (canonical chains do it at most once)."""
    if e.steps and e.steps[-1][1:] == (0, 1) and e.steps[-1][0] > 1:
        return e.steps[-1][0], Expr(e.var, e.steps[:-1], e.min_input)
    return 1, e


def product(dims: Iterable[Dim]) -> Dim:
    """The number of elements of ``dims``: int if all ints, None if any is None or BATCH."""
    dims = list(dims)
    if any(isinstance(d, Poly) for d in dims):
        return _poly_product(dims)
    coeff, factors = 1, []
    for d in dims:
        if isinstance(d, Expr):
            k, rest = _split_constant(d)
            coeff *= k
            factors.append(rest)
        elif isinstance(d, Product):
            coeff *= d.coeff
            factors.extend(d.factors)
        elif isinstance(d, int) and not isinstance(d, bool):
            coeff *= d
        else:
            return None
    if not factors or coeff == 0:
        return coeff
    exprs = [d for d in dims if isinstance(d, Expr)]
    if len(exprs) == 1 and len(factors) == 1 and coeff == _split_constant(exprs[0])[0]:
        return exprs[0]  # a single Expr times 1 is itself
    return Product(coeff, tuple(sorted(factors, key=_expr_key)))


def quotient(n: Dim, d: Dim) -> Dim:
    """``n / d`` when it is exact for every input size: ``d``'s coefficient divides ``n``'s
    and each of ``d``'s factors is one of ``n``'s (what ``view(b, -1, c)`` of a flattened map
    leaves); else None."""
    if _ints(n, d):
        return n // d if d > 0 and n % d == 0 else None
    top = (n, ()) if _ints(n) else _product_form(n)
    bottom = (d, ()) if _ints(d) else _product_form(d)
    if top is None or bottom is None or bottom[0] <= 0 or top[0] % bottom[0]:
        return None
    left = list(top[1])
    for factor in bottom[1]:
        if factor not in left:
            return None
        left.remove(factor)
    return product([top[0] // bottom[0], *left])


def _poly_product(dims: list) -> Dim:
    """Channels of unresolved parameters times concrete sizes; with symbolic sizes, unknown."""
    total = 1
    for d in dims:
        if not (isinstance(d, Poly) or _concrete(d)):
            return None
        total = symbols.multiply(total, d)
        if total is None:
            return None
    return total


def describe(n: Dim) -> Union[int, str, None]:
    """For explain output: ints stay ints, symbolic sizes become their closed form."""
    if n is None or (isinstance(n, int) and not isinstance(n, bool)):
        return n
    if isinstance(n, (Expr, Product, Poly, _Batch)):
        return str(n)
    return None


def value_at(n: Dim, env: Dict[str, int]) -> Optional[int]:
    """``n`` with concrete symbol values substituted (``env["N"]`` for the batch)."""
    if n is BATCH:
        return env.get("N")
    if isinstance(n, int) and not isinstance(n, bool):
        return n
    if isinstance(n, Expr):
        x = env.get(n.var)
        return n(x) if isinstance(x, int) else None
    if isinstance(n, Product):
        total = n.coeff
        for f in n.factors:
            v = value_at(f, env)
            if v is None:
                return None
            total *= v
        return total
    return None


# ---------------------------------------------------------------- proofs on one symbol


@lru_cache(maxsize=4096)
def _difference(f: Expr, g: Expr, start: int) -> Optional[Tuple[Tuple[int, ...], int]]:
    """d = f - g on one period from ``start``, and how much d grows per period; None if too long.

    d(start + r + k*P) == d(start + r) + k*D exactly, for every k >= 0.
    """
    period = f.period * g.period // math.gcd(f.period, g.period)
    if period > _PERIOD_LIMIT:
        return None
    growth = f.increment * (period // f.period) - g.increment * (period // g.period)
    values = tuple(f(x) - g(x) for x in range(start, start + period))
    return values, growth


def _equal_from(f: Expr, g: Expr, start: int) -> bool:
    if f.steps == g.steps:
        return True
    if len(f.steps) <= 1 and len(g.steps) <= 1:
        return False  # distinct canonical single steps differ somewhere in every period
    profile = _difference(f, g, start)
    if profile is None:
        return False
    values, growth = profile
    return growth == 0 and not any(values)


def _never_equal_from(f: Expr, g: Expr, start: int) -> bool:
    profile = _difference(f, g, start)
    if profile is None:
        return False
    values, growth = profile
    for d in values:
        if d == 0:
            return False
        if growth and (-d) % growth == 0 and (-d) // growth >= 0:
            return False  # reaches zero a whole number of periods later
    return True


@lru_cache(maxsize=4096)
def _residues(f: Expr, start: int, modulus: int) -> Optional[frozenset]:
    """Residues mod ``modulus`` (which divides f.increment) of f's values over x >= start."""
    if f.period > _PERIOD_LIMIT:
        return None
    return frozenset(f(x) % modulus for x in range(start, start + f.period))


def _disjoint_values(f: Expr, f_start: int, g: Expr, g_start: int) -> bool:
    """No value of f (x >= f_start) equals a value of g (y >= g_start); x, y independent.

    f's values are {f(f_start + r) + k*If}; two such sets meet iff some base values agree
    modulo gcd(If, Ig) (then both k's can be made non-negative).
    """
    modulus = math.gcd(f.increment, g.increment)
    mine, theirs = _residues(f, f_start, modulus), _residues(g, g_start, modulus)
    if mine is None or theirs is None:
        return False
    return not (mine & theirs)


def _start(f: Expr, g: Expr, at_least: int = 1) -> int:
    """The first input where both are valid and both are >= ``at_least``."""
    return max(f.min_input, g.min_input, _lowest(f.steps, at_least), _lowest(g.steps, at_least))


# ---------------------------------------------------------------- products


def _product_form(n: Dim) -> Optional[Tuple[int, Tuple[Expr, ...]]]:
    if isinstance(n, Product):
        return n.coeff, n.factors
    if isinstance(n, Expr):
        k, rest = _split_constant(n)
        return k, (rest,)
    return None


def _factors_equal(left: Tuple[Expr, ...], right: Tuple[Expr, ...]) -> bool:
    """Pair every factor with a proven-equal one of the same symbol (sound, greedy)."""
    if len(left) != len(right):
        return False
    unused = list(right)
    for f in left:
        match = next((g for g in unused if g.var == f.var and _equal_from(f, g, _start(f, g))),
                     None)
        if match is None:
            return False
        unused.remove(match)
    return True


@lru_cache(maxsize=256)
def _divisors(n: int) -> Tuple[int, ...]:
    divisors, d = [1], 2
    while d * d <= n:  # trial division; n shrinks as primes are divided out
        power = 0
        while n % d == 0:
            n //= d
            power += 1
        if power:
            divisors = [x * d**e for x in divisors for e in range(power + 1)]
        d += 1 if d == 2 else 2
    if n > 1:
        divisors += [x * n for x in divisors]
    return tuple(sorted(divisors))


class _OverBudget(Exception):
    pass


class _Found(Exception):
    pass


def _product_solutions(
    p: Product, k: int, first_only: bool
) -> Tuple[List[Dict[str, Span]], bool]:
    """Input ranges (one per symbol) making p == k, and whether the search was complete."""
    if k % p.coeff:
        return [], True
    target = k // p.coeff
    if target < 1:
        return [], True  # every factor is >= 1 on valid inputs
    if target > _FACTOR_LIMIT:
        return [], False
    divisors = _divisors(target)
    last = len(p.factors) - 1
    found: List[Dict[str, Span]] = []
    spent = 0

    def assign(i: int, remaining: int, ranges: Dict[str, Span]) -> None:
        nonlocal spent
        f = p.factors[i]
        for v in [remaining] if i == last else divisors:
            spent += 1
            if spent > _SEARCH_BUDGET:
                raise _OverBudget
            if v > remaining:
                break
            if remaining % v:
                continue
            span = f.solve(v)
            if span is None:
                continue
            if f.var in ranges:
                low, high = max(span[0], ranges[f.var][0]), min(span[1], ranges[f.var][1])
                if low > high:
                    continue
                span = (low, high)
            narrowed = {**ranges, f.var: span}
            if i == last:
                found.append(narrowed)
                if first_only:
                    raise _Found
            else:
                assign(i + 1, remaining // v, narrowed)

    try:
        assign(0, target, {})
    except _Found:
        pass
    except _OverBudget:
        return found, False
    return found, True


def _square_first(solution: Dict[str, Span]) -> tuple:
    spans = list(solution.values())
    lows = [low for low, _ in spans]
    return (len(set(spans)) > 1, max(lows) - min(lows), sorted(solution.items()))


# ---------------------------------------------------------------- public queries


def _symbolic(n: Dim) -> bool:
    return isinstance(n, (Expr, Product))


def _concrete(n: Dim) -> bool:
    return isinstance(n, int) and not isinstance(n, bool)


def _channel_symbols(a: Dim, b: Dim) -> bool:
    return isinstance(a, Poly) or isinstance(b, Poly)


def proven_equal(a: Dim, b: Dim) -> bool:
    """a == b for every valid input size."""
    if a is BATCH or b is BATCH:
        return a is b
    if _channel_symbols(a, b):
        return symbols.difference(a, b) == 0
    if _concrete(a) and _concrete(b):
        return a == b
    if isinstance(a, Expr) and isinstance(b, Expr):
        return a.var == b.var and _equal_from(a, b, _start(a, b))
    left, right = _product_form(a), _product_form(b)
    if left is None or right is None:
        return False  # unknown, or a constant against an unbounded size
    return left[0] == right[0] and _factors_equal(left[1], right[1])


def proven_different(a: Dim, b: Dim) -> bool:
    """a != b for every valid input size."""
    if a is BATCH or b is BATCH or a is None or b is None:
        return False
    if _channel_symbols(a, b):
        return symbols.never_equal(a, b)
    if _concrete(a) and _concrete(b):
        return a != b
    if _concrete(a) or _concrete(b):
        n, k = (b, a) if _concrete(a) else (a, b)
        return can_be(n, k) is False
    if isinstance(a, Expr) and isinstance(b, Expr):
        if a.var == b.var:
            return _never_equal_from(a, b, _start(a, b))
        return _disjoint_values(a, a.min_input, b, b.min_input)
    left, right = _product_form(a), _product_form(b)
    if left is None or right is None:
        return False
    # the same factors (each >= 1) times different coefficients
    return left[0] != right[0] and _factors_equal(left[1], right[1])


def proven_unbroadcastable(a: Dim, b: Dim) -> bool:
    """Wherever both sides are >= 2 they differ, and such inputs exist. A 1 broadcasts."""
    if _channel_symbols(a, b):
        return False  # a parameter may be 1, and 1 broadcasts
    if _concrete(a) and _concrete(b):
        return a != b and a >= 2 and b >= 2
    if _concrete(a) or _concrete(b):
        n, k = (b, a) if _concrete(a) else (a, b)
        return _symbolic(n) and k >= 2 and can_be(n, k) is False  # n is unbounded
    if isinstance(a, Expr) and isinstance(b, Expr):
        if a.var == b.var:
            return _never_equal_from(a, b, _start(a, b, 2))
        return _disjoint_values(a, _start(a, a, 2), b, _start(b, b, 2))
    return _symbolic(a) and _symbolic(b) and proven_different(a, b)


def can_be(n: Dim, k: int) -> Optional[bool]:
    """Does some valid input make n == k? None: cannot tell."""
    if not _concrete(k) or n is None or n is BATCH:
        return None
    if _concrete(n):
        return n == k
    if isinstance(n, Expr):
        return n.solve(k) is not None
    if isinstance(n, Product):
        found, complete = _product_solutions(n, k, first_only=True)
        return True if found else (False if complete else None)
    return None


def fitting_inputs(n: Dim, k: int, limit: int = 3) -> List[Dict[str, Span]]:
    """Input-symbol ranges making n == k, square inputs first; at most ``limit``; [] if none.

    For a Product too large to search fully, the solutions found within the work bound.
    """
    if not _concrete(k):
        return []
    if _concrete(n):
        return [{}] if n == k else []
    if isinstance(n, Expr):
        span = n.solve(k)
        return [] if span is None else [{n.var: span}]
    if isinstance(n, Product):
        found, _ = _product_solutions(n, k, first_only=False)
        return sorted(found, key=_square_first)[:limit]
    return []
