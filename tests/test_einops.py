"""einops against einops: every pattern runs in einops on torch tensors and in the catalogue
(conv_lint/layers/einops.py) on the same shape and lengths. Where einops runs, the catalogue
gives its shape and no problem; where einops raises on the shape (an axis not divisible, a
length contradicting the shape, a rank), the catalogue reports the code of that error; where
einops raises on the pattern alone, the catalogue is silent with an unknown shape. Symbolic
sizes are checked at every size of a range; whole models run in torch (the oracle)."""

from __future__ import annotations

import ast
import random
import warnings
from pathlib import Path

import einops
import oracle
import pytest
import torch
from einops.layers.torch import EinMix, Rearrange, Reduce

from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.engine import analyse

ENTRIES = {"rearrange": "einops.rearrange", "repeat": "einops.repeat", "reduce": "einops.reduce",
           "Rearrange": "einops.layers.torch.Rearrange", "Reduce": "einops.layers.torch.Reduce"}
LAYER_CLASSES = {"Rearrange": Rearrange, "Reduce": Reduce}
SHAPE_ERRORS = ("Shape mismatch", "Wrong shape")  # einops's words for an input that does not fit


def run_einops(operation: str, pattern: str, shape: tuple, lengths: dict, reduction=None):
    """(output shape, None) or (None, the error einops or torch raised)."""
    x = torch.zeros(shape)
    extra = () if reduction is None else (reduction,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if operation in LAYER_CLASSES:
                y = LAYER_CLASSES[operation](pattern, *extra, **lengths)(x)
            else:
                y = getattr(einops, operation)(x, pattern, *extra, **lengths)
        except Exception as error:  # noqa: BLE001 - what einops raises is the oracle
            return None, error
    return tuple(y.shape), None


def predict(operation: str, pattern: str, shape: tuple, lengths: dict, reduction=None):
    kind = layers.lookup(ENTRIES[operation])
    tensor = [] if operation in LAYER_CLASSES else [object()]
    extra = [] if reduction is None else [reduction]
    bound = kind.bind(tensor + [pattern] + extra, dict(lengths))
    assert bound is not None and kind.check(bound) == []
    return kind.apply(bound, shape)


def outcome(error) -> str:
    if error is None:
        return "ran"
    return "shape" if any(words in str(error) for words in SHAPE_ERRORS) else "pattern"


def assert_agree(operation, pattern, shape, lengths, reduction=None):
    case = f"{operation}({shape}, {pattern!r}, {reduction!r}, {lengths})"
    out, error = run_einops(operation, pattern, shape, lengths, reduction)
    got, problems = predict(operation, pattern, shape, lengths, reduction)
    if error is None:
        assert (got, problems) == (out, []), case
    elif any(words in str(error) for words in SHAPE_ERRORS) or (
            isinstance(error, KeyError) and operation in LAYER_CLASSES):  # a layer's rank
        assert got is None and len(problems) == 1, f"{case}: einops raised {error}"
        wanted = oracle.codes_for_error(error) or {"CNV111"}  # the layer's KeyError
        assert problems[0].code in wanted, f"{case}: {problems[0]} for {error}"
    else:  # the pattern itself: not a shape bug
        assert (got, problems) == (None, []), f"{case}: einops raised {error!r}"
    return out, error


CASES = [
    # the classics
    ("rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", (2, 3, 224, 224), {"p1": 16, "p2": 16}),
    ("Rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", (2, 3, 224, 224), {"p1": 16, "p2": 16}),
    ("rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", (2, 3, 225, 224), {"p1": 16, "p2": 16}),
    ("Rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", (2, 3, 200, 200), {"p1": 16, "p2": 16}),
    ("rearrange", "b c h w -> b (c h w)", (2, 3, 4, 5), {}),
    ("rearrange", "b c h w -> b h w c", (2, 3, 4, 5), {}),
    ("rearrange", "b n (h d) -> b h n d", (2, 10, 64), {"h": 8}),
    ("rearrange", "b n (h d) -> b h n d", (2, 10, 60), {"h": 8}),
    ("rearrange", "b n (h d) -> b h n d", (2, 10, 64), {"d": 8}),
    ("rearrange", "b h n d -> b n (h d)", (2, 8, 10, 8), {}),
    ("rearrange", "(b1 b2) h w c -> (b1 h) (b2 w) c", (6, 4, 5, 3), {"b1": 2}),
    ("rearrange", "(b1 b2) h w c -> (b1 h) (b2 w) c", (6, 4, 5, 3), {"b1": 4}),
    ("rearrange", "b (h h2) (w w2) c -> (h w) b (h2 w2 c)", (2, 6, 8, 3), {"h2": 2, "w2": 4}),
    ("rearrange", "b c h w -> b c h w", (2, 3, 4), {}),
    ("rearrange", "b c -> c b", (2, 3), {"b": 2}),
    ("rearrange", "b c -> c b", (2, 3), {"b": 4}),
    ("rearrange", "b c -> c b", (2, 3), {"c": 3, "b": 2}),
    # 1 and () on either side
    ("rearrange", "b 1 d -> b d", (2, 1, 5), {}),
    ("rearrange", "b 1 d -> b d", (2, 3, 5), {}),
    ("rearrange", "b () d -> b d 1", (2, 1, 5), {}),
    ("rearrange", "b d -> b () d ()", (2, 5), {}),
    ("rearrange", "b (d 1) -> (1 b) d", (2, 5), {}),
    ("rearrange", "b () -> b", (2, 0), {}),
    # ellipsis
    ("rearrange", "b ... -> b (...)", (2, 3, 4, 5), {}),
    ("rearrange", "b ... -> b (...)", (2,), {}),
    ("rearrange", "... h w -> ... (h w)", (2, 3, 4, 5), {}),
    ("rearrange", "... h w -> ... (h w)", (4,), {}),
    ("rearrange", "b ... c -> b c ...", (2, 3, 4, 5), {}),
    ("rearrange", "b c ... -> (b c) ...", (2, 3), {}),
    ("rearrange", "... (c g) -> ... c g", (2, 7, 12), {"g": 4}),
    ("rearrange", "... (c g) -> ... c g", (2, 7, 12), {"g": 5}),
    ("Rearrange", "b ... -> b (...)", (2, 3, 4, 5), {}),
    ("Rearrange", "b c h w -> b (c h w)", (2, 3, 4), {}),
    # underscores, digits and keywords in names
    ("rearrange", "batch_size seq_len (n_heads d_k) -> batch_size n_heads seq_len d_k",
     (2, 5, 12), {"n_heads": 3}),
    ("rearrange", "b2 c3 -> c3 b2", (2, 3), {}),
    ("rearrange", "b _c -> _c b", (2, 3), {}),
    ("rearrange", "b c_ -> c_ b", (2, 3), {}),
    # what einops rejects on the pattern alone: silent
    ("rearrange", "b c h w -> b c", (2, 3, 4, 5), {}),
    ("rearrange", "b c -> b c d", (2, 3), {}),
    ("rearrange", "b c -> b c", (2, 3), {"d": 2}),
    ("rearrange", "b (h w) -> b h w", (2, 12), {}),
    ("rearrange", "b (c 2) -> b c", (2, 12), {}),
    ("rearrange", "b c -> b (c c)", (2, 3), {}),
    ("rearrange", "b ((c)) -> b c", (2, 3), {}),
    ("rearrange", "b (c -> b c", (2, 3), {}),
    ("rearrange", "b c) -> b c", (2, 3), {}),
    ("rearrange", "b c . -> b c", (2, 3), {}),
    ("rearrange", "b c", (2, 3), {}),
    ("rearrange", "b c -> b -> c", (2, 3), {}),
    ("rearrange", "b c -> b ...", (2, 3), {}),
    ("rearrange", "b (c ...) -> b c ...", (2, 3), {}),
    ("rearrange", "b c -> c b", (2, 3), {"_c": 3}),
    ("rearrange", "b c+ -> c+ b", (2, 3), {}),
    ("rearrange", "b 0 -> b", (2, 0), {}),
    # repeat
    ("repeat", "1 1 d -> b 1 d", (1, 1, 64), {"b": 4}),
    ("repeat", "1 1 d -> b 1 d", (1, 2, 64), {"b": 4}),
    ("repeat", "h w -> h w c", (3, 4), {"c": 3}),
    ("repeat", "h w -> (h 2) (w 3)", (3, 4), {}),
    ("repeat", "h w -> (repeat h) w", (3, 4), {"repeat": 2}),
    ("repeat", "b d -> b n d", (2, 5), {}),
    ("repeat", "b d -> b d", (2, 5), {"d": 4}),
    ("repeat", "b (d 2) -> b d 2", (2, 6), {}),
    ("repeat", "b ... -> b k ...", (2, 3, 4), {"k": 2}),
    ("repeat", "(h h2) w -> h (w h2) 2", (6, 4), {"h2": 3}),
    ("repeat", "(h h2) w -> h (w h2) 2", (7, 4), {"h2": 3}),
    ("repeat", "b -> b 1 n", (3,), {"n": 2}),
    # reduce, functions and layers
    ("reduce", "b c h w -> b c", (2, 3, 4, 5), {}, "mean"),
    ("Reduce", "b c h w -> b c", (2, 3, 4, 5), {}, "mean"),
    ("Reduce", "b c h w -> b c", (2, 3, 4), {}, "mean"),
    ("reduce", "b c (h h2) (w w2) -> b c h w", (2, 3, 8, 8), {"h2": 2, "w2": 2}, "max"),
    ("reduce", "b c (h h2) (w w2) -> b c h w", (2, 3, 9, 8), {"h2": 2, "w2": 2}, "max"),
    ("reduce", "b c (h 2) (w 2) -> b c h w", (2, 3, 8, 8), {}, "min"),
    ("reduce", "b c (h 2) (w 2) -> b c h w", (2, 3, 7, 8), {}, "sum"),
    ("reduce", "b c h w -> b c 1 1", (2, 3, 4, 5), {}, "mean"),
    ("reduce", "b c h w -> 1 c () ()", (2, 3, 4, 5), {}, "prod"),
    ("reduce", "b ... -> b", (2, 3, 4, 5), {}, "sum"),
    ("reduce", "b ... c -> b c", (2, 5), {}, "sum"),
    ("reduce", "t b c -> b c", (4, 2, 3), {}, "max"),
    ("reduce", "b c h w -> b c (h w)", (2, 3, 4, 5), {}, "mean"),
    ("reduce", "b c -> b c 2", (2, 3), {}, "mean"),
    ("reduce", "b c -> b c", (2, 3), {}, "median"),
    ("reduce", "b c -> b c d", (2, 3), {}, "sum"),
    ("reduce", "b c -> b", (2, 3), {}, "any"),
    ("reduce", "b c -> c", (2, 3), {}, "all"),
    ("Reduce", "b (h 2) -> b h", (2, 7), {}, "max"),
    ("Reduce", "b c (h h2) -> b c h", (2, 3, 8), {"h2": 3}, "mean"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case[0]}:{case[1]}:{case[2]}")
def test_pattern_agrees_with_einops(case):
    assert_agree(*case)


def test_the_cases_cover_every_outcome():
    """Runs, shape errors and pattern errors each appear among the cases (not vacuous)."""
    outcomes = {"ran": 0, "shape": 0, "pattern": 0}
    for case in CASES:
        outcomes[outcome(run_einops(*case)[1])] += 1
    assert min(outcomes.values()) >= 10, outcomes


def test_every_einops_entry_is_run_against_einops():
    entries = {name for name in list(layers.LAYERS) + list(layers.FUNCTIONS)
               if name.startswith("einops.")}
    assert entries == {ENTRIES[case[0]] for case in CASES} | {"einops.layers.torch.EinMix"}


def test_the_entries_bind_as_einops_does():
    """Every argument bound is one einops takes by its name: call einops with them all."""
    x = torch.zeros(2, 3, 4)
    for operation, args, lengths in (
            ("rearrange", ["b c h -> b h c"], {}), ("repeat", ["b c h -> b (c k) h"], {"k": 2}),
            ("reduce", ["b c h -> b c", "mean"], {}), ("Rearrange", ["b c h -> b h c"], {}),
            ("Reduce", ["b c h -> b c", "max"], {})):
        kind = layers.lookup(ENTRIES[operation])
        layer = operation in LAYER_CLASSES
        bound = kind.bind(([] if layer else [x]) + args, lengths)
        assert bound.pop("axes_lengths") == lengths
        y = LAYER_CLASSES[operation](**bound, **lengths)(x) if layer else \
            getattr(einops, operation)(**bound, **lengths)
        assert isinstance(y, torch.Tensor), operation


MIXES = [  # pattern, weight_shape, bias_shape, input shape, lengths
    ("t b cin -> t b cout", "cin cout", "cout", (5, 2, 10), {"cin": 10, "cout": 20}),
    ("t b cin -> t b cout", "cin cout", "cout", (5, 2, 9), {"cin": 10, "cout": 20}),
    ("t b cin -> t b cout", "cin cout", None, (5, 2, 1), {"cin": 10, "cout": 20}),
    ("h w c -> hout w c", "h hout", "hout", (32, 4, 3), {"h": 32, "hout": 16}),
    ("t b c -> t b c", "c", None, (2, 3, 128), {"c": 128}),
    ("t b (head cin) -> t b (head cout)", "head cin cout", None, (2, 3, 12),
     {"head": 4, "cin": 3, "cout": 5}),
    ("t b (head cin) -> t b (head cout)", "head cin cout", None, (2, 3, 13),
     {"head": 4, "cin": 3, "cout": 5}),
    ("b c (h p1) (w p2) -> b (h w) d", "c p1 p2 d", "d", (2, 3, 8, 8),
     {"c": 3, "p1": 4, "p2": 4, "d": 7}),
    ("b c (h p1) (w p2) -> b (h w) d", "c p1 p2 d", "d", (2, 3, 8, 9),
     {"c": 3, "p1": 4, "p2": 4, "d": 7}),
    ("b ... c -> b ... d", "c d", "d", (2, 4, 4, 3), {"c": 3, "d": 5}),
    ("b ... c -> b (...) d", "c d", "d", (2, 4, 4, 3), {"c": 3, "d": 5}),
    ("b c -> b c", "c", None, (2,), {"c": 3}),
    ("b 1 c -> b d", "c d", None, (2, 1, 3), {"c": 3, "d": 2}),
    ("b 1 c -> b d", "c d", None, (2, 2, 3), {"c": 3, "d": 2}),
    # what the constructor rejects
    ("b c -> b d", "c d", None, (2, 3), {"c": 3}),
    ("b c -> b d", "c d", None, (2, 3), {"c": 3, "d": 2, "e": 4}),
    ("b c -> b d", "c d e", None, (2, 3), {"c": 3, "d": 2, "e": 4}),
    ("b c -> b d", "c (d)", None, (2, 3), {"c": 3, "d": 2}),
    ("b c -> b d 2", "c d", None, (2, 3), {"c": 3, "d": 2}),
    ("b c -> b d", "c d", "e", (2, 3), {"c": 3, "d": 2}),
    ("b ... c -> b d", "c d", None, (2, 3), {"c": 3, "d": 2}),
    ("b (c e) -> b d", "c d", None, (2, 6), {"c": 3, "d": 2}),
]


@pytest.mark.parametrize("case", MIXES, ids=lambda case: f"{case[0]}:{case[1]}:{case[3]}")
def test_einmix_agrees_with_einops(case):
    pattern, weight, bias, shape, lengths = case
    kind = layers.LAYERS["einops.layers.torch.EinMix"]
    bound = kind.bind([pattern, weight, bias], dict(lengths))
    got, problems = kind.apply(bound, shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = EinMix(pattern, weight, bias, **lengths)
        except Exception:  # noqa: BLE001 - the constructor's rejection is the oracle
            assert (got, problems, kind.params(bound)) == (None, [], None)
            return
        assert kind.params(bound) == sum(p.numel() for p in layer.parameters())
        assert kind.parameter_shape(bound, "weight") == tuple(layer.weight.shape)
        try:
            out = tuple(layer(torch.zeros(shape)).shape)
        except Exception as error:  # noqa: BLE001
            if "Shape mismatch" in str(error) or isinstance(error, KeyError):
                assert got is None and [p.code for p in problems] == \
                    ([] if isinstance(error, KeyError) else ["CNV114"]), error
            else:  # the einsum's: left unclaimed
                assert (got, problems) == (None, []), error
            return
    assert (got, problems) == (out, [])


# ---- random patterns from a small generator

NAMES = ["a", "b", "c", "h", "w", "p1", "p_2", "k"]


def random_case(rng: random.Random):
    """A pattern built from axes of known sizes: grouped and permuted on each side, some
    lengths given (now and then wrong), the input shape now and then off by one."""
    count = rng.randint(1, 5)
    names = rng.sample(NAMES, count)
    size = {name: rng.choice([1, 2, 3, 4, 6]) for name in names}
    operation = rng.choice(["rearrange", "rearrange", "repeat", "reduce", "Rearrange", "Reduce"])
    left_groups = _grouped(rng, names)
    kept = list(names)
    if operation in ("reduce", "Reduce"):
        kept = [n for n in names if rng.random() < 0.6]
    right_axes = rng.sample(kept, len(kept))
    lengths = {}
    if operation == "repeat":
        extra = [n for n in NAMES if n not in names][:rng.randint(0, 2)]
        for name in extra:
            lengths[name] = rng.choice([1, 2, 3])
            right_axes.insert(rng.randint(0, len(right_axes)), name)
    ellipsis = rng.random() < 0.15 and len(left_groups) > 1
    if ellipsis:  # the first group becomes `...` on the left and stays together on the right
        spelt = left_groups.pop(0)
        right_axes = [n for n in right_axes if n not in spelt]
        right_axes.insert(rng.randint(0, len(right_axes)), "...")
    for group in left_groups:
        unknown = [n for n in group if n not in lengths]
        for name in unknown[1:] if len(group) > 1 else []:
            lengths[name] = size[name]
        if len(unknown) == 1 and len(group) > 1 and rng.random() < 0.3:
            lengths[unknown[0]] = size[unknown[0]]
    for name in list(lengths):
        if name in size and rng.random() < 0.15:
            lengths[name] = size[name] + 1  # wrong, now and then
    right_groups = _grouped(rng, right_axes)
    left_text = ("... " if ellipsis else "") + _text(left_groups)
    pattern = f"{left_text} -> {_text(right_groups)}"
    shape = tuple(_product(size[n] for n in group) for group in left_groups)
    if ellipsis:
        shape = tuple(size[n] for n in spelt) + shape
    if shape and rng.random() < 0.2:
        i = rng.randrange(len(shape))
        shape = shape[:i] + (shape[i] + 1,) + shape[i + 1:]
    reduction = rng.choice(["sum", "mean", "max"]) if operation in ("reduce", "Reduce") else None
    return operation, pattern.replace("( ", "(").replace(" )", ")"), shape, lengths, reduction


def _grouped(rng, axes) -> list:
    groups, i = [], 0
    while i < len(axes):
        n = rng.choice([1, 1, 2, 3])
        groups.append(list(axes[i:i + n]))
        i += n
    return groups


def _text(groups) -> str:
    return " ".join(group[0] if len(group) == 1 else "(" + " ".join(group) + ")"
                    for group in groups)


def _product(values) -> int:
    total = 1
    for v in values:
        total *= v
    return total


def test_random_patterns_agree_with_einops():
    rng = random.Random(12)
    outcomes = {"ran": 0, "shape": 0, "pattern": 0}
    for _ in range(400):
        _, error = assert_agree(*random_case(rng))
        outcomes[outcome(error)] += 1
    assert outcomes["ran"] >= 200 and outcomes["shape"] >= 40, outcomes


def test_random_strings_agree_with_einops():
    """Patterns typed wrong: every string einops runs or rejects, the catalogue follows."""
    rng = random.Random(114)
    alphabet = ["b", "c", "h", "w", "_", "1", "2", "3", "0", " ", " ", "(", ")", "...", ".",
                "->", "->", "x1", "é"]
    for _ in range(400):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if "->" not in pattern:
            pattern += " -> " + pattern[::-1]
        operation = rng.choice(["rearrange", "repeat", "reduce", "Rearrange", "Reduce"])
        shape = tuple(rng.choice([1, 2, 4]) for _ in range(rng.randint(0, 4)))
        lengths = {name: rng.choice([1, 2]) for name in rng.sample(["b", "c", "h"], 1)} \
            if rng.random() < 0.3 else {}
        reduction = "sum" if "educe" in operation else None
        assert_agree(operation, pattern, shape, lengths, reduction)


# ---- symbolic sizes: a claim must hold at every size

H = sizes.symbol("H")
SYMBOLIC = [
    ("rearrange", "b c (h p) -> b (c p) h", (2, 3, H), {"p": 16}),
    ("rearrange", "b c (h p) -> b (c p) h", (2, 3, H.then((16, 0, 1))), {"p": 16}),
    ("rearrange", "b c (h p) -> b (c p) h", (2, 3, H.then((32, 0, 1))), {"p": 16}),
    ("rearrange", "b c (h p) -> b (c p) h", (2, 3, H.then((2, 1, 1))), {"p": 2}),
    ("rearrange", "b c (h p) -> b (c p) h", (2, 3, H.then((2, 1, 1))), {"p": 3}),
    ("rearrange", "b c (h p) (w q) -> b (h w) (p q c)", (2, 3, H, H), {"p": 4, "q": 2}),
    ("rearrange", "b h -> b h", (2, H.then((2, 1, 1))), {"h": 4}),
    ("rearrange", "b h -> b h", (2, H), {"h": 4}),
    ("rearrange", "b 1 h -> b h", (2, H.then((1, 1, 1)), 3), {}),
    ("rearrange", "b c h -> b (c h)", (2, H, H.then((1, 0, 2))), {}),
    ("reduce", "b c (h 2) -> b c h", (2, 3, H.then((4, 2, 1))), {}, "mean"),
    ("reduce", "b c (h 2) -> b c h", (2, 3, H.then((4, 1, 1))), {}, "mean"),
    ("repeat", "b h -> b (h k)", (2, H), {"k": 3}),
    # lengths read from a tensor: B, C, H, W = x.shape, then 'b (h w) c -> b c h w'
    ("rearrange", "b (h w) c -> b c h w", (2, sizes.product([H, H.then((1, 0, 2))]), 3),
     {"h": H}),
    ("rearrange", "b (h w) c -> b c h w", (2, sizes.product([H, H.then((1, 0, 2))]), 3),
     {"h": H, "w": H.then((1, 0, 2))}),
    ("rearrange", "b (h w) c -> b c h w", (2, H, 3), {"h": H}),
]


@pytest.mark.parametrize("case", SYMBOLIC, ids=lambda case: f"{case[0]}:{case[1]}:{case[2]}")
def test_symbolic_sizes_hold_at_every_size(case):
    operation, pattern, shape, lengths, *reduction = case
    got, problems = predict(operation, pattern, shape, lengths, *reduction)
    values = range(1, 80)
    outcomes = []
    for h in values:
        concrete = tuple(sizes.value_at(d, {"H": h}) for d in shape)
        given = {k: sizes.value_at(v, {"H": h}) for k, v in lengths.items()}
        if any(d is None or d < 1 for d in concrete + tuple(given.values())):
            continue  # not a valid input size
        outcomes.append((h, *run_einops(operation, pattern, concrete, given, *reduction)))
    assert outcomes
    if problems:  # every size fails, and with this code
        for h, out, error in outcomes:
            assert error is not None and problems[0].code in oracle.codes_for_error(error), h
    elif got is not None:  # exact wherever einops runs
        for h, out, error in outcomes:
            if error is None:
                assert tuple(sizes.value_at(d, {"H": h}) for d in got) == out, h
    if all(error is not None for _, _, error in outcomes):
        assert problems, "every size fails: the error must be claimed"
    else:
        assert not problems and got is not None and None not in got


# ---- whole models: import styles, the batch, and torch's run as the oracle

MODELS = {
    "import einops": '''
import torch.nn as nn
import einops


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(einops.rearrange(x, "b c h w -> b (c h w)"))
''',
    "from einops import as": '''
import torch.nn as nn
from einops import rearrange as r, reduce


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 8 * 8, 10)

    def forward(self, x):
        x = reduce(x, "b c (h 8) (w 8) -> b c h w", "max")
        return self.fc(r(x, "b c h w -> b (c h w)"))  # expect: CNV103
''',
    "layers in Sequential": '''
import torch.nn as nn
from einops.layers.torch import EinMix, Rearrange, Reduce


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            Reduce("b c (h 2) (w 2) -> b c h w", "max"),
            Rearrange("b c h w -> b (h w) c"),
            nn.LayerNorm(16),
            Reduce("b n c -> b c", "mean"),
            nn.Linear(16, 10),
        )

    def forward(self, x):
        return self.net(x)
''',
    "repeat with the batch": '''
import torch
import torch.nn as nn
from einops import repeat


# conv-lint: input-shape=5,8
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, 8))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        b, n, _ = x.shape
        cls_tokens = repeat(self.cls_token, "1 1 d -> b 1 d", b=b)
        x = torch.cat((cls_tokens, x), dim=1)
        return self.head(x[:, 0]) + x[:, :n + 1].mean(dim=1).sum(dim=1, keepdim=True)
''',
    "a patch not dividing the image": '''
import torch.nn as nn
from einops import rearrange


# conv-lint: input-shape=3,30,30
class Net(nn.Module):
    def __init__(self, patch=4):
        super().__init__()
        self.patch = patch
        self.fc = nn.Linear(3 * patch * patch, 10)

    def forward(self, x):
        p = self.patch
        x = rearrange(x, "b c (h p) (w q) -> b (h w) (p q c)", p=p, q=p)  # expect: CNV114
        return self.fc(x)
''',
    "a patch size of the constructor's": '''
import torch.nn as nn
from einops.layers.torch import Rearrange


# conv-lint: input-shape=3,32,32
# oracle: args=16, 64 | 8, 32 | 4, 10
class PatchEmbedding(nn.Module):
    def __init__(self, patch, dim, channels=3):
        super().__init__()
        self.net = nn.Sequential(
            Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=patch, p2=patch),
            nn.Linear(patch * patch, dim),
        )

    def forward(self, x):
        return self.net(x)  # expect: CNV103
''',
    "tokens back to a map, sized from x.shape": '''
import torch.nn as nn
from einops import rearrange


# oracle: input-shape=32,8,6
class Block(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.conv(x)
        B, C, H, W = x.shape
        x = self.norm(rearrange(x, "b c h w -> b (h w) c"))
        x = self.conv(rearrange(x, "b (h w) c -> b c h w", h=H, w=W))
        x = rearrange(rearrange(x, "b c h w -> b (h w) c"), "b (h w) c -> b c h w", h=H)
        return self.fc(self.conv(x).mean(dim=(2, 3)))
''',
    "a rank the pattern does not take": '''
import torch.nn as nn
from einops import rearrange


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        x = self.conv(x).flatten(2)
        return rearrange(x, "b c h w -> b h w c")  # expect: CNV111
''',
}


@pytest.mark.parametrize("name", MODELS)
def test_models_are_reported_as_torch_runs_them(name, tmp_path):
    source = MODELS[name]
    expected = {(line, code) for line, codes in oracle.expectations_in(source).items()
                for code in codes}
    analysis = analyse(source, "model.py")
    assert analysis.error is None
    assert {(f.line, f.code) for f in analysis.findings} == expected
    path = tmp_path / "model.py"
    path.write_text(source)
    for root in oracle.find_root_classes(path):  # one per `# oracle: args=` list
        outcome = oracle.run_root(oracle.load_fixture(path), root, path)
        if expected:
            ((line, code),) = expected
            assert outcome.line == line and code in oracle.codes_for_error(outcome.error), \
                outcome.describe()
        else:
            assert outcome.error is None, outcome.describe()
            rows = {row.name: row.output_shape for row in analysis.models[0].layers}
            assert all(shape is not None for shape in rows.values()), rows


def test_a_pattern_fixes_the_rank_of_an_input_without_one():
    """No input shape: the first pattern says the input is (N, C, H, W), as a Conv2d would;
    the configured per-sample shape is taken when its rank fits."""
    source = MODELS["a patch not dividing the image"].replace(
        "# conv-lint: input-shape=3,30,30\n", "")
    (model,) = analyse(source, "model.py").models
    assert model.input_shape == [None, "H", "W"]
    assert model.layers[0].output_shape == ["floor(H/4)*floor(W/4)", 10]
    found = analyse(source, "model.py", (3, 30, 30)).findings
    assert [(f.line, {f.code}) for f in found] == list(oracle.expectations_in(source).items())
    assert analyse(source, "model.py", (3, 32, 32)).findings == []


def test_the_batch_flows_through_repeat():
    """b from x.shape is the batch: the rows keep it (a row without it has no shape)."""
    (model,) = analyse(MODELS["repeat with the batch"], "model.py").models
    assert [(row.name, row.output_shape) for row in model.layers] == [("head", [2])]
    assert predict("repeat", "1 1 d -> b 1 d", (1, 1, 8), {"b": sizes.BATCH}) == \
        ((sizes.BATCH, 1, 8), [])


def test_conv_lint_never_imports_einops():
    package = Path(__file__).resolve().parent.parent / "conv_lint"
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not any(n.split(".")[0] in ("einops", "torch") for n in names), path
