"""The size algebra against torch: every formula, chain, closed form and solution is checked on
real layers; every proof against brute-force evaluation of sizes that torch confirmed."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from conv_lint.algebra.sizes import (
    BATCH,
    Expr,
    Product,
    can_be,
    conv_out,
    conv_transpose_out,
    describe,
    fitting_inputs,
    pool_out,
    product,
    proven_different,
    proven_equal,
    proven_unbroadcastable,
    scale_out,
    shift,
    symbol,
    value_at,
)

H, W = symbol("H"), symbol("W")
XS = range(1, 25)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Thousands of tiny forwards: thread start-up would cost more than the arithmetic."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_size(layer, x: int):
    """The last-axis size torch gives for a (1, 1, x) input, or None when torch raises."""
    try:
        with torch.no_grad():
            return layer(torch.zeros(1, 1, x)).shape[-1]
    except (RuntimeError, ValueError):
        return None


def check_against_torch(layer, size_of, xs=XS) -> None:
    """torch accepts x exactly when x >= min_input, and then both paths give torch's size."""
    expr = size_of(H)
    assert isinstance(expr, Expr) and expr.min_input in xs
    for x in xs:
        got = torch_size(layer, x)
        if got is None:
            assert x < expr.min_input, (layer, x)
        else:
            assert x >= expr.min_input, (layer, x)
            assert size_of(x) == got, (layer, x)
            assert expr(x) == got, (layer, x)


def formula_value(text: str, env: dict) -> int:
    """Evaluate a closed form as printed (exact rationals, real floor)."""
    names = {var: Fraction(value) for var, value in env.items()}
    return eval(text, {"floor": math.floor, "__builtins__": {}}, names)


# ---------------------------------------------------------------- single layers


def test_conv1d_grid():
    for k in range(1, 6):
        for s in range(1, 4):
            for p in range(3):
                for d in range(1, 4):
                    layer = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
                    check_against_torch(layer, lambda n: conv_out(n, k, s, p, d))


