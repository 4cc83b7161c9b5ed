"""Embeddings, Fold / Unfold and the lazy layers against torch (the oracle of test_layers.py).

Embedding cases feed torch zeros of dtype long (token ids); every case goes through
``test_layers.assert_agree``: the bound arguments, output shape, parameter count and problems
both ways. Lazy layers also: the layer a first call builds (its type and parameter count as
torch has them after that call) and the checks of later calls.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import replace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import oracle
from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.engine import analyse
from conv_lint.interpreter.values import Tensor
from test_fixtures import compare_rows
from test_layers import (
    N, assert_agree, case_producer, codes_for, fn_case, nn_case, parameter_count,
)

IDS = [(N, 5), (N,), (), (N, 4, 5), (7,), (N, 0)]


def ids_case(name: str, *args, shape, **kwargs):
    return replace(nn_case(name, *args, shape=shape, **kwargs), integer=True)


# ---------------------------------------------------------------- embeddings


@case_producer
def _embedding_cases() -> list:
    cases = [ids_case("Embedding", 10, 3, shape=shape) for shape in IDS]
    for padding_idx in (0, 9, 10, -10, -11, None):
        cases.append(ids_case("Embedding", 10, 3, padding_idx=padding_idx, shape=(N, 5)))
    cases += [ids_case("Embedding", -1, 3, shape=(N, 5)),
              ids_case("Embedding", 10, -3, shape=(N, 5)),
              ids_case("Embedding", 10, 0, shape=(N, 5)),
              ids_case("Embedding", 10, 4, max_norm=1.0, sparse=True, shape=(N, 6))]
    for shape in IDS + [(N, 3, 4)]:
        cases.append(ids_case("EmbeddingBag", 10, 3, shape=shape))
    for kwargs in ({"mode": "max"}, {"mode": "sum"}, {"mode": "foo"},
                   {"include_last_offset": True}, {"padding_idx": 10}, {"padding_idx": -10},
                   {"padding_idx": -11}):
        cases.append(ids_case("EmbeddingBag", 10, 3, shape=(N, 4), **kwargs))
    cases.append(ids_case("EmbeddingBag", 10, 3, mode="foo", shape=(N, 4, 2)))
    return cases


def test_embeddings_against_torch():
    assert_agree(_embedding_cases())


def test_embedding_parameters_and_symbolic_ids():
    module = nn.Embedding(7, 5)
    kind = layers.LAYERS["torch.nn.Embedding"]
    bound = kind.bind([7, 5], {})
    assert kind.parameter_shape(bound, "weight") == tuple(module.weight.shape)
    length = sizes.symbol("L")
    out, problems = kind.apply(bound, (sizes.BATCH, length))
    assert problems == [] and out[1] is length and out[2] == module(
        torch.zeros(2, 9, dtype=torch.long)).shape[2]


@pytest.mark.parametrize("ids, weight, padding_idx", [
    ((2, 5), (10, 3), None), ((5,), (10, 3), 9), ((2, 4, 5), (10, 6), -10), ((), (4, 2), None),
    ((2, 5), (10, 3, 2), None), ((2, 5), (10,), None), ((2, 5), (10, 3), 10),
    ((2, 5), (10, 3), -11), ((2, 5), (10,), 10),
])
def test_functional_embedding_against_torch(ids, weight, padding_idx):
    """F.embedding(ids, weight): the weight's shape is a tensor argument of the call."""
    kind = layers.FUNCTIONS["torch.nn.functional.embedding"]
    bound = kind.bind([Tensor(ids), Tensor(weight)], {"padding_idx": padding_idx})
    out, problems = kind.apply(bound, ids)
    try:
        real = F.embedding(torch.zeros(ids, dtype=torch.long), torch.zeros(weight),
                           padding_idx=padding_idx)
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        assert problems and problems[0].code in codes_for(error), (error, problems)
        return
    assert problems == [] and out == tuple(real.shape)


def test_functional_embedding_of_an_unknown_weight_is_unknown():
    kind = layers.FUNCTIONS["torch.nn.functional.embedding"]
    assert kind.apply(kind.bind([Tensor((2, 5)), Tensor()], {}), (2, 5)) == (None, [])


# ---------------------------------------------------------------- fold and unfold


