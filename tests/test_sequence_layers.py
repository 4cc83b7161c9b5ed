"""Sequence and attention layers against torch: RNN / LSTM / GRU and their cells,
MultiheadAttention and the Transformer layers.

Their forward takes several tensors or returns a tuple (``(output, (h_n, c_n))``), so each case
gives the constructor's arguments, forward's tensors (by shape; N is the batch axis, 2 in torch)
and forward's other arguments. torch builds the layer and runs it on zeros; the catalogue must
agree on the structure of the result (every tensor's shape, None where torch gives None), the
parameter count, and the errors both ways, the code matching torch's message. Where torch raises
about how key and value agree with each other, or a batch mismatch, the catalogue claims nothing
and gives no result (listed in UNCLAIMED).
"""

from __future__ import annotations

import random
import re
import warnings
from dataclasses import dataclass, field
from typing import Optional

import pytest
import torch
import torch.nn as nn

from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.codes import message
from conv_lint.engine import analyse
from conv_lint.interpreter.values import UNKNOWN, Layer
from tests.test_layers import codes_for

N = "N"
BATCH = 2

# torch's messages for these layers, and the codes that fit them
_ERRORS = [(re.compile(pattern), set(codes.split())) for pattern, codes in [
    (r"input.size\(-1\) must be equal to input_size|input has inconsistent input_size|"
     r"was expecting embedding dimension|expecting (query|key|value) weights shape|"
     r"mat1 and mat2 shapes cannot be multiplied|feature number of src and tgt must be equal|"
     r"Given normalized_shape=", "CNV112"),
    (r"Given normalized_shape=", "CNV102"),  # a stack's final norm
    (r"Expected input to be \dD or \dD|query should be unbatched 2D or batched 3D|"
     r"expected `key` and `value` to be|tuple index out of range", "CNV111"),
    (r"Expected sequence length to be larger than 0", "CNV105"),
    (r"must be greater than zero|should be of type|proj_size|Unknown nonlinearity|"
     r"dropout should be a number|embed_dim must be divisible|must be greater than 0|"
     r"negative dimension|dropout probability|activation should be", "CNV110"),
]]
UNCLAIMED = re.compile(r"does not match value shape|do not match value's|batch number of src|"
                       r"shape '\[.*\]' is invalid for input of size|"
                       r"Sizes of tensors must match except in dimension 0")


def sequence_codes(error: BaseException) -> set:
    found = {code for pattern, codes in _ERRORS if pattern.search(str(error)) for code in codes}
    return found or codes_for(error)


@dataclass(frozen=True)
class Sub:
    """A layer given as an argument (TransformerEncoder's encoder_layer): built on both sides."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def torch(self):
        return getattr(nn, self.name)(*self.args, **self.kwargs)

    def ours(self):
        kind = layers.LAYERS[f"torch.nn.{self.name}"]
        return Layer(kind=kind, bound=kind.bind(list(self.args), dict(self.kwargs)))


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: tuple = ()  # forward's tensors, by shape
    call: dict = field(default_factory=dict)  # forward's other arguments

    def __str__(self) -> str:
        return f"{self.name}{self.args} {self.kwargs} on {self.inputs} {self.call}"


def case(name, *args, inputs, call=None, **kwargs) -> Case:
    return Case(name, args, kwargs, tuple(tuple(s) for s in inputs), call or {})


def _both(value, side: str):
    return getattr(value, side)() if isinstance(value, Sub) else value


def _torch_shapes(value):
    if isinstance(value, tuple):
        return tuple(_torch_shapes(v) for v in value)
    return None if value is None else tuple(value.shape)


def run_torch(c: Case, batch: int = BATCH):
    """("init" | "forward", error) or ("ok", result shapes, params)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = getattr(nn, c.name)(*[_both(a, "torch") for a in c.args],
                                         **{k: _both(v, "torch") for k, v in c.kwargs.items()})
        except Exception as error:  # noqa: BLE001 - any error torch raises is the oracle
            return "init", error, None
        params = sum(p.numel() for p in module.parameters())
        tensors = [torch.zeros([batch if d == N else d for d in s]) for s in c.inputs]
        try:
            return "ok", _torch_shapes(module(*tensors, **c.call)), params
        except Exception as error:  # noqa: BLE001
            return "forward", error, params