def test_conv2d_per_axis():
    layer = nn.Conv2d(1, 1, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    for x in range(1, 12):
        for y in range(1, 12):
            try:
                shape = layer(torch.zeros(1, 1, x, y)).shape[-2:]
            except RuntimeError:
                shape = None
            eh, ew = conv_out(H, 3, 2, 1, 1), conv_out(W, 5, 1, 2, 2)
            if shape is None:
                assert x < eh.min_input or y < ew.min_input
            else:
                assert (eh(x), ew(y)) == tuple(shape)
                assert (conv_out(x, 3, 2, 1), conv_out(y, 5, 1, 2, 2)) == tuple(shape)


def test_maxpool_grid_with_dilation_and_ceil_mode():
    for k in range(1, 5):
        for s in range(1, 4):
            for p in range(k // 2 + 1):
                for d in range(1, 4):
                    for ceil in (False, True):
                        layer = nn.MaxPool1d(k, s, p, dilation=d, ceil_mode=ceil)
                        check_against_torch(layer, lambda n: pool_out(n, k, s, p, d, ceil))


def test_avgpool_grid_with_padding_and_ceil_mode():
    for k in range(1, 6):
        for s in range(1, 5):
            for p in range(k // 2 + 1):
                for ceil in (False, True):
                    layer = nn.AvgPool1d(k, s, p, ceil_mode=ceil)
                    check_against_torch(layer, lambda n: pool_out(n, k, s, p, 1, ceil))


def test_pools_2d_ceil_mode():
    for layer, args in (
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), (3, 2, 1, 1, True)),
        (nn.MaxPool2d(2, ceil_mode=True), (2, 2, 0, 1, True)),
        (nn.AvgPool2d(3, 2, 1, ceil_mode=True), (3, 2, 1, 1, True)),
    ):
        for x in range(1, 20):
            got = layer(torch.zeros(1, 1, x, x)).shape[-1]
            assert pool_out(x, *args) == pool_out(H, *args)(x) == got


def test_pool_default_stride_is_the_kernel():
    assert pool_out(H, 2) == pool_out(H, 2, 2)
    assert pool_out(9, 3) == nn.MaxPool1d(3)(torch.zeros(1, 1, 9)).shape[-1]


def test_conv_transpose_grid_with_output_padding():
    for k in range(1, 5):
        for s in range(1, 4):
            for p in range(3):
                for d in range(1, 3):
                    for op in range(max(s, d)):
                        layer = nn.ConvTranspose1d(1, 1, k, s, p, op, dilation=d)
                        check_against_torch(
                            layer, lambda n: conv_transpose_out(n, k, s, p, d, op), range(1, 12))


SCALES = (2, 3, 2.0, 0.5, 1.5, 0.1, 1 / 3, 2 / 3, 0.25, 2.5, 0.3, 1.1)


@pytest.mark.parametrize("factor", SCALES)
def test_upsample_scale_factors(factor):
    layer = nn.Upsample(scale_factor=factor)
    check_against_torch(layer, lambda n: scale_out(n, factor), range(1, 400))
    bilinear = nn.Upsample(scale_factor=factor, mode="bilinear")
    for x in (x for x in (7, 10, 30, 33, 99) if scale_out(x, factor) >= 1):
        got = bilinear(torch.zeros(1, 1, x, x)).shape[-1]
        assert scale_out(x, factor) == scale_out(H, factor)(x) == got


def test_scale_factor_torch_rounds_irregularly_is_unknown_symbolically():
    # 90 * 0.7 is 62.99999999999999 in doubles: no fraction p/q reproduces torch exactly.
    assert F.interpolate(torch.zeros(1, 1, 90), scale_factor=0.7).shape[-1] == 62
    assert scale_out(90, 0.7) == 62
    assert scale_out(H, 0.7) is None
    for bad in (0, -2.0, float("inf"), float("nan")):
        assert scale_out(H, bad) is None
    assert scale_out(4, float("inf")) is None


def test_shift_matches_pad():
    # one sign per pad: with mixed signs torch also needs x >= -(the negative side) first
    pads = [(left, right) for left in range(-2, 3) for right in range(-2, 3) if left * right >= 0]
    for left, right in pads:
        expr = shift(H, left + right)
        accepted = []
        for x in range(1, 10):
            try:
                got = F.pad(torch.zeros(1, 1, x), (left, right)).shape[-1]
            except RuntimeError:
                assert x < expr.min_input
                continue
            accepted.append(x)
            assert shift(x, left + right) == expr(x) == got
        assert expr.min_input in accepted


# ---------------------------------------------------------------- chains of layers


def _random_layer(rng: random.Random):
    """A random 1-D layer and the matching sizes operation."""
    kind = rng.choice(["conv", "conv", "maxpool", "avgpool", "convT", "up", "pad"])
    if kind == "conv":
        k, s, p, d = rng.randint(1, 5), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 2)
        return nn.Conv1d(1, 1, k, s, p, d), lambda n: conv_out(n, k, s, p, d)
    if kind == "maxpool":
        k, s, d, ceil = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 2), rng.random() < .5
        p = rng.randint(0, k // 2)
        return nn.MaxPool1d(k, s, p, d, ceil_mode=ceil), lambda n: pool_out(n, k, s, p, d, ceil)
    if kind == "avgpool":
        k, s, ceil = rng.randint(1, 4), rng.randint(1, 3), rng.random() < .5
        p = rng.randint(0, k // 2)
        return nn.AvgPool1d(k, s, p, ceil_mode=ceil), lambda n: pool_out(n, k, s, p, 1, ceil)
    if kind == "convT":
        k, s, p, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 1), rng.randint(1, 2)
        op = rng.randrange(max(s, d))
        layer = nn.ConvTranspose1d(1, 1, k, s, p, op, dilation=d)
        return layer, lambda n: conv_transpose_out(n, k, s, p, d, op)
    if kind == "up":
        factor = rng.choice([2, 3, 0.5, 1.5, 1 / 3])
        return nn.Upsample(scale_factor=factor), lambda n: scale_out(n, factor)
    left, right = rng.randint(-1, 2), rng.randint(-1, 2)
    return nn.ConstantPad1d((left, right), 0.0), lambda n: shift(n, left + right)


def _random_chain(rng: random.Random, length: int):
    layers, ops = zip(*(_random_layer(rng) for _ in range(length)))

    def size_of(n):
        for op in ops:
            n = op(n)
        return n

    return nn.Sequential(*layers), size_of


def test_random_chains_against_torch():
    rng = random.Random(20240607)
    for _ in range(300):
        model, size_of = _random_chain(rng, rng.randint(1, 5))
        expr = size_of(H)
        assert isinstance(expr, Expr)
        low = expr.min_input
        xs = {low, low + 1, low + expr.period} | {low + rng.randint(2, 60) for _ in range(3)}
        if low > 1:
            xs.add(low - 1)
        for x in sorted(xs):
            got = torch_size(model, x)
            if not got:  # torch raised, or a negative pad left an empty map (invalid for us)
                assert x < low, (model, x)
                continue
            assert x >= low, (model, x)
            assert expr(x) == size_of(x) == got, (model, x)
            assert formula_value(str(expr), {"H": x}) == got, (str(expr), x)


def test_period_and_increment_are_exact():
    rng = random.Random(7)
    for _ in range(200):
        expr = _random_chain(rng, rng.randint(1, 5))[1](H)
        for x in range(-20, 40):
            assert expr(x + expr.period) == expr(x) + expr.increment


def test_floor_stages_merge_into_one_closed_form():
    rng = random.Random(11)
    for _ in range(100):
        expr = H
        for _ in range(rng.randint(1, 6)):
            k, s, p = rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 1)
            expr = conv_out(expr, k, s, p) if rng.random() < .5 else pool_out(
                expr, k, s, min(p, k // 2), ceil_mode=rng.random() < .5)
        assert len(expr.steps) <= 1
        assert str(expr).count("floor") <= 1


def test_lenet_closed_form_matches_torch():
    expr = pool_out(conv_out(pool_out(conv_out(H, 5), 2, 2), 5), 2, 2)
    assert str(expr) == "floor((H - 12)/4)"
    assert expr.min_input == 16
    features = nn.Sequential(nn.Conv2d(3, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.MaxPool2d(2))
    with torch.no_grad():
        for x in range(16, 70, 3):
            got = features(torch.zeros(1, 3, x, x)).shape[-1]
            assert formula_value(str(expr), {"H": x}) == expr(x) == got
        with pytest.raises(RuntimeError):
            features(torch.zeros(1, 3, 15, 15))


@pytest.mark.parametrize("build, text", [
    (lambda: H, "H"),
    (lambda: conv_out(H, 3), "H - 2"),
    (lambda: conv_out(H, 3, 1, 2), "H + 2"),
    (lambda: scale_out(H, 2), "2*H"),
    (lambda: conv_transpose_out(H, 2, 2), "2*H"),
    (lambda: conv_transpose_out(H, 3, 2), "2*H + 1"),
    (lambda: pool_out(H, 2, 2, ceil_mode=True), "floor((H + 1)/2)"),
    (lambda: conv_out(H, 3, 2, 1), "floor((H + 1)/2)"),
    (lambda: pool_out(H, 2, 2), "floor(H/2)"),
    (lambda: scale_out(H, 1.5), "floor(3*H/2)"),
    (lambda: scale_out(pool_out(H, 2), 2), "2*floor(H/2)"),
    (lambda: shift(scale_out(pool_out(H, 2), 2), -3), "2*floor(H/2) - 3"),
])
def test_closed_forms(build, text):
    assert str(build()) == text


def test_identities_are_recognised_in_the_canonical_form():
    assert conv_out(H, 3, padding=1) == H
    assert pool_out(pool_out(H, 2), 2) == pool_out(H, 4)
    assert pool_out(scale_out(H, 2), 2) == H
    assert scale_out(H, 2) == conv_transpose_out(H, 2, 2)
    collapsing = conv_out(conv_out(H, 11), 1, padding=5)  # H again, but only from 11 on
    assert str(collapsing) == "H" and collapsing.min_input == 11
    assert torch_size(nn.Sequential(nn.Conv1d(1, 1, 11), nn.Conv1d(1, 1, 1, padding=5)), 10) is None


# ---------------------------------------------------------------- proofs vs brute force


def _pair_pool(rng: random.Random):
    """Random chains, plus pairs built differently that must be equal."""
    pairs = []
    for _ in range(150):
        f = _random_chain(rng, rng.randint(1, 3))[1](H)
        g = _random_chain(rng, rng.randint(1, 3))[1](H)
        pairs.append((f, g))
        same = [conv_out(f, 3, 1, 1), pool_out(scale_out(f, 2), 2), conv_out(shift(f, 2), 3),
                conv_out(conv_out(f, 5), 1, padding=2), scale_out(scale_out(f, 3), 1 / 3)]
        pairs.append((f, rng.choice(same)))
        pairs.append((f, shift(f, rng.choice([-2, -1, 1, 2]))))
    pairs.append((pool_out(pool_out(H, 2), 2), pool_out(H, 4)))
    pairs.append((conv_out(H, 3, padding=1), H))
    return pairs


def _brute(f: Expr, g: Expr, start: int, count: int = 500):
    return [(f(x), g(x)) for x in range(start, start + count)]


def test_proofs_on_one_symbol_against_brute_force():
    rng = random.Random(99)
    tally = {"equal": 0, "different": 0, "unbroadcastable": 0}
    for f, g in _pair_pool(rng):
        start = max(f.min_input, g.min_input)
        values = _brute(f, g, start)
        equal = proven_equal(f, g)
        assert equal == proven_equal(g, f)
        if equal:
            assert all(a == b for a, b in values)
            tally["equal"] += 1
        period = f.period * g.period // math.gcd(f.period, g.period)
        if all(a == b for a, b in values) and 2 * period < len(values):
            assert equal, (f, g)  # equal on two whole periods: the proof must find it
        if proven_different(f, g):
            assert all(a != b for a, b in values)
            tally["different"] += 1
        elif period < 100:  # not proven different: a witness exists where they agree
            # d = f - g moves by a fixed amount per period, so it reaches 0 within |d| periods
            spread = max(abs(a - b) for a, b in values[:period])
            reach = range(start, start + period * (spread + 2))
            assert any(f(x) == g(x) for x in reach), (f, g)
        if proven_unbroadcastable(f, g):
            both_big = [(a, b) for a, b in values if a >= 2 and b >= 2]
            assert both_big and all(a != b for a, b in both_big)
            tally["unbroadcastable"] += 1
    assert min(tally.values()) >= 20, tally


def test_designed_proofs():
    assert proven_equal(conv_out(H, 3, padding=1), H)
    assert proven_equal(pool_out(pool_out(H, 2), 2), pool_out(H, 4))
    assert proven_equal(BATCH, BATCH)
    assert proven_different(conv_out(H, 3), H)
    assert proven_unbroadcastable(conv_out(H, 3), H)
    assert not proven_different(scale_out(H, 2), shift(H, 1))  # both 2 at H = 1
    assert not proven_unbroadcastable(scale_out(H, 2), shift(H, 1))
    odd = conv_transpose_out(H, 1, 2)  # 2H - 1 meets H only at H = 1, where both are 1
    assert str(odd) == "2*H - 1" and not proven_different(odd, H)
    assert proven_unbroadcastable(odd, H)
    assert not proven_different(H, W) and not proven_equal(H, W)
    # 2*floor(H/2) is always even, 2W + 1 always odd
    even, odd = scale_out(pool_out(H, 2), 2), conv_transpose_out(W, 3, 2)
    assert proven_different(even, odd) and proven_unbroadcastable(even, odd)
    assert not proven_different(even, scale_out(W, 2))
    assert proven_different(H, 0) and proven_different(H, -3) and not proven_different(H, 7)
    assert not proven_unbroadcastable(H, 1) and not proven_unbroadcastable(1, 5)
    assert proven_unbroadcastable(3, 5) and not proven_unbroadcastable(0, 5)
    assert proven_unbroadcastable(scale_out(H, 2), 7) and not proven_unbroadcastable(H, 7)
    for undecided in (None, BATCH):
        assert not proven_equal(undecided, H) and not proven_different(undecided, 3)
        assert not proven_unbroadcastable(undecided, 3)


def test_period_scan_decides_equality_of_non_canonical_chains():
    # The same function written as a longer chain (identity step kept): the period scan decides.
    padded = Expr("H", ((1, 0, 2), (1, 0, 1), (2, 0, 1)))
    assert proven_equal(padded, scale_out(pool_out(H, 2), 2))
    assert not proven_equal(padded, scale_out(pool_out(shift(H, 1), 2), 2))


def test_proofs_across_symbols_against_brute_force():
    rng = random.Random(5)
    proven = 0
    for _ in range(150):
        f = _random_chain(rng, rng.randint(1, 3))[1](H)
        g = _random_chain(rng, rng.randint(1, 3))[1](W)
        assert not proven_equal(f, g)
        f_values = {f(x) for x in range(f.min_input, f.min_input + 300)}
        g_values = {g(y) for y in range(g.min_input, g.min_input + 300)}
        if proven_different(f, g):
            assert not f_values & g_values
            proven += 1
        if proven_unbroadcastable(f, g):
            assert not {v for v in f_values & g_values if v >= 2}
    for f, g in ((scale_out(H, 2), conv_transpose_out(W, 3, 2)),
                 (scale_out(H, 3), shift(scale_out(W, 3), 1))):
        assert proven_different(f, g)
    assert proven >= 1


def test_can_be_and_fitting_inputs_on_one_symbol_against_brute_force():
    rng = random.Random(3)
    for _ in range(150):
        expr = _random_chain(rng, rng.randint(1, 4))[1](H)
        window = range(expr.min_input, expr.min_input + 200)
        top = expr(window[-1])
        for k in range(-1, min(top, 60)):
            hits = [x for x in window if expr(x) == k]
            assert can_be(expr, k) == bool(hits)
            fits = fitting_inputs(expr, k)
            assert fits == ([{"H": (hits[0], hits[-1])}] if hits else [])
            assert proven_different(expr, k) == (not hits)


def test_products_against_brute_force():
    rng = random.Random(17)
    for _ in range(40):
        f = _random_chain(rng, rng.randint(1, 3))[1](H)
        g = _random_chain(rng, rng.randint(1, 3))[1](W)
        coeff = rng.choice([1, 3, 16])
        flat = product([coeff, f, g])
        hs = range(f.min_input, f.min_input + 120)
        ws = range(g.min_input, g.min_input + 120)
        bound = coeff * min(f(hs[-1]), g(ws[-1]))  # below it, the windows hold every solution
        by_value = {}
        for h in hs:
            for w in ws:
                by_value.setdefault(coeff * f(h) * g(w), set()).add((h, w))
        for k in list(range(1, min(bound, 80))) + [coeff * 7, coeff * 12]:
            if k >= bound:
                continue
            wanted = by_value.get(k, set())
            assert can_be(flat, k) == bool(wanted), (flat, k)
            assert proven_different(flat, k) == (not wanted)
            fits = fitting_inputs(flat, k, limit=10_000)
            covered = {(h, w) for fit in fits
                       for h in range(fit["H"][0], min(fit["H"][1], hs[-1]) + 1)
                       for w in range(fit["W"][0], min(fit["W"][1], ws[-1]) + 1)}
            assert covered == wanted, (flat, k)


def test_cifar_lenet_fits_inputs_32_to_35():
    def size(n):
        return pool_out(conv_out(pool_out(conv_out(n, 5), 2, 2), 5), 2, 2)

    flat = product([16, size(H), size(W)])
    assert str(flat) == "16*floor((H - 12)/4)*floor((W - 12)/4)"
    fits = fitting_inputs(flat, 400)
    assert fits[0] == {"H": (32, 35), "W": (32, 35)}
    assert len(fits) == 3 and {"H": (16, 19), "W": (112, 115)} in fits
    assert can_be(flat, 400) is True and can_be(flat, 401) is False
    assert proven_different(flat, 401) and not proven_different(flat, 400)
    assert proven_unbroadcastable(flat, 401)

    model = nn.Sequential(nn.Conv2d(3, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
    with torch.no_grad():
        for x in range(28, 40):
            try:
                model(torch.zeros(1, 3, x, x))
                runs = True
            except RuntimeError:
                runs = False
            assert runs == (32 <= x <= 35)
            assert value_at(flat, {"H": x, "W": x}) == model[:5](torch.zeros(1, 3, x, x)).shape[1]
        model(torch.zeros(1, 3, 16, 112))  # the non-square solution runs too


def test_fitting_inputs_prefers_square_and_respects_limit():
    flat = product([2, scale_out(H, 1), scale_out(W, 1)])  # 2*H*W
    fits = fitting_inputs(flat, 72, limit=4)
    assert fits[0] == {"H": (6, 6), "W": (6, 6)} and len(fits) == 4
    assert fitting_inputs(flat, 73) == [] and can_be(flat, 73) is False
    same_symbol = product([H, H])  # H*H
    assert fitting_inputs(same_symbol, 49) == [{"H": (7, 7)}]
    assert can_be(same_symbol, 50) is False


# ---------------------------------------------------------------- the dim conventions


def test_unknowns_propagate_and_ints_stay_ints():
    for op in (lambda n: conv_out(n, 3), lambda n: pool_out(n, 2, 2, ceil_mode=True),
               lambda n: conv_transpose_out(n, 3, 2), lambda n: scale_out(n, 2.5),
               lambda n: shift(n, 1)):
        assert op(None) is None and op(BATCH) is None
        assert op(product([H, W])) is None
        assert isinstance(op(7), int)
    assert conv_out(2, 5) == -2  # callers judge validity
    assert conv_out(H, 3, stride=0) is None and conv_transpose_out(H, 3, stride=0) is None
    assert can_be(None, 3) is None and can_be(BATCH, 3) is None and fitting_inputs(None, 3) == []


def test_product_and_describe():
    assert product([3, 4, 5]) == 60 and product([]) == 1
    assert product([3, None, H]) is None and product([BATCH, 3]) is None
    assert product([1, H]) == H and product([0, H]) == 0
    flat = product([4, H, product([2, W])])
    assert isinstance(flat, Product) and flat.coeff == 8 and str(flat) == "8*H*W"
    assert product([scale_out(H, 2)]) == scale_out(H, 2)
    assert proven_equal(product([2, H]), scale_out(H, 2))
    assert proven_equal(product([W, 2, H]), product([scale_out(H, 2), W]))
    assert proven_different(product([2, H, W]), product([3, H, W]))
    assert str(product([conv_out(H, 3), W])) == "(H - 2)*W"
    assert describe(7) == 7 and describe(None) is None and describe(BATCH) == "N"
    assert str(BATCH) == "N" and describe(conv_out(H, 3)) == "H - 2"
    assert describe(flat) == "8*H*W"


def test_value_at():
    expr = pool_out(conv_out(H, 3), 2)
    assert value_at(expr, {"H": 10}) == 4 == conv_out(10, 3) // 2
    assert value_at(expr, {"W": 10}) is None
    assert value_at(product([4, expr, W]), {"H": 10, "W": 3}) == 48
    assert value_at(product([4, expr, W]), {"H": 10}) is None
    assert value_at(5, {}) == 5 and value_at(None, {"H": 1}) is None
    assert value_at(BATCH, {"N": 8}) == 8


def test_exprs_are_hashable_values():
    assert {conv_out(H, 3, padding=1), H} == {H}
    assert hash(pool_out(pool_out(H, 2), 2)) == hash(pool_out(H, 4))
    assert conv_out(H, 3) != conv_out(W, 3) and conv_out(H, 3) != 3


def test_huge_literals_do_not_hang():
    # No clock: a hang stops the suite, and a slow machine must not fail it.
    huge = 10**100
    deep = conv_out(H, huge)
    assert deep.min_input == huge and deep(huge) == 1 and can_be(deep, 1)
    strided = conv_out(H, 3, stride=huge)
    other = conv_out(H, 5, stride=huge + 1)
    assert not proven_equal(strided, other)
    assert not proven_different(scale_out(strided, 2), scale_out(other, 2))  # period too long
    assert not proven_different(scale_out(strided, 2), scale_out(conv_out(W, 5, huge + 1), 2))
    assert fitting_inputs(strided, 2) == [{"H": (huge + 3, 2 * huge + 2)}]
    lenet = product([16, pool_out(conv_out(H, 5), 4), pool_out(conv_out(W, 5), 4)])
    assert can_be(lenet, huge) is None and fitting_inputs(lenet, huge) == []
    prime = 9_999_999_967  # only 1 * prime: one factor is 1, the other huge
    assert can_be(lenet, 16 * prime) is True
    assert {fit["H"] for fit in fitting_inputs(lenet, 16 * prime)} == {
        (8, 11), (4 * prime + 4, 4 * prime + 7)}
    assert scale_out(H, 1e300) is None and scale_out(H, 1e-300) is None
    assert scale_out(H, huge**4) is None and scale_out(3, huge**4) is None
    volume = product([H, W, symbol("D")])
    crowded = 2**4 * 3**2 * 5 * 7 * 11 * 13 * 17 * 19  # too many factorisations to list all
    assert can_be(volume, crowded) is True
    fits = fitting_inputs(volume, crowded)
    assert fits and all(value_at(volume, {var: low for var, (low, _) in fit.items()}) == crowded
                        for fit in fits)
    assert pool_out(H, huge, huge, ceil_mode=True).min_input == 1