@case_producer
def _fold_cases() -> list:
    cases = []
    dilated = {"stride": 2, "padding": 1, "dilation": 2}
    geometries = [((3,), {}), ((2,), {"stride": 2}), (((2, 3),), dilated),
                  ((9,), {}), ((10,), {"stride": 2}), ((0,), {}), ((3,), {"stride": 0}),
                  ((3,), {"dilation": 0}), ((3,), {"padding": -1}), (((3, 3, 3),), {}),
                  (((3,),), {}), ((3,), {"stride": 0, "padding": -1}),
                  ((0,), {"dilation": 0}), ((3,), {"padding": (1, 1, 1), "stride": (1, 1, 1)})]
    for (args, kwargs), shape in itertools.product(geometries, [
            (N, 4, 8, 8), (4, 8, 9), (8, 8), (N, 4, 8, 8, 8), (N, 0, 8, 8), (0, 4, 8, 8),
            (N, 4, 0, 8)]):
        cases.append(nn_case("Unfold", *args, shape=shape, **kwargs))
        cases.append(fn_case("torch.nn.functional.unfold", *args, shape=shape, **kwargs))
    geometries = [(((4, 5), 2), {}), ((4, 2), {"stride": 2}), ((1, 2), {}),
                  ((1, 2), {"stride": 2}),
                  ((0, 2), {}), ((4, 0), {}), ((4, 2), {"stride": 0}), ((4, 2), {"padding": -1}),
                  ((4, 2), {"dilation": 0}), ((4, 2), {"dilation": 0, "padding": -1}),
                  ((4, 2), {"dilation": 0, "stride": 0}), (((4, 4, 4), 2), {}),
                  ((4, (2, 2, 2)), {}), ((4, 2), {"stride": (1, 1, 1)}),
                  ((6, 3), {"padding": 1, "stride": 2})]
    for (args, kwargs), shape in itertools.product(geometries, [
            (N, 12, 12), (12, 12), (N, 13, 12), (N, 12, 11), (N, 4, 9), (N, 8, 4), (N, 4, 1),
            (N, 3, 12, 12), (12,), (N, 0, 9), (0, 4, 9), (N, 4, 0), (N, 27, 9)]):
        cases.append(nn_case("Fold", *args, shape=shape, **kwargs))
        cases.append(fn_case("torch.nn.functional.fold", *args, shape=shape, **kwargs))
    for kernel, kwargs in (((3,), {}), ((2,), {"stride": 2}), (((2, 3),), dilated),
                           ((3,), {"padding": 1, "stride": 3}), ((1,), {})):
        blocks = tuple(nn.Unfold(*kernel, **kwargs)(torch.zeros(1, 4, 8, 9)).shape[1:])
        for shape in ((N,) + blocks, blocks):  # what Unfold gives, folded back to 8 x 9
            cases.append(nn_case("Fold", (8, 9), *kernel, shape=shape, **kwargs))
            cases.append(fn_case("torch.nn.functional.fold", (8, 9), *kernel, shape=shape,
                                 **kwargs))
    return cases


def test_fold_and_unfold_against_torch():
    assert_agree(_fold_cases())


def test_unfold_then_fold_of_a_symbolic_map():
    unfold = layers.LAYERS["torch.nn.Unfold"]
    h = sizes.symbol("H")
    out, problems = unfold.apply(unfold.bind([3], {"stride": 1}), (sizes.BATCH, 4, h, 8))
    real = nn.Unfold(3)(torch.zeros(2, 4, 11, 8))
    assert problems == [] and out[1] == real.shape[1]
    assert sizes.value_at(out[2], {"H": 11}) == real.shape[2]


# ---------------------------------------------------------------- lazy layers