def _ours(value):
    if isinstance(value, tuple):
        return tuple(_ours(v) for v in value)
    if value is None:
        return None
    if isinstance(value, layers.Shaped):
        return None if value.shape is None else tuple(
            BATCH if d is sizes.BATCH else d for d in value.shape)
    return "UNKNOWN"


def _known_shapes(result) -> list:
    """The shapes the catalogue gives in a result: none where it makes no claim."""
    if isinstance(result, tuple):
        return [shape for part in result for shape in _known_shapes(part)]
    return [result.shape] if isinstance(result, layers.Shaped) and result.shape else []


def predict(c: Case):
    kind = layers.LAYERS[f"torch.nn.{c.name}"]
    bound = kind.bind([_both(a, "ours") for a in c.args],
                      {k: _both(v, "ours") for k, v in c.kwargs.items()})
    assert bound is not None, f"{c}: the catalogue could not bind the call"
    inputs = [layers.Shaped(tuple(sizes.BATCH if d == N else d for d in s)) for s in c.inputs]
    result, problems = kind.forward(bound, inputs, dict(c.call))
    return bound, kind.check(bound), result, problems, kind.params(bound)


def mismatch(c: Case) -> Optional[str]:
    stage, got, params = run_torch(c)
    bound, check, result, problems, our_params = predict(c)
    claimed = check + problems
    for problem in claimed:
        message(problem.code, layer="layer", source="", **problem.fields)
    if stage == "init":
        if not check or check[0].when != "init" or check[0].code not in sequence_codes(got):
            return f"{c}: torch raised at construction ({got}), predicted {claimed}"
        return None if our_params is None else f"{c}: {our_params} params of a layer not built"
    if our_params != params:
        return f"{c}: {our_params} parameters, torch counts {params}"
    if stage == "forward":
        if not claimed and not _known_shapes(result) and UNCLAIMED.search(str(got)):
            return None
        if not claimed and run_torch(c, batch=3)[0] == "ok":
            return None  # it fails for a batch of 2 only: the batch size is unknown, no claim
        if not claimed:
            return f"{c}: torch raised at the call ({got}), predicted nothing ({result})"
        if claimed[0].when != "forward" or claimed[0].code not in sequence_codes(got):
            return f"{c}: torch raised {got}, predicted {claimed[0]}"
        return None
    if claimed:
        return f"{c}: torch ran, predicted {claimed}"
    if _ours(result) != got:
        return f"{c}: result {_ours(result)}, torch gives {got}"
    return None


def assert_agree(cases) -> None:
    failures = [text for text in map(mismatch, cases) if text is not None]
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:25])


# ---------------------------------------------------------------- recurrent layers

RECURRENT_SHAPES = [(5, N, 3), (N, 5, 3), (5, 3), (5, N, 4), (5, 4), (N, 5, 2, 3), (3,),
                    (0, N, 3), (N, 0, 3), (5, 0, 3), (1, 3), (N, 1, 3)]


def recurrent_cases() -> list:
    cases = []
    for name in ("RNN", "LSTM", "GRU"):
        for layers_, bidirectional, batch_first, extra in (
                (1, False, False, {}), (2, True, False, {}), (1, True, True, {}),
                (3, False, True, {"bias": False}), (2, False, False, {"dropout": 0.5}),
                (1, False, False, {"nonlinearity": "relu"} if name == "RNN" else {}),
                (2, True, True, {"proj_size": 2} if name == "LSTM" else {})):
            for shape in RECURRENT_SHAPES:
                cases.append(case(name, 3, 4, num_layers=layers_, bidirectional=bidirectional,
                                  batch_first=batch_first, inputs=[shape], **extra))
    return cases


def recurrent_init_cases() -> list:
    bad = [((0, 4), {}), ((3, 0), {}), ((3, 4), {"num_layers": 0}), ((3, 4), {"dropout": 2}),
           ((3, 4), {"dropout": True}), ((3, 4), {"bias": 1}), ((3, 4), {"batch_first": "no"}),
           ((3.0, 4), {}), ((3, -1), {}), ((3, 4, 1), {"dropout": -0.1})]
    cases = [case(name, *args, inputs=[(5, N, 3)], **kwargs)
             for name in ("RNN", "LSTM", "GRU") for args, kwargs in bad]
    cases += [case("LSTM", 3, 4, proj_size=p, inputs=[(5, N, 3)]) for p in (-1, 4, 5, 3)]
    cases += [case("RNN", 3, 4, nonlinearity=n, inputs=[(5, N, 3)]) for n in ("gelu", "tanh")]
    cases += [case("RNN", 3, 4, 2, "relu", True, True, inputs=[(N, 5, 3)])]
    return cases