@case_producer
def _lazy_cases() -> list:
    cases = []
    for n in (1, 2, 3):
        image = (N, 4) + (8,) * n
        for shape in (image, image[1:], (N, 4) + (8,) * (n + 1), (N, 4) + (2,) * n):
            cases.append(nn_case(f"LazyConv{n}d", 8, 3, shape=shape))
            cases.append(nn_case(f"LazyConvTranspose{n}d", 8, 3, shape=shape))
        for args, kwargs in (((8, 3), {"groups": 2}), ((8, 3), {"groups": 3}),
                             ((7, 3), {"groups": 2}), ((8, 3), {"stride": 0}),
                             ((8, 3), {"stride": 2, "padding": "same"}), ((8, -1), {}),
                             ((8, 3), {"groups": 0}), ((8, 3), {"padding": "same"}),
                             ((8, 3), {"bias": False, "padding_mode": "reflect"})):
            cases.append(nn_case(f"LazyConv{n}d", *args, shape=image, **kwargs))
            cases.append(nn_case(f"LazyConvTranspose{n}d", *args, shape=image, **kwargs))
        for kind in ("BatchNorm", "InstanceNorm"):
            for kwargs in ({}, {"affine": False}, {"affine": False, "track_running_stats": False},
                           {"bias": False}):
                for shape in (image, image[1:], (4,), (N if kind == "BatchNorm" else 3, 4, 1),
                              (3, 4)):
                    cases.append(nn_case(f"Lazy{kind}{n}d", shape=shape, **kwargs))
    for shape in ((N, 4, 5), (N, 0), (), (5,)):
        cases.append(nn_case("LazyLinear", 8, shape=shape))
    cases += [nn_case("LazyLinear", -1, shape=(N, 4)), nn_case("LazyLinear", 8, bias=False,
                                                               shape=(N, 4))]
    return cases


def test_lazy_layers_against_torch():
    assert_agree(_lazy_cases())


LAZY_RUNS = [  # a lazy layer, its first input, then a second input: what torch says of both
    ("LazyConv2d", (8, 3), {}, (2, 4, 8, 8), (2, 4, 9, 9)),
    ("LazyConv2d", (8, 3), {}, (2, 4, 8, 8), (2, 5, 8, 8)),
    ("LazyConv2d", (8, 3), {"groups": 2}, (4, 8, 8), (2, 4, 8, 8)),
    ("LazyConvTranspose1d", (6, 3), {"groups": 3}, (2, 9, 8), (2, 6, 8)),
    ("LazyConv3d", (2, 1), {"bias": False}, (2, 3, 4, 4, 4), (2, 3, 5, 5, 5)),
    ("LazyLinear", (8,), {}, (2, 7, 5), (2, 5)),
    ("LazyLinear", (8,), {"bias": False}, (2, 5), (2, 6)),
    ("LazyBatchNorm2d", (), {}, (2, 6, 4, 4), (2, 5, 4, 4)),
    ("LazyBatchNorm1d", (), {"affine": False}, (2, 6), (2, 6, 3)),
    ("LazyBatchNorm1d", (), {"affine": False, "track_running_stats": False}, (2, 6), (2, 4)),
    ("LazyInstanceNorm2d", (), {}, (2, 6, 4, 4), (2, 5, 4, 4)),
    ("LazyInstanceNorm1d", (), {"affine": False, "track_running_stats": False}, (2, 6, 4),
     (2, 5, 4)),
]


@pytest.mark.parametrize("name, args, kwargs, first, second", LAZY_RUNS)
def test_a_lazy_layer_is_built_by_its_first_call(name, args, kwargs, first, second):
    """After the first call, torch's module is the eager layer with the input's in-size: its
    class name and parameter count are the catalogue's, and the next call is checked so."""
    module = getattr(nn, name)(*args, **kwargs)
    kind = layers.LAYERS[f"torch.nn.{name}"]
    bound = kind.bind(list(args), dict(kwargs))
    assert kind.params(bound) == parameter_count(module)  # None: not allocated yet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module(torch.zeros(first))
    built = kind.materialised(bound, first)
    assert kind.type_name(built) == type(module).__name__
    assert kind.params(built) == sum(p.numel() for p in module.parameters())
    for attr in ("weight", "bias"):
        real = getattr(module, attr, None)
        assert kind.parameter_shape(built, attr) == (None if real is None else tuple(real.shape))
    assert kind.materialised(built, second) is None  # built once
    out, problems = kind.apply(built, second)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            real = module(torch.zeros(second))
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        assert problems and problems[0].code in codes_for(error), (error, problems)
        return
    assert problems == [] and out == tuple(real.shape)


def test_a_lazy_layer_first_reached_by_an_unknown_shape_is_built_unknown():
    """torch builds it from whatever came: its in-size and parameters stay unknown, and no
    later call is judged against a size it may not have."""
    conv = layers.LAYERS["torch.nn.LazyConv2d"]
    bound = conv.bind([8, 3], {})
    for shape in (None, (sizes.BATCH, None, 8, 8)):
        built = conv.materialised(bound, shape)
        assert conv.type_name(built) == "Conv2d" and conv.params(built) is None
        assert conv.apply(built, (sizes.BATCH, 5, 8, 8)) == ((sizes.BATCH, 8, 6, 6), [])
    assert conv.apply(bound, (sizes.BATCH, None, 8, 8))[0] == (sizes.BATCH, 8, 6, 6)
    norm = layers.LAYERS["torch.nn.LazyBatchNorm2d"]
    plain = norm.bind([], {"affine": False, "track_running_stats": False})
    assert norm.params(norm.materialised(plain, None)) == 0  # nothing to allocate


# ---------------------------------------------------------------- in forward, against torch

BAGS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Bags(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(100, 8, mode="sum")
        self.weight = nn.Parameter(torch.randn(100, 6))
        self.fc = nn.LazyLinear(4)
        self.fold = nn.Fold((12, 6), 2, stride=2)

    def forward(self, ids):
        bags = self.bag(ids)
        flat = self.bag(ids.flatten(), torch.arange(0, ids.numel(), ids.size(1)))
        looked_up = F.embedding(ids, self.weight)
        blocks = F.unfold(looked_up.unsqueeze(1), 2, stride=2)
        image = self.fold(blocks)
        return self.fc(bags + flat), self.fc(looked_up), image
"""
SECOND_FC = 20  # the LazyLinear, built for 8 features, is given the 6 of F.embedding


def _model_file(tmp_path, source: str):
    path = tmp_path / "bags.py"
    path.write_text(source)
    return path


def test_token_ids_through_bags_blocks_and_a_lazy_head(tmp_path):
    """Explain's rows are torch's (long zeros of (N, 12) in); the lazy head, built by its first
    call, then rejects the 6 features of F.embedding as torch does."""
    widened = "self.fc(looked_up.sum(2, keepdim=True).expand(-1, -1, 8))"
    fixed = BAGS.replace("self.fc(looked_up)", widened)
    fixed = fixed.replace("self.fc(bags + flat)", "self.fc(bags)")
    path = _model_file(tmp_path, fixed)
    calls = oracle.trace_calls(oracle.load_fixture(path).Bags(), (12,))
    (table,) = analyse(fixed, str(path), input_shape=(12,)).models
    excused = {"bag"}  # its call with offsets is not followed
    assert compare_rows("Bags", table.layers, calls, excused) == []
    assert [row.type for row in table.layers if row.name == "fc"] == ["Linear", "Linear"]
    buggy = BAGS.replace("self.fc(bags + flat)", "self.fc(bags)")
    path = _model_file(tmp_path, buggy)
    outcome = oracle.run_model(oracle.load_fixture(path).Bags(), (12,), path)
    assert outcome.line == SECOND_FC and "CNV103" in oracle.codes_for_error(outcome.error)
    findings = analyse(buggy, input_shape=(12,), tables=False).findings
    assert [(f.line, f.code) for f in findings] == [(SECOND_FC, "CNV103")]
    assert "fc expects 8 input features but receives 6 (from F.embedding)" in findings[0].message


def test_a_lazy_layer_first_given_an_unknown_shape_is_never_judged(tmp_path):
    """The head's first input is unknown (the bag with offsets): torch builds it from that
    input, so the size later calls need is unknown too, and nothing is claimed."""
    path = _model_file(tmp_path, BAGS)
    outcome = oracle.run_model(oracle.load_fixture(path).Bags(), (12,), path)
    assert outcome.line == SECOND_FC  # torch fails, but only the first input tells why
    assert analyse(BAGS, input_shape=(12,), tables=False).findings == []


def test_ids_of_another_rank_than_one_axis_are_not_assumed(tmp_path):
    """--input-shape 3,32,32 says nothing of a text model's ids: its shapes stay unknown."""
    (table,) = analyse(BAGS, input_shape=(3, 32, 32)).models
    assert all(row.output_shape is None for row in table.layers)
    assert analyse(BAGS, input_shape=(3, 32, 32), tables=False).findings == []