def cell_cases() -> list:
    cases = []
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        for args, kwargs in (((3, 4), {}), ((3, 4), {"bias": False}), ((3, 0), {}),
                             ((0, 4), {}), ((-1, 4), {}), ((3, -2), {})):
            for shape in ((N, 3), (3,), (N, 4), (4,), (2, N, 3), (0, 3), (N, 0)):
                cases.append(case(name, *args, inputs=[shape], **kwargs))
    cases += [case("RNNCell", 3, 4, nonlinearity=n, inputs=[(N, 3)]) for n in ("relu", "gelu")]
    return cases


def random_recurrent_cases(count: int = 150, seed: int = 12) -> list:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        name = rng.choice(("RNN", "LSTM", "GRU"))
        size, hidden = rng.randint(1, 6), rng.randint(1, 6)
        kwargs = {"num_layers": rng.randint(1, 3), "bidirectional": rng.random() < 0.5,
                  "batch_first": rng.random() < 0.5, "bias": rng.random() < 0.8}
        if name == "LSTM" and rng.random() < 0.4:
            kwargs["proj_size"] = rng.randint(0, hidden)
        features = size if rng.random() < 0.7 else rng.randint(1, 7)
        shape = rng.choice([(rng.randint(1, 4), N, features), (N, rng.randint(1, 4), features),
                            (rng.randint(0, 4), features), (rng.randint(1, 3), 2, 3, features)])
        cases.append(case(name, size, hidden, inputs=[shape], **kwargs))
    return cases


def test_recurrent_layers_against_torch():
    assert_agree(recurrent_cases())


def test_recurrent_construction_errors_against_torch():
    assert_agree(recurrent_init_cases())


def test_recurrent_cells_against_torch():
    assert_agree(cell_cases())


def test_random_recurrent_layers_against_torch():
    assert_agree(random_recurrent_cases())


def test_initial_states_are_accepted():
    h0 = (2, N, 4)
    assert_agree([case("GRU", 3, 4, 2, inputs=[(5, N, 3), h0]),
                  case("RNN", 3, 4, inputs=[(5, 3), (1, 4)]),
                  case("GRUCell", 3, 4, inputs=[(N, 3), (N, 4)])])
    kind = layers.LAYERS["torch.nn.LSTM"]
    state = (layers.Shaped((1, sizes.BATCH, 4)), layers.Shaped((1, sizes.BATCH, 4)))
    result, problems = kind.forward(kind.bind([3, 4], {}),
                                    [layers.Shaped((5, sizes.BATCH, 3)), state], {})
    out, (h, c) = torch.nn.LSTM(3, 4)(torch.zeros(5, 2, 3),
                                      (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    assert problems == [] and _ours(result) == _torch_shapes((out, (h, c)))


# ---------------------------------------------------------------- attention

def attention_cases() -> list:
    cases = []
    qkv = [((5, N, 8), (7, N, 8), (7, N, 8)), ((5, 8), (7, 8), (7, 8)),
           ((5, N, 9), (7, N, 8), (7, N, 8)), ((5, N, 8), (7, N, 9), (7, N, 8)),
           ((5, N, 8), (7, N, 8), (6, N, 8)), ((5, N, 8), (7, 3, 8), (7, 3, 8)),
           ((5, N, 8), (7, 8), (7, 8)), ((5, N, 2, 8), (7, N, 8), (7, N, 8)), ((8,), (8,), (8,)),
           ((0, N, 8), (7, N, 8), (7, N, 8)), ((5, N, 8), (0, N, 8), (0, N, 8)),
           ((N, 5, 8), (N, 7, 8), (N, 7, 8)), ((5, 9), (7, 9), (7, 9)),
           ((5, N, 8), (7, N, 4), (7, N, 6)), ((5, N, 8), (7, N, 8), (7, N, 6)),
           ((5, N, 8), (7, N, 4), (7, N, 4)), ((5, 8), (7, 4), (7, 6))]
    for kwargs in ({}, {"batch_first": True}, {"kdim": 4, "vdim": 6},
                   {"kdim": 4, "vdim": 6, "batch_first": True}, {"add_bias_kv": True},
                   {"add_zero_attn": True, "bias": False}, {"kdim": 8, "vdim": 8},
                   {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True}):
        for calls in ({}, {"need_weights": False}, {"average_attn_weights": False}):
            for shapes in qkv:
                cases.append(case("MultiheadAttention", 8, 2, inputs=shapes, call=calls,
                                  **kwargs))
    for embed, heads in ((10, 3), (0, 3), (6, 0), (6, -2), (6, 6), (6, 4)):
        cases.append(case("MultiheadAttention", embed, heads,
                          inputs=[(5, N, embed)] * 3))
    cases.append(case("MultiheadAttention", 8, 2, kdim=-1, inputs=[(5, N, 8)] * 3))
    return cases


def test_multihead_attention_against_torch():
    assert_agree(attention_cases())


def test_attention_masks_are_accepted():
    mask = {"attn_mask": torch.zeros(5, 7, dtype=torch.bool)}
    stage, got, _ = run_torch(case("MultiheadAttention", 8, 2,
                                   inputs=[(5, N, 8), (7, N, 8), (7, N, 8)], call=mask))
    kind = layers.LAYERS["torch.nn.MultiheadAttention"]
    result, problems = kind.forward(
        kind.bind([8, 2], {}), [layers.Shaped((5, sizes.BATCH, 8)),
                                layers.Shaped((7, sizes.BATCH, 8)),
                                layers.Shaped((7, sizes.BATCH, 8))],
        {"attn_mask": layers.Shaped((5, 7)), "need_weights": True})
    assert stage == "ok" and problems == [] and _ours(result) == got


# ---------------------------------------------------------------- transformers

LAYER = dict(dim_feedforward=16)


def transformer_cases() -> list:
    cases = []
    sources = [(5, N, 8), (N, 5, 8), (5, 8), (5, N, 6), (5, 6), (5, N, 2, 8), (8,), (6,),
               (0, N, 8)]
    options = ({}, {"batch_first": True}, {"norm_first": True}, {"bias": False},
               {"norm_first": True, "batch_first": True, "activation": "gelu"})
    for kwargs in options:
        for src in sources:
            cases.append(case("TransformerEncoderLayer", 8, 2, inputs=[src], **LAYER, **kwargs))
            layer = Sub("TransformerEncoderLayer", (8, 2), dict(LAYER, **kwargs))
            cases.append(case("TransformerEncoder", layer, 2, inputs=[src]))
            cases.append(case("TransformerEncoder", layer, 1, norm=Sub("LayerNorm", (8,)),
                              inputs=[src]))
        for tgt, memory in (((5, N, 8), (7, N, 8)), ((5, 8), (7, 8)), ((5, N, 8), (7, N, 6)),
                            ((5, N, 6), (7, N, 8)), ((5, N, 8), (7, 8)), ((5, N, 8), (7, 3, 8)),
                            ((N, 5, 8), (N, 7, 8)), ((5, 6), (7, 8))):
            cases.append(case("TransformerDecoderLayer", 8, 2, inputs=[tgt, memory], **LAYER,
                              **kwargs))
            layer = Sub("TransformerDecoderLayer", (8, 2), dict(LAYER, **kwargs))
            cases.append(case("TransformerDecoder", layer, 2, inputs=[tgt, memory]))
            cases.append(case("Transformer", 8, 2, 1, 1, inputs=[memory, tgt], **LAYER,
                              **kwargs))
    for args, kwargs in (((10, 3), {}), ((8, 0), {}), ((8, 2), {"dim_feedforward": -1}),
                         ((8, 2), {"dropout": 1.5}), ((8, 2), {"activation": "tanh"})):
        for name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
            cases.append(case(name, *args, inputs=[(5, N, args[0])] * (1 + ("Decoder" in name)),
                              **dict(LAYER, **kwargs)))
        cases.append(case("Transformer", *args, 1, 1, inputs=[(5, N, args[0])] * 2,
                          **dict(LAYER, **kwargs)))
    cases.append(case("TransformerEncoder", Sub("TransformerEncoderLayer", (8, 2), LAYER), 3,
                      norm=Sub("LayerNorm", (6,)), inputs=[(5, N, 8)]))
    return cases


def test_transformer_layers_against_torch():
    assert_agree(transformer_cases())


def test_every_sequence_entry_is_run_against_torch():
    covered = {f"torch.nn.{c.name}" for build in (recurrent_cases, cell_cases, attention_cases,
                                                  transformer_cases) for c in build()}
    structured = {name for name, kind in layers.LAYERS.items() if kind.call is not None}
    assert structured - covered == set()
    assert len(structured) == 12


def test_forward_signatures_are_torchs():
    import inspect
    for name, kind in layers.LAYERS.items():
        if kind.call is None:
            continue
        real = list(inspect.signature(getattr(nn, kind.name).forward).parameters.values())[1:]
        assert [(p.name, p.default) for p in kind.call_signature.parameters.values()] == [
            (p.name, p.default) for p in real], name


def test_an_unknown_argument_never_creates_a_problem():
    checked = 0
    for c in recurrent_cases() + cell_cases() + attention_cases():
        bound, check, result, problems, _ = predict(c)
        if check or problems:
            continue
        kind = layers.LAYERS[f"torch.nn.{c.name}"]
        inputs = [layers.Shaped(tuple(sizes.BATCH if d == N else d for d in s))
                  for s in c.inputs]
        for name in bound:
            variant = dict(bound, **{name: UNKNOWN})
            assert kind.check(variant) == [], (c, name)
            assert kind.forward(variant, inputs, dict(c.call))[1] == [], (c, name)
            checked += 1
    assert checked > 500


# ---------------------------------------------------------------- through forward

SOURCE = """import torch
import torch.nn as nn


# conv-lint: input-shape={shape}
class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(6, 3)
        self.cell = nn.LSTMCell(6, 4)
        self.attn = nn.MultiheadAttention(6, 2, batch_first=True)
        self.probe = nn.Identity()

    def forward(self, x):
        {statement}
        return self.probe(y)
"""
SHAPE = (7, 6)  # per sample: (N, 7, 6)
STATEMENTS = [
    "y, _ = self.lstm(x)", "out, (h, c) = self.lstm(x); y = h", "y = self.lstm(x)[1][1]",
    "y = self.lstm(x)[0][:, -1, :]", "y = self.lstm(x)[-1][0][-1]", "y = self.gru(x)[0]",
    "out, h = self.gru(x.transpose(0, 1)); y = h", "y = self.gru(x)[1]",
    "h, c = self.cell(x[:, 0]); y = c", "y = self.cell(x[:, 0])[0]",
    "y, w = self.attn(x, x, x)", "out, y = self.attn(x, x, x)",
    "y = self.attn(x, x, value=x, need_weights=False)[0]",
    "y = self.attn(query=x, key=x, value=x, average_attn_weights=False)[1]",
    "y = self.attn(x, x, x)[0].mean(1)", "y = self.lstm(x, None)[0]",
    "y = self.lstm(x)[0].transpose(1, 2)",
]


def _torch_result(statement: str):
    namespace: dict = {}
    source = SOURCE.format(shape="", statement=statement.replace("; ", "\n        "))
    exec(compile(source, "probe.py", "exec"), namespace)
    try:
        return tuple(namespace["Probe"]()(torch.zeros((2,) + SHAPE)).shape)
    except (RuntimeError, ValueError, AssertionError, IndexError):
        return "raises"


@pytest.mark.parametrize("statement", STATEMENTS)
def test_results_through_forward_are_torch_shapes(statement):
    real = _torch_result(statement)
    source = SOURCE.format(shape=",".join(map(str, SHAPE)),
                           statement=statement.replace("; ", "\n        "))
    analysis = analyse(source, "probe.py")
    errors = [f for f in analysis.findings if f.code.startswith("CNV1")]
    rows = {row.name: row.output_shape for row in analysis.models[0].layers}
    assert errors == [] and real != "raises"
    if real[:1] != (2,):  # the batch is not on axis 0 (h_n): the table has no shape for it
        assert rows["probe"] is None
        return
    assert rows["probe"] is not None and tuple(rows["probe"]) == real[1:], (statement, real)


HEAD = """import torch
import torch.nn as nn


# conv-lint: input-shape=12,32
class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM({size}, 64, batch_first=True, bidirectional=True)
        self.fc = nn.Linear({features}, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])
"""


@pytest.mark.parametrize("size, features, expected", [
    (32, 128, []), (32, 64, [(14, "CNV103")]), (16, 128, [(13, "CNV112")])])
def test_a_recurrent_head_is_checked_as_torch_runs_it(size, features, expected):
    source = HEAD.format(size=size, features=features)
    namespace: dict = {}
    exec(compile(source, "tagger.py", "exec"), namespace)
    try:
        namespace["Tagger"]()(torch.zeros(2, 12, 32))
        raised = None
    except RuntimeError as error:
        raised = error
    findings = [(f.line, f.code) for f in analyse(source, "tagger.py").findings]
    assert findings == expected
    assert (raised is None) == (expected == [])
    if raised is not None:  # the Linear's error is the catalogue's own
        code = expected[0][1]
        assert code in (sequence_codes if code == "CNV112" else codes_for)(raised)


def _flat(result) -> list:
    if isinstance(result, tuple):
        return [item for part in result for item in _flat(part)]
    return [result]


def test_a_symbolic_size_gives_the_same_sizes_and_no_problem():
    """Any one int axis of a valid input made symbolic: no claim, and every size known of the
    result agrees with the concrete result at that size."""
    h = sizes.symbol("H")
    checked = 0
    for c in recurrent_cases() + cell_cases() + attention_cases()[::3] + transformer_cases():
        bound, check, concrete, problems, _ = predict(c)
        if check or problems or concrete is UNKNOWN:
            continue
        kind = layers.LAYERS[f"torch.nn.{c.name}"]
        shapes = [tuple(sizes.BATCH if d == N else d for d in s) for s in c.inputs]
        for which, shape in enumerate(shapes):
            for axis, size in enumerate(shape):
                if type(size) is not int or size < 1:
                    continue
                given = list(shapes)
                given[which] = shape[:axis] + (h,) + shape[axis + 1:]
                result, problems = kind.forward(bound, [layers.Shaped(s) for s in given],
                                                dict(c.call))
                assert problems == [], (c, which, axis)
                if result is UNKNOWN:
                    continue
                for symbolic, real in zip(_flat(result), _flat(concrete)):
                    if symbolic is None or symbolic.shape is None:
                        continue
                    assert len(symbolic.shape) == len(real.shape), (c, which, axis)
                    for dim, value in zip(symbolic.shape, real.shape):
                        if dim is not None and dim is not sizes.BATCH:
                            assert sizes.value_at(dim, {"H": size}) == value, (c, axis, result)
                checked += 1
    assert checked > 500


def test_an_argument_torch_rejects_at_the_call_is_reported_there():
    source = """import torch.nn as nn


# conv-lint: input-shape=8
class Step(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(8, 16, nonlinearity="gelu")

    def forward(self, x):
        return self.cell(x)
"""
    namespace: dict = {}
    exec(compile(source, "step.py", "exec"), namespace)
    model = namespace["Step"]()  # torch builds it ...
    with pytest.raises(RuntimeError, match="Unknown nonlinearity"):
        model(torch.zeros(2, 8))  # ... and raises at the call
    assert [(f.line, f.code) for f in analyse(source, "step.py").findings] == [(11, "CNV110")]


def test_nothing_after_a_layer_that_may_fail_is_claimed():
    """Without an input shape the cell's features are H*floor(W/2): it runs for some inputs
    only (19 = H*floor(W/2)); the Linear after it fails for those, but torch fails at the cell
    for all others, so no line holds the error for every input: no claim, no shape after it."""
    source = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, kernel_size=(1, 2), stride=(1, 2))
        self.cell = nn.LSTMCell(19, 1)
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        x = self.conv(x).flatten(1)
        x = self.cell(x)[0]
        return self.fc(x)
"""
    namespace: dict = {}
    exec(compile(source, "net.py", "exec"), namespace)
    model = namespace["Net"]()
    for h, w in ((6, 6), (19, 2)):  # the cell fails on one input, the Linear on the other
        with pytest.raises(RuntimeError, match="inconsistent input_size|mat1 and mat2"):
            model(torch.zeros(2, 1, h, w))
    analysis = analyse(source, "net.py")
    assert analysis.findings == []
    assert {row.name: row.output_shape for row in analysis.models[0].layers}["cell"] is None
