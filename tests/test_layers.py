"""The layer catalogue against torch: torch is the oracle for every entry.

Each case builds the real torch layer (or calls the real function / tensor method) with the same
arguments on zeros of the same shape (batch 2) and compares with the catalogue: the bound
arguments, the output shape, the parameter count, and the problems, both ways (a predicted problem
means torch raises, at construction or at the call as predicted; torch raising means a predicted
problem) with the code matching the error torch raises.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import typing
import warnings
from dataclasses import dataclass, field
from typing import Optional

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.codes import message
from conv_lint.interpreter.values import UNKNOWN, Tensor

BATCH = 2
N = "N"  # the batch axis in a test shape: sizes.BATCH for the catalogue, BATCH for torch
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- cases and the oracle


@dataclass(frozen=True)
class Case:
    where: str  # "nn", "fn" or "method"
    name: str  # a LAYERS / FUNCTIONS qualname, or a METHODS name
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    shape: tuple = ()  # the input shape; N marks the batch axis
    merges_batch: bool = False  # the output merges the batch into an axis: that axis is unknown
    integer: bool = False  # the input holds token ids (torch.long zeros), for embeddings

    def __str__(self) -> str:
        args = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(args)}) on {self.shape}"


def nn_case(name: str, *args, shape, merges_batch=False, **kwargs) -> Case:
    return Case("nn", f"torch.nn.{name}", args, kwargs, tuple(shape), merges_batch)


def fn_case(qualname: str, *args, shape, merges_batch=False, **kwargs) -> Case:
    return Case("fn", qualname, args, kwargs, tuple(shape), merges_batch)


def method_case(name: str, *args, shape, merges_batch=False, **kwargs) -> Case:
    return Case("method", name, args, kwargs, tuple(shape), merges_batch)


def entry(case: Case) -> layers.LayerType:
    table = {"nn": layers.LAYERS, "fn": layers.FUNCTIONS, "method": layers.METHODS}[case.where]
    return table[case.name]


def torch_object(qualname: str):
    """What a catalogue qualname names: torch's object, or einops's for its entries."""
    parts = qualname.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=2):
        obj = getattr(obj, part, None) or importlib.import_module(".".join(parts[:i]))
    return obj


@dataclass
class Outcome:
    stage: str  # "ok", "init" or "forward"
    error: Optional[BaseException] = None
    shape: Optional[tuple] = None  # None when the result is not one tensor
    params: Optional[int] = None


def run_torch(case: Case, shape: Optional[tuple] = None, batch: int = BATCH) -> Outcome:
    x = torch.zeros([batch if d == N else d for d in (shape or case.shape)],
                    dtype=torch.long if case.integer else torch.float)
    params = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.where == "nn":
            try:
                module = torch_object(case.name)(*case.args, **case.kwargs)
            except Exception as error:  # noqa: BLE001 - any error torch raises is the oracle
                return Outcome("init", error)
            params = parameter_count(module)
            call = lambda: module(x)  # noqa: E731
        elif case.where == "fn":
            call = lambda: torch_object(case.name)(x, *case.args, **case.kwargs)  # noqa: E731
        else:
            call = lambda: getattr(x, case.name)(*case.args, **case.kwargs)  # noqa: E731
        try:
            y = call()
        except Exception as error:  # noqa: BLE001
            return Outcome("forward", error, params=params)
    shape = tuple(y.shape) if isinstance(y, torch.Tensor) else None
    return Outcome("ok", shape=shape, params=params)


def parameter_count(module) -> Optional[int]:
    """sum(p.numel() for p in module.parameters()); None while a lazy layer has not run."""
    parameters = list(module.parameters())
    if any(nn.parameter.is_lazy(p) for p in parameters):
        return None
    return sum(p.numel() for p in parameters)


@dataclass
class Prediction:
    bound: dict
    check: list
    shape: Optional[tuple]
    problems: list  # from apply
    params: Optional[int]


def _plain(value):
    """What the interpreter hands the catalogue: lists become tuples (values.plain)."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def predict(case: Case) -> Prediction:
    kind = entry(case)
    receiver = [] if case.where == "nn" else [Tensor()]
    args = [_plain(a) for a in case.args]
    bound = kind.bind(receiver + args, {k: _plain(v) for k, v in case.kwargs.items()})
    assert bound is not None, f"{case}: the catalogue could not bind the call"
    shape = tuple(sizes.BATCH if d == N else d for d in case.shape)
    out, problems = kind.apply(bound, shape)
    return Prediction(bound, kind.check(bound), out, problems, kind.params(bound))


# Which codes fit an error torch raises, from its message.
_ERRORS = [(re.compile(pattern), set(codes.split())) for pattern, codes in [
    (r"to have \d+ channels, but got|Mismatch of parameter numbers and input channel", "CNV101"),
    (r"running_mean should contain|weight should contain|to match num_features|"
     r"Expected weight to be a vector of size equal to the number of channels", "CNV102"),
    (r"expected input with shape \[\*", "CNV102 CNV111"),
    (r"mat1 and mat2 shapes cannot be multiplied", "CNV103"),
    (r"-dimensional input for \d+-dimensional weight", "CNV110 CNV111"),
    (r"Trying to create tensor with negative dimension", "CNV105 CNV110"),
    (r"elements of output_size must be greater than or equal to 0", "CNV105 CNV110"),
    (r"Kernel size can't be greater than actual input size|Output size is too small|"
     r"Invalid computed output size|smaller than kernel size|Padding size should be less than "
     r"the corresponding input dimension|wrapping around more than once|is too small|"
     r"sizes should be greater than 0|more than 1 spatial element|length must be non-negative|"
     r"resulting in an empty dimension|could not construct a memory descriptor|"
     r"integer multiplication overflow|"
     r"to have non-zero size for non-batch dimensions|"
     r"Only zero batch or zero channel inputs are supported|"
     r"Expected reduction dim( -?\d+)? to (have non-zero size|be specified)", "CNV105"),
    (r"padding='same' is not supported for strided convolutions", "CNV108"),
    (r"expected weight to be divisible by \d+ at dimension 0|"
     r"expected bias to be 1-dimensional with \d+ elements", "CNV109"),  # lazy convs' groups
    (r"[Pp]adding_idx must be within num_embeddings|mode has to be one of sum, mean or max|"
     r"'weight' must be 2-D|It is expected \w+ equals to 2|padding should be non-negative|"
     r"to be divisible by the product of kernel_size|"
     r"to match the calculated number of sliding blocks", "CNV110"),
    (r"offsets has to be a 1D Tensor but got None|input has to be 1D or 2D Tensor|"
     r"tuple index out of range", "CNV111"),  # the last: a lazy norm reading shape[1]
    (r"array of sliding blocks as .*(must be at least one|too small \(non-positive\))|"
     r"with possibly 0 batch size and (other )?non-zero dimensions|step must be nonzero",
     "CNV105"),
    (r"must be divisible by (groups|num_groups)|divisible by num_groups|"
     r"expected weight to be divisible by \d+ at dimension 0|"
     r"Number of channels must be divisible by groups", "CNV109"),
    (r"groups must be a positive integer|Invalid padding string|padding_mode must be|"
     r"padding mode is supported|negative dimension|non-positive (stride|dilation)|"
     r"negative (output_)?padding is not supported|output padding must be smaller|"
     r"could not create a primitive descriptor|to be a single integer value or a list|"
     r"pad should be|stride should|kernel size should be greater than zero|dilation should be|"
     r"pad must be non-negative|(kernel_size|stride|padding|dilation) must|"
     r"padding should be at most|divisor must be not zero|should contain one int|"
     r"not enough values to unpack|must be Tensor, not tuple|output_size must be|"
     r"elements of output_size must be|must be tuple of ints|has no len\(\)|"
     r"output_size.size\(\) must be|unflattened_size must be|sizes must be non-empty|"
     r"only one dimension can be inferred|invalid shape dimension|don't multiply up|"
     r"start_dim cannot come after end_dim|Halving dimension must be even|"
     r"approximate argument|Lower bound should be less|alpha cannot be 0|must be greater than "
     r"min_val|dropout probability|expects a positive (up|down)scale_factor|"
     r"'channel' dimension to be divisible|expects (height|width) to be divisible|"
     r"groups to divide channels in must be positive|integer modulo by zero|"
     r"normalized_shape to be at least 1-dimensional|only one of size or scale_factor|"
     r"either size or scale_factor|align_corners option|Anti-alias|Lanczos|"
     r"recompute_scale_factor is not meaningful|Unrecognised padding mode|"
     r"doesn't take in value|Padding length must be divisible by 2|expected size to be one of|"
     r"duplicate dims|appears multiple times|must be tuple of ints, but found type int|"
     r"argument 'padding' .* must be tuple of ints|tensor expected for weight|"
     r"dimensions are invalid|must be tuple of ints, not int|"
     r"cannot broadcast to \d+ dimensions|"
     r"too many values to unpack|min_val cannot be greater than max_val|"
     r"The expanded size of the tensor .* must match the existing size|"
     r"isn't allowed in a leading, non-existing dimension|"
     r"movedim: Invalid source or destination dims|movedim: repeated dim|"
     r"\(got (?!(nearest|linear|bilinear|bicubic|trilinear|lanczos|area|nearest-exact)\))"
     r"[\w-]+\)$", "CNV110"),
    (r"[Ee]xpected (a )?\d+D|non-empty \dD or \dD|Expected 2 to 3 dimensions|"
     r"Dimension out of range|Expected at least 2 dimensions|Expected 3D or higher|"
     r"expects input to have at least 3 dimensions|Padding size \d+ is not supported|"
     r"Padding length should be less than or equal to two times|Only 3D, 4D and 5D input|"
     r"mode needs \dD input|must have the same number of spatial dimensions|"
     r"Feature dropout requires at least 2 dimensions|Expected 2D or 3D input|"
     r"expected at least 2D input|expects input with > 2 dims|expected input to be 3D or 4D|"
     r"does not match the length of the desired ordering|expected \dD or \dD input|"
     r"Input dimension should be at least|must have at least \d+ dimensions|"
     r"expects a tensor with <= 2 dimensions|repeat dims can not be smaller than number of "
     r"dimensions|number of sizes provided \(\d+\) must be greater or equal", "CNV111"),
]]


def codes_for(error: BaseException) -> set:
    text = str(error)
    found = set()
    for pattern, codes in _ERRORS:
        if pattern.search(text):
            found |= codes
    assert found, f"no code known for torch's {type(error).__name__}: {text[:300]}"
    return found


def _healthy_shapes(case: Case, bound: dict) -> list:
    """Inputs without shape errors for this layer: its argument errors alone make torch raise."""
    family = entry(case).family
    rank = getattr(family, "rank", 2) or 2
    channels = bound.get("in_channels")
    channels = channels if type(channels) is int and channels > 0 else 2
    shapes = [(N, channels) + (16,) * rank, (channels,) + (16,) * rank]
    return shapes + [(N, 4) + (8,) * n for n in range(4)]


def argument_problem_is_real(case: Case, pred: "Prediction") -> bool:
    """An argument problem (found without the input) is real if torch raises it on inputs free of
    shape errors; on the case's own input torch may first raise about the shape."""
    problem = pred.check[0]
    for shape in _healthy_shapes(case, pred.bound):
        outcome = run_torch(case, shape)
        if outcome.stage == "forward" and problem.code in codes_for(outcome.error):
            return True
    return False


def _same_shape(predicted: Optional[tuple], real: Optional[tuple], merges_batch: bool) -> bool:
    if predicted is None or real is None or len(predicted) != len(real):
        return predicted == real
    return all(p == r or (p is None and merges_batch) for p, r in zip(predicted, real))


def backend_dependent(case: Case, pred: "Prediction", error: BaseException) -> bool:
    """Errors raised by some of torch's CPU kernels only (the choice depends on batching, groups
    and output_padding): the catalogue makes no claim about them.

    - a transposed convolution to an empty (size 0) output;
    - a transposed convolution with dilation 0."""
    if "ConvTranspose" not in case.name:
        return False
    if "Output size is too small" in str(error):
        return pred.shape is not None and 0 in pred.shape
    dilation = pred.bound["dilation"]
    return 0 in (dilation if isinstance(dilation, tuple) else (dilation,))


def _torch_binding(case: Case) -> Optional[dict]:
    """What inspect binds for torch's own signature (arguments as the interpreter hands them)."""
    try:
        real = inspect.signature(torch_object(case.name)).bind(
            *map(_plain, case.args), **{k: _plain(v) for k, v in case.kwargs.items()})
    except TypeError:
        return None
    real.apply_defaults()
    return dict(real.arguments)


def mismatch(case: Case) -> Optional[str]:
    """Why the catalogue disagrees with torch on ``case``, or None if it agrees."""
    got, pred = run_torch(case), predict(case)
    if case.where == "nn" and entry(case).name not in _NO_ARGUMENTS:
        if pred.bound != _torch_binding(case):
            return f"{case}: bound {pred.bound}, torch's signature binds {_torch_binding(case)}"
    problems = pred.check + pred.problems
    for problem in problems:  # every problem fills its code's template
        message(problem.code, **{"layer": "layer", "source": "", **problem.fields})
    if got.stage == "init":
        if not pred.check or pred.check[0].when != "init":
            return f"{case}: torch raised at construction ({got.error}), predicted {problems}"
        if pred.check[0].code not in codes_for(got.error):
            return f"{case}: torch raised {got.error}, predicted {pred.check[0]}"
        if pred.params is not None:
            return f"{case}: a layer torch cannot build has {pred.params} parameters"
        return None
    if got.params is not None and pred.params != got.params:
        return f"{case}: {pred.params} parameters, torch counts {got.params}"
    if got.stage == "forward":
        if not problems and N in case.shape and run_torch(case, batch=3).stage == "ok":
            return None  # it fails for a batch of 2 only: the batch size is unknown, no claim
        if backend_dependent(case, pred, got.error):
            return None
        if not problems:
            return f"{case}: torch raised at the call ({got.error}), predicted nothing"
        if problems[0].when != "forward":
            return f"{case}: torch built the layer, predicted {problems[0]} at construction"
        if problems[0].code in codes_for(got.error):
            return None
        if pred.check and argument_problem_is_real(case, pred):
            return None
        return f"{case}: torch raised {got.error}, predicted {problems[0]}"
    if problems and not backend_dependent(case, pred, RuntimeError("dilation")):
        return f"{case}: torch ran, predicted {problems}"
    predicted = None if pred.shape is None else tuple(
        BATCH if d is sizes.BATCH else d for d in pred.shape)
    if not _same_shape(predicted, got.shape, case.merges_batch):
        return f"{case}: output {pred.shape}, torch gives {got.shape}"
    return None


CASE_PRODUCERS = []  # the functions building the explicit cases, for the coverage test


def case_producer(build):
    CASE_PRODUCERS.append(build)
    return build


def assert_agree(cases) -> None:
    failures = [text for text in map(mismatch, cases) if text is not None]
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:25])


# ---------------------------------------------------------------- coverage

REQUIRED_LAYERS = """
Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d MaxPool1d MaxPool2d MaxPool3d
AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d
AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d LPPool1d LPPool2d BatchNorm1d BatchNorm2d
BatchNorm3d SyncBatchNorm GroupNorm InstanceNorm1d InstanceNorm2d InstanceNorm3d LayerNorm
LocalResponseNorm Linear Bilinear Identity Flatten Unflatten Upsample UpsamplingNearest2d
UpsamplingBilinear2d PixelShuffle PixelUnshuffle ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d
ConstantPad2d ConstantPad3d ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d
ReplicationPad2d ReplicationPad3d Dropout Dropout1d Dropout2d Dropout3d AlphaDropout
""".split()
REQUIRED_FUNCTIONS = ["torch.nn.functional." + name for name in """
relu relu6 leaky_relu elu selu gelu silu mish sigmoid tanh hardswish hardsigmoid softplus softmax
log_softmax dropout dropout1d dropout2d dropout3d max_pool1d max_pool2d max_pool3d avg_pool1d
avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d
adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d interpolate upsample pad layer_norm
group_norm normalize pixel_shuffle""".split()] + [
    "torch.relu", "torch.sigmoid", "torch.tanh", "torch.flatten", "torch.squeeze",
    "torch.unsqueeze"]
REQUIRED_METHODS = ["relu", "sigmoid", "flatten", "softmax", "mean", "unsqueeze", "squeeze",
                    "permute", "transpose", "contiguous"]
# every activation torch.nn defines; MultiheadAttention is attention, not a shape rule
ACTIVATIONS = [name for name in nn.modules.activation.__all__ if name != "MultiheadAttention"]


def test_catalogue_covers_the_required_layers_and_functions():
    missing = [n for n in REQUIRED_LAYERS + ACTIVATIONS if f"torch.nn.{n}" not in layers.LAYERS]
    missing += [n for n in REQUIRED_FUNCTIONS if n not in layers.FUNCTIONS]
    missing += [n for n in REQUIRED_METHODS if n not in layers.METHODS]
    assert not missing


def test_lookup_finds_layers_then_functions():
    assert layers.lookup("torch.nn.Conv2d") is layers.LAYERS["torch.nn.Conv2d"]
    assert layers.lookup("torch.flatten") is layers.FUNCTIONS["torch.flatten"]
    assert layers.lookup("torch.nn.NotALayer") is None
    assert layers.LAYERS["torch.nn.Conv2d"].name == "Conv2d"


# ---------------------------------------------------------------- signatures


def _params(signature: inspect.Signature) -> list:
    """A default that is a function (the Transformer layers' F.relu) by its name, as the
    catalogue writes it ('relu', which torch takes as the same)."""
    return [(p.name, p.kind, p.default.__name__ if inspect.isfunction(p.default) else p.default)
            for p in signature.parameters.values()]


def _stated_signature(target) -> inspect.Signature:
    """A layer's signature; for RNN/LSTM/GRU, declared (*args, **kwargs), the overload torch
    states for them (self left out)."""
    overloads = typing.get_overloads(target.__init__)
    if not overloads:
        return inspect.signature(target)
    stated = inspect.signature(overloads[0])
    return stated.replace(parameters=list(stated.parameters.values())[1:])


def _doc_signature(obj) -> Optional[inspect.Signature]:
    """A builtin's signature from the first line of its docstring: "name(a, b=1) -> Tensor"."""
    first = (obj.__doc__ or "").strip().splitlines()[:1]
    match = re.match(r"\w+\((.*)\) ->", first[0]) if first else None
    if match is None:
        return None
    return layers.signature_of(match.group(1))


# torch reports these through a dispatcher or without a usable signature; the real one is here
_REAL_SIGNATURE = {
    **{f"torch.nn.functional.max_pool{n}d": f"max_pool{n}d_with_indices" for n in (1, 2, 3)},
    **{f"torch.nn.functional.adaptive_max_pool{n}d": f"adaptive_max_pool{n}d_with_indices"
       for n in (1, 2, 3)},
}
# documented without the default the Python call accepts: torch.squeeze(x) squeezes every axis
_DOC_WITHOUT_DEFAULT = {"torch.squeeze"}
# constructors torch declares as (*args, **kwargs) but which take no argument at all
_NO_ARGUMENTS = {"Sigmoid", "Tanh", "LogSigmoid", "Softsign", "Tanhshrink", "Softmax2d"}


@pytest.mark.parametrize("qualname", sorted(layers.LAYERS))
def test_layer_signature_is_torch_signature(qualname):
    kind, target = layers.LAYERS[qualname], torch_object(qualname)
    if kind.name in _NO_ARGUMENTS:
        assert not kind.signature.parameters
        with pytest.raises(TypeError):
            target(1)
        assert kind.bind([1], {}) is None
        return
    assert _params(kind.signature) == _params(_stated_signature(target))


def _torch_signature(qualname: str) -> Optional[inspect.Signature]:
    """The signature torch states for a function: inspect's, or its docstring's for builtins."""
    target = torch_object(qualname)
    if qualname in _REAL_SIGNATURE:
        target = getattr(F, _REAL_SIGNATURE[qualname])
    try:
        return inspect.signature(target)
    except ValueError:
        return _doc_signature(target)


_STATED = sorted(q for q in layers.FUNCTIONS
                 if q not in _DOC_WITHOUT_DEFAULT and _torch_signature(q) is not None)


@pytest.mark.parametrize("qualname", _STATED)
def test_function_signature_is_torch_signature(qualname):
    real = _torch_signature(qualname)
    ours = layers.FUNCTIONS[qualname].signature
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in real.parameters.values()]


def test_functions_without_a_stated_signature_are_few():
    """Those are checked by the keyword calls below only."""
    assert set(layers.FUNCTIONS) - set(_STATED) == {
        "torch.relu", "torch.log_softmax", "torch.squeeze"}


def test_functions_accept_every_bound_argument_by_keyword():
    """Names and defaults torch accepts: call torch with the whole bound dict as keywords."""
    tensors = {1: torch.zeros(2, 4, 6), 2: torch.zeros(2, 4, 6, 6),
               3: torch.zeros(2, 4, 6, 6, 6)}
    first_args = {"max_pool": (2,), "avg_pool": (2,), "lp_pool": (2, 2), "adaptive": (2,),
                  "pad": ((1, 1),), "layer_norm": ((6,),), "group_norm": (2,),
                  "pixel_shuffle": (2,), "pixel_unshuffle": (2,), "unsqueeze": (0,),
                  "transpose": (0, 1), "permute": ((0, 1, 2, 3),), "softmax": (1,),
                  "log_softmax": (1,), "interpolate": (4,), "upsample": (4,),
                  "swapaxes": (0, 1), "swapdims": (0, 1), "movedim": (0, 1), "tile": ((1, 1),),
                  "embedding": (torch.zeros(10, 3),), "fold": ((4, 5), 2), "unfold": (2,)}
    own_inputs = {"embedding": torch.zeros(2, 5, dtype=torch.long), "fold": torch.zeros(2, 12, 12)}
    for qualname, kind in layers.FUNCTIONS.items():
        if not qualname.startswith("torch."):
            continue  # einops's: tests/test_einops.py
        name = kind.name
        ranked = re.search(r"(\d)d$", name)
        rank = int(ranked.group(1)) if ranked else 2
        args = next((v for k, v in first_args.items() if name.startswith(k)), ())
        if name.startswith("conv") or name == "linear":  # given their weight (4 in, 4 out)
            args = (torch.zeros((4, 4) + (3,) * rank if name != "linear" else (4, 6)),)
        bound = kind.bind([Tensor()] + list(args), {})
        assert bound is not None, qualname
        bound["input"] = torch.zeros(2, 4) if name == "t" else tensors[rank]  # t: <= 2D
        bound["input"] = own_inputs.get(name, bound["input"])
        if qualname in _DOC_WITHOUT_DEFAULT:  # torch.squeeze takes no explicit dim=None
            bound = {k: v for k, v in bound.items() if v is not None}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = torch_object(qualname)(**bound)  # raises on a name or default not torch's
        assert isinstance(result, (torch.Tensor, tuple)), qualname


def test_methods_bind_the_receiver_first():
    kind = layers.METHODS["flatten"]
    receiver = Tensor()
    assert kind.bind([receiver, 1], {}) == {"self": receiver, "start_dim": 1, "end_dim": -1}
    assert layers.METHODS["permute"].bind([receiver, 0, 2, 1], {})["dims"] == (0, 2, 1)
    assert layers.METHODS["relu"].bind([receiver, 1], {}) is None


def test_bind_maps_arguments_like_torch():
    conv = layers.LAYERS["torch.nn.Conv2d"]
    for args, kwargs in [((3, 8, 3), {}), ((3, 8), {"kernel_size": 5, "padding": "same"}),
                         ((3, 8, (3, 5), 2, 1, 1, 2, False), {"padding_mode": "reflect"})]:
        real = inspect.signature(nn.Conv2d).bind(*args, **kwargs)
        real.apply_defaults()
        assert conv.bind(list(args), kwargs) == dict(real.arguments)
    assert conv.bind([3, 8, 3], {"colour": 1}) is None  # unknown keyword
    assert conv.bind([3], {}) is None  # missing required arguments
    assert conv.bind([3, 8, 3, 1, 0, 1, 1, True, "zeros", None, None, 0], {}) is None
    assert conv.bind([3, UNKNOWN, 3], {})["out_channels"] is UNKNOWN  # values are not normalised
    identity = layers.LAYERS["torch.nn.Identity"]
    assert identity.bind([1, 2], {"x": 3}) == {"args": (1, 2), "kwargs": {"x": 3}}


# ---------------------------------------------------------------- convolutions


def _axis_value(rank: int, low: int, high: int):
    """An int, or a tuple with one value per axis (sometimes of a length torch rejects)."""
    value = st.one_of(st.integers(1, high), st.integers(low, high))
    return st.one_of(value, value, st.tuples(*[value] * rank),
                     st.lists(value, min_size=1, max_size=rank + 1).map(tuple))


@st.composite
def conv_cases(draw, rank: int, transposed: bool):
    groups = draw(st.sampled_from([1, 1, 1, 2, 3, 0]))
    c_in = max(groups, 1) * draw(st.integers(1, 2)) + draw(st.sampled_from([0] * 6 + [1]))
    c_out = max(groups, 1) * draw(st.integers(1, 2)) + draw(st.sampled_from([0] * 6 + [1]))
    padding = draw(st.one_of(_axis_value(rank, -1, 3), _axis_value(rank, 0, 2),
                             st.sampled_from(["same", "valid", "full"])))
    kwargs = {
        "stride": draw(_axis_value(rank, 0, 3)),
        "padding": padding,
        "dilation": draw(_axis_value(rank, 0, 2)),
        "groups": groups,
        "bias": draw(st.booleans()),
        "padding_mode": draw(st.sampled_from(["zeros"] * 5 + ["reflect", "replicate",
                                                              "circular"])),
    }
    if transposed:
        kwargs["output_padding"] = draw(_axis_value(rank, -1, 2))
        kwargs["padding_mode"] = draw(st.sampled_from(["zeros"] * 12 + ["reflect"]))
        if isinstance(padding, str):
            kwargs["padding"] = draw(st.sampled_from([padding, 0]))
    kernel = draw(_axis_value(rank, -1, 4))
    channels = c_in + draw(st.sampled_from([0] * 7 + [1]))
    batch = draw(st.sampled_from([(N,), (N,), ()]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    name = f"ConvTranspose{rank}d" if transposed else f"Conv{rank}d"
    return nn_case(name, c_in, c_out, kernel, shape=batch + (channels,) + spatial, **kwargs)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
def test_convolutions_against_torch(rank, transposed):
    @SETTINGS
    @given(conv_cases(rank, transposed))
    def run(case):
        assert mismatch(case) is None, mismatch(case)

    run()


@case_producer
def _convolution_grid_cases() -> list:
    """Every combination of a few kernels, strides, paddings, dilations and map sizes."""
    cases = [
        nn_case("Conv2d", 2, 4, k, stride=s, padding=p, dilation=d, shape=(N, 2, h, h + 1))
        for k, s, p, d, h in itertools.product(
            (1, 3, (2, 3)), (1, 2, (1, 2)), (0, 1, "same", "valid", (1, 0)), (1, 2), (1, 3, 5, 8))
    ]
    return cases


def test_convolution_grid_against_torch():
    cases = _convolution_grid_cases()
    assert_agree(cases)


@case_producer
def _convolution_known_errors_cases() -> list:
    """Each error torch's convolutions raise, once, with the code it maps to."""
    cases = [
        nn_case("Conv2d", 3, 8, 3, stride=2, padding="same", shape=(N, 3, 8, 8)),  # CNV108
        nn_case("Conv2d", 4, 6, 3, groups=4, shape=(N, 4, 8, 8)),  # CNV109
        nn_case("Conv2d", 3, 8, 3, groups=0, shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 3, padding="foo", shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 3, padding_mode="foo", shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, -1, shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 0, shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 3, padding=-1, shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, (3, 3, 3), shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 3, stride=(1, 1, 1), shape=(N, 3, 8, 8)),
        nn_case("Conv2d", 3, 8, 3, shape=(N, 4, 8, 8)),  # CNV101
        nn_case("Conv2d", 3, 8, 3, shape=(4, 8, 8)),  # unbatched, CNV101
        nn_case("Conv2d", 3, 8, 3, shape=(N, 3)),  # CNV111
        nn_case("Conv2d", 3, 8, 5, shape=(N, 3, 4, 4)),  # CNV105
        nn_case("Conv2d", 3, 8, 3, padding=4, padding_mode="reflect", shape=(N, 3, 4, 4)),
        nn_case("Conv2d", 3, 8, 3, padding=5, padding_mode="circular", shape=(N, 3, 4, 4)),
        nn_case("Conv2d", 3, 8, 3, padding=5, padding_mode="replicate", shape=(N, 3, 4, 4)),
        nn_case("Conv1d", 3, 8, 5, padding="same", padding_mode="reflect", shape=(N, 3, 2)),
        nn_case("Conv1d", 3, 8, 4, padding="same", shape=(N, 3, 2)),
        nn_case("ConvTranspose2d", 3, 8, 3, stride=2, output_padding=2, shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, stride=2, output_padding=2, dilation=3,
                shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, padding="same", shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, stride=2, padding="same", shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, padding_mode="reflect", shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, padding=5, shape=(N, 3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 1, padding=2, shape=(N, 3, 4, 4)),  # output 0 is fine
        nn_case("ConvTranspose2d", 3, 8, 3, shape=(3, 4, 4)),
        nn_case("ConvTranspose2d", 3, 8, 3, output_padding=-1, shape=(N, 3, 4, 4)),
    ]
    return cases


def test_convolution_known_errors():
    cases = _convolution_known_errors_cases()
    assert_agree(cases)
    same = predict(cases[0]).check[0]
    assert (same.code, same.fields, same.when) == ("CNV108", {"stride": 2}, "init")
    groups = predict(cases[1]).check[0]
    assert (groups.code, groups.fields["what"], groups.fields["value"]) == (
        "CNV109", "out_channels", 6)
    channels = predict(cases[10]).problems[0]
    assert (channels.code, channels.fields, channels.when) == (
        "CNV101", {"expected": 3, "got": "4"}, "forward")
    small = predict(cases[13]).problems[0]
    assert small.fields["detail"] == "kernel 5 is larger than the padded input 4 " \
                                     "(input 4, padding 0)"


@pytest.mark.parametrize("name,args,attributes", [
    ("Conv2d", (3, 16, 5), ("in_channels", "out_channels")),
    ("ConvTranspose1d", (8, 4, 3), ("in_channels", "out_channels")),
    ("Linear", (120, 84), ("in_features", "out_features")),
    ("Bilinear", (20, 30, 40), ("in1_features", "out_features")),
    ("BatchNorm2d", (64,), ("num_features", "num_features")),
    ("InstanceNorm1d", (12,), ("num_features", "num_features")),
    ("GroupNorm", (4, 32), ("num_channels", "num_channels")),
])
def test_in_and_out_channels_are_torch_attributes(name, args, attributes):
    kind, module = layers.LAYERS[f"torch.nn.{name}"], getattr(nn, name)(*args)
    bound = kind.bind(list(args), {})
    assert (kind.in_channels(bound), kind.out_channels(bound)) == tuple(
        getattr(module, attribute) for attribute in attributes)


def test_convolution_channels_and_unknowns():
    conv = layers.LAYERS["torch.nn.Conv2d"]
    bound = conv.bind([3, 16, 5], {})
    assert (conv.in_channels(bound), conv.out_channels(bound)) == (3, 16)
    # a tensor of rank Nd+1 whose dim 0 is the batch: torch would read the batch as channels
    assert conv.apply(bound, (sizes.BATCH, 32, 32)) == (None, [])
    assert conv.apply(bound, None) == (None, [])
    unknown = conv.bind([UNKNOWN, 16, UNKNOWN], {})
    assert conv.check(unknown) == []
    assert conv.apply(unknown, (sizes.BATCH, 4, 32, 32)) == ((sizes.BATCH, 16, None, None), [])
    assert conv.params(unknown) is None
    assert conv.params(conv.bind([3, 16, 5], {"bias": UNKNOWN})) is None
    # the channel axis may be unknown or symbolic: no guess
    assert conv.apply(bound, (sizes.BATCH, None, 8, 8))[1] == []


# ---------------------------------------------------------------- pools


@st.composite
def pool_cases(draw, rank: int, kind: str, functional: bool):
    kernel = draw(_axis_value(rank, -1, 4))
    kwargs = {"stride": draw(st.one_of(st.none(), _axis_value(rank, 0, 3))),
              "ceil_mode": draw(st.booleans())}
    if kind != "LPPool":
        kwargs["padding"] = draw(_axis_value(rank, -1, 2))
    if kind == "MaxPool":
        kwargs["dilation"] = draw(_axis_value(rank, 0, 2))
    if kind == "AvgPool" and rank > 1:
        kwargs["divisor_override"] = draw(st.sampled_from([None] * 6 + [0, 2]))
    batch = draw(st.sampled_from([(N,), (N,), ()]))
    shape = batch + (2,) + tuple(draw(st.integers(1, 7)) for _ in range(rank))
    args = (2, kernel) if kind == "LPPool" else (kernel,)
    if functional:
        name = {"MaxPool": "max_pool", "AvgPool": "avg_pool", "LPPool": "lp_pool"}[kind]
        return fn_case(f"torch.nn.functional.{name}{rank}d", *args, shape=shape, **kwargs)
    return nn_case(f"{kind}{rank}d", *args, shape=shape, **kwargs)


@pytest.mark.parametrize("kind", ["MaxPool", "AvgPool", "LPPool"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pools_against_torch(kind, rank):
    @SETTINGS
    @given(pool_cases(rank, kind, functional=False))
    def run(case):
        assert mismatch(case) is None, mismatch(case)

    run()


@pytest.mark.parametrize("kind,rank", [("MaxPool", 1), ("MaxPool", 2), ("AvgPool", 1),
                                       ("AvgPool", 3), ("LPPool", 2)])
def test_functional_pools_against_torch(kind, rank):
    @settings(SETTINGS, max_examples=40)
    @given(pool_cases(rank, kind, functional=True))
    def run(case):
        assert mismatch(case) is None, mismatch(case)

    run()


@case_producer
def _weighted_function_cases() -> list:
    """F.convNd / F.conv_transposeNd / F.linear given weight tensors: the weight's shape is the
    layer's sizes (grouped, strided, padded, 'same'/'valid', wrong in-channels, bias)."""
    F_ = "torch.nn.functional."
    w = torch.zeros
    cases = [
        fn_case(F_ + "conv2d", w(o, i, k, k), stride=s, padding=p, groups=g, shape=(N, c, 9, 8))
        for o, i, k, s, p, g, c in itertools.product(
            (6, 8), (2, 4), (1, 3), (1, 2), (0, 1, "same", "valid"), (1, 2), (4, 8))
    ]
    cases += [
        fn_case(F_ + "conv_transpose2d", w(i, o, k, k), stride=s, padding=p, groups=g,
                output_padding=op, shape=(N, c, 5, 6))
        for i, o, k, s, p, g, c, op in itertools.product(
            (4, 6), (2, 3), (2, 3), (1, 2), (0, 1), (1, 2), (4, 6), (0, 1))
    ]
    cases += [
        fn_case(F_ + "conv1d", w(8, 4, 3), w(8), 2, 1, shape=(N, 4, 20)),
        fn_case(F_ + "conv1d", w(8, 4, 3), w(8), 1, "same", 2, shape=(N, 4, 20)),
        fn_case(F_ + "conv1d", w(8, 4, 3), shape=(N, 6, 20)),  # CNV101
        fn_case(F_ + "conv1d", w(8, 4, 3), shape=(4, 20)),  # unbatched
        fn_case(F_ + "conv3d", w(8, 2, 3, 3, 3), groups=2, padding=1, shape=(N, 4, 5, 6, 7)),
        fn_case(F_ + "conv3d", w(8, 2, 3, 3, 3), shape=(N, 2, 2, 6, 7)),  # CNV105
        fn_case(F_ + "conv2d", w(64, 32, 3, 3), shape=(N, 16, 8, 8)),  # torch's own example
        fn_case(F_ + "conv2d", w(7, 4, 3, 3), groups=2, shape=(N, 8, 8, 8)),  # CNV109
        fn_case(F_ + "conv2d", w(8, 4, 3, 3), stride=2, padding="same", shape=(N, 4, 8, 8)),
        fn_case(F_ + "conv2d", w(8, 4, 3, 3), w(8), dilation=2, shape=(N, 4, 8, 8)),
        fn_case(F_ + "conv2d", w(8, 4, 3, 3), shape=(N, 32)),  # CNV111
        fn_case("torch.conv2d", w(8, 4, 3, 3), None, 1, 1, shape=(N, 4, 8, 8)),
        fn_case(F_ + "conv_transpose1d", w(4, 8, 4), stride=2, padding=1, shape=(N, 4, 10)),
        fn_case(F_ + "conv_transpose1d", w(4, 8, 4), shape=(N, 5, 10)),  # CNV101
        fn_case(F_ + "conv_transpose3d", w(4, 2, 2, 2, 2), stride=2, shape=(N, 4, 3, 3, 3)),
        fn_case("torch.conv_transpose2d", w(4, 2, 3, 3), shape=(N, 4, 3, 3)),
        fn_case("torch.conv1d", w(2, 4, 3), shape=(N, 4, 3)),
        fn_case("torch.conv3d", w(2, 4, 1, 1, 1), shape=(N, 4, 3, 3, 3)),
        fn_case("torch.conv_transpose1d", w(4, 2, 3), shape=(N, 4, 3)),
        fn_case("torch.conv_transpose3d", w(4, 2, 1, 1, 1), shape=(N, 4, 3, 3, 3)),
    ]
    cases += [
        fn_case(F_ + "linear", w(o, i), *([w(o)] if bias else [None] * (bias is None)),
                shape=(N,) + lead + (f,))
        for o, i, f, lead, bias in itertools.product(
            (3, 7), (5, 6), (5, 6), ((), (4,), (2, 3)), (False, True, None))
    ]
    cases.append(fn_case(F_ + "linear", w(128, 4096), shape=(N, 9216)))  # torch's message
    return cases


def test_weighted_functions_against_torch():
    cases = _weighted_function_cases()
    assert_agree(cases)
    claims = [c for c in cases if predict(c).problems or predict(c).check]
    assert len(claims) > 40  # the wrong in-channels / in-features are claimed


@case_producer
def _pool_grid_cases() -> list:
    cases = [
        nn_case(name, k, stride=s, padding=p, ceil_mode=c, shape=(N, 3, h, h + 2))
        for name, k, s, p, c, h in itertools.product(
            ("MaxPool2d", "AvgPool2d"), (1, 2, 3), (None, 1, 2), (0, 1), (False, True),
            (1, 2, 3, 4, 5, 7))
    ]
    return cases


def test_pool_grid_against_torch():
    cases = _pool_grid_cases()
    assert_agree(cases)


@case_producer
def _pool_known_errors_cases() -> list:
    cases = [
        nn_case("MaxPool2d", 3, padding=2, shape=(N, 3, 8, 8)),
        nn_case("MaxPool2d", 3, padding=2, dilation=2, shape=(N, 3, 8, 8)),
        nn_case("MaxPool1d", 3, padding=2, shape=(N, 3, 8)),
        nn_case("MaxPool1d", 2, padding=1, shape=(N, 3, 4)),
        nn_case("MaxPool1d", 5, shape=(N, 3, 4)),
        nn_case("MaxPool2d", 5, shape=(N, 3, 4, 4)),
        nn_case("MaxPool2d", 2, stride=0, shape=(N, 3, 4, 4)),
        nn_case("MaxPool2d", 0, shape=(N, 3, 4, 4)),
        nn_case("MaxPool2d", 2, shape=(3, 4)),
        nn_case("MaxPool2d", 2, return_indices=True, shape=(N, 3, 4, 4)),
        nn_case("AvgPool2d", 2, divisor_override=0, shape=(N, 3, 4, 4)),
        nn_case("AvgPool3d", 3, padding=1, shape=(N, 3, 2, 2, 2)),
        nn_case("AvgPool3d", 3, stride=1, padding=1, shape=(N, 3, 3, 3, 3)),
        nn_case("AvgPool1d", (2, 2), shape=(N, 3, 4)),
        nn_case("LPPool2d", 2, (2,), shape=(N, 3, 4, 4)),
        nn_case("LPPool1d", 2, (2,), shape=(N, 3, 4)),
        nn_case("LPPool2d", 2, 5, shape=(N, 3, 4, 4)),
        fn_case("torch.nn.functional.avg_pool2d", 3, padding=1, shape=(N, 3, 4, 4)),
        fn_case("torch.nn.functional.avg_pool2d", 3, padding=2, shape=(N, 3, 4, 4)),
        fn_case("torch.nn.functional.max_pool3d", 2, shape=(N, 3, 4, 4, 4)),
        fn_case("torch.nn.functional.max_pool3d", 2, ceil_mode=True, shape=(3, 5, 5, 5)),
        fn_case("torch.nn.functional.max_pool3d", 2, return_indices=True, shape=(3, 5, 5, 5)),
        fn_case("torch.nn.functional.lp_pool1d", 2, 3, shape=(N, 3, 8)),
        fn_case("torch.nn.functional.lp_pool1d", 2, 3, shape=(N, 3, 2)),
    ]
    return cases


def test_pool_known_errors():
    cases = _pool_known_errors_cases()
    assert_agree(cases)
    small = predict(cases[5]).problems[0]
    assert (small.code, small.when) == ("CNV105", "forward")


def test_pool_symbolic_sizes_match_torch_at_every_size():
    """Pools and convs on symbolic sizes give closed forms that torch agrees with, size by size."""
    h = sizes.symbol("H")
    chain = [("torch.nn.Conv2d", (3, 6, 5), {}), ("torch.nn.MaxPool2d", (2, 2), {}),
             ("torch.nn.Conv2d", (6, 16, 3), {"stride": 2, "padding": 1}),
             ("torch.nn.MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}),
             ("torch.nn.ConvTranspose2d", (16, 8, 4), {"stride": 2, "padding": 1}),
             ("torch.nn.Upsample", (), {"scale_factor": 2})]
    shape = (sizes.BATCH, 3, h, 20)
    model = []
    for qualname, args, kwargs in chain:
        kind = layers.LAYERS[qualname]
        shape, problems = kind.apply(kind.bind(list(args), kwargs), shape)
        assert problems == []
        model.append(torch_object(qualname)(*args, **kwargs))
    net = nn.Sequential(*model)
    checked = 0
    for size in range(1, 60):
        try:
            out = net(torch.zeros(BATCH, 3, size, 20))
        except RuntimeError:
            assert size < shape[2].min_input
            continue
        assert size >= shape[2].min_input
        assert sizes.value_at(shape[2], {"H": size}) == out.shape[2]
        assert out.shape[3] == shape[3]
        checked += 1
    assert checked > 20


# ---------------------------------------------------------------- adaptive pools


@case_producer
def _adaptive_pools_cases() -> list:
    cases = []
    for rank, kind in itertools.product((1, 2, 3), ("AdaptiveAvgPool", "AdaptiveMaxPool")):
        for size in (1, 3, 0, -1, None, (2,) * rank, (None,) * rank, (2,) * (rank + 1),
                     (2,), (-1,) * rank):
            for batch in ((N,), ()):
                shape = batch + (3,) + (4,) * rank
                cases.append(nn_case(f"{kind}{rank}d", size, shape=shape))
        cases.append(nn_case(f"{kind}{rank}d", 2, shape=(N, 3) + (4,) * (rank + 1)))
        cases.append(nn_case(f"{kind}{rank}d", 2, shape=(N, 3) + (0,) * rank))
        name = "adaptive_avg_pool" if kind == "AdaptiveAvgPool" else "adaptive_max_pool"
        cases.append(fn_case(f"torch.nn.functional.{name}{rank}d", 3,
                             shape=(N, 3) + (5,) * rank))
        cases.append(fn_case(f"torch.nn.functional.{name}{rank}d", 3, shape=(3,)))
    cases.append(nn_case("AdaptiveMaxPool2d", 2, return_indices=True, shape=(N, 3, 4, 4)))
    cases.append(nn_case("AdaptiveAvgPool2d", (None, 2), shape=(N, 3, 5, 7)))
    return cases


def test_adaptive_pools_against_torch():
    cases = _adaptive_pools_cases()
    assert_agree(cases)


# ---------------------------------------------------------------- normalisation


@case_producer
def _batch_norms_cases() -> list:
    cases = []
    for name, affine, track, bias in itertools.product(
            ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"), (True, False),
            (True, False), (True, False)):
        for rank in range(1, 6):
            for channels in (8, 7):
                shape = (N, channels) + (3,) * (rank - 2) if rank >= 2 else (8,)
                cases.append(nn_case(name, 8, affine=affine, track_running_stats=track,
                                     bias=bias, shape=shape))
    return cases


def test_batch_norms_against_torch():
    cases = _batch_norms_cases()
    assert_agree(cases)
    bn = layers.LAYERS["torch.nn.BatchNorm2d"]
    bound = bn.bind([64], {})
    assert bn.in_channels(bound) == bn.out_channels(bound) == 64
    problem = bn.apply(bound, (sizes.BATCH, 32, 8, 8))[1][0]
    assert (problem.code, problem.fields) == (
        "CNV102", {"expected": 64, "got": "32", "what": "features"})


@case_producer
def _instance_norms_cases() -> list:
    cases = []
    for rank, affine, track in itertools.product((1, 2, 3), (True, False), (True, False)):
        for batch, channels, spatial in itertools.product(((N,), ()), (8, 7), (1, 3)):
            shape = batch + (channels,) + (spatial,) * rank
            cases.append(nn_case(f"InstanceNorm{rank}d", 8, affine=affine,
                                 track_running_stats=track, shape=shape))
        cases.append(nn_case(f"InstanceNorm{rank}d", 8, shape=(N, 8) + (3,) * (rank + 1)))
        cases.append(nn_case(f"InstanceNorm{rank}d", 8, shape=(8,) + (3,) * (rank - 1)))
    cases.append(nn_case("InstanceNorm2d", 8, affine=True, bias=False, shape=(N, 8, 1, 2)))
    return cases


def test_instance_norms_against_torch():
    cases = _instance_norms_cases()
    assert_agree(cases)


@case_producer
def _group_and_layer_norms_cases() -> list:
    cases = []
    for groups, channels, affine, got in itertools.product((4, 3, 0), (8,), (True, False),
                                                           (8, 12, 10)):
        cases.append(nn_case("GroupNorm", groups, channels, affine=affine, shape=(N, got, 3)))
    cases += [nn_case("GroupNorm", 4, 8, shape=(8,)), nn_case("GroupNorm", 4, 8, shape=(N, 8)),
              nn_case("GroupNorm", 4, 8, bias=False, shape=(N, 8, 2, 2)),
              fn_case("torch.nn.functional.group_norm", 4, shape=(N, 8, 3)),
              fn_case("torch.nn.functional.group_norm", 3, shape=(N, 8, 3)),
              fn_case("torch.nn.functional.group_norm", 2, shape=(8,))]
    for normalized, affine, bias, shape in itertools.product(
            (8, (8,), [3, 8], (2, 3, 8), ()), (True, False), (True, False),
            ((N, 8), (N, 7), (N, 3, 8), (N, 4, 8), (3, 8))):
        cases.append(nn_case("LayerNorm", normalized, elementwise_affine=affine, bias=bias,
                             shape=shape))
        if bias:
            cases.append(nn_case("RMSNorm", normalized, elementwise_affine=affine, shape=shape))
            cases.append(fn_case("torch.nn.functional.layer_norm", normalized, shape=shape))
    for size, shape in itertools.product((2, 0), ((N, 8, 3), (N, 8), (N, 8, 3, 3, 3, 3))):
        cases.append(nn_case("LocalResponseNorm", size, shape=shape))
    return cases


def test_group_and_layer_norms_against_torch():
    cases = _group_and_layer_norms_cases()
    assert_agree(cases)


# ---------------------------------------------------------------- linear layers


@case_producer
def _linear_cases() -> list:
    cases = [nn_case("Linear", 8, 4, bias=bias, shape=shape)
             for bias, shape in itertools.product(
                 (True, False), ((N, 8), (8,), (N, 5, 8), (N, 7), (N, 8, 7), (7,)))]
    cases += [nn_case("Bilinear", 8, 6, 4, bias=bias, shape=(N, 8)) for bias in (True, False)]
    return cases


def test_linear_against_torch():
    cases = _linear_cases()
    # Bilinear takes two inputs: only the parameter count and the first input are checked
    for case in cases[-2:]:
        module = torch_object(case.name)(*case.args, **case.kwargs)
        assert predict(case).params == sum(p.numel() for p in module.parameters())
        assert predict(case).shape == (sizes.BATCH, 4)
        assert tuple(module(torch.zeros(2, 8), torch.zeros(2, 6)).shape) == (2, 4)
    assert_agree(cases[:-2])


def test_linear_on_symbolic_features_reports_only_impossible_sizes():
    h, w = sizes.symbol("H"), sizes.symbol("W")
    shape = (sizes.BATCH, 3, h, w)
    for qualname, args in [("torch.nn.Conv2d", (3, 6, 5)), ("torch.nn.MaxPool2d", (2, 2)),
                           ("torch.nn.Conv2d", (6, 16, 5)), ("torch.nn.MaxPool2d", (2, 2)),
                           ("torch.nn.Flatten", ())]:
        kind = layers.LAYERS[qualname]
        shape, _ = kind.apply(kind.bind(list(args), {}), shape)
    linear = layers.LAYERS["torch.nn.Linear"]
    fits = linear.apply(linear.bind([16 * 5 * 5, 120], {}), shape)
    assert fits == ((sizes.BATCH, 120), [])  # the CIFAR LeNet: H = W = 32..35 gives 400
    assert linear.apply(linear.bind([16 * 4 * 5, 120], {}), shape)[1] == []  # H=28..31
    out, problems = linear.apply(linear.bind([250, 120], {}), shape)  # 250 = 16*k*m: never
    assert out is None and [p.code for p in problems] == ["CNV103"]
    got = problems[0].fields["got"]
    assert got.startswith("16*floor((H - 12)/4)*floor((W - 12)/4) for every input size; an "
                          "input of H=")
    # the suggested input really gives the suggested features in torch, and no input gives 250
    ranges = dict(re.findall(r"(\w)=(\d+)", got))
    closest = int(got.rsplit(" ", 1)[1])
    assert abs(closest - 250) == min(abs(16 * a * a - 250) for a in range(1, 40))
    net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5),
                        nn.MaxPool2d(2, 2), nn.Flatten())
    assert net(torch.zeros(BATCH, 3, int(ranges["H"]), int(ranges["W"]))).shape[1] == closest
    assert all(net(torch.zeros(1, 3, size, size)).shape[1] != 250 for size in range(16, 80))


# ---------------------------------------------------------------- elementwise layers


@case_producer
def _activations_and_dropouts_cases() -> list:
    shapes = [(N,), (N, 4), (N, 4, 3), (N, 4, 3, 3), (N, 4, 2, 2, 2)]
    cases = []
    plain = ["ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "Sigmoid",
             "Tanh", "LogSigmoid", "Softsign", "Tanhshrink", "ELU", "LeakyReLU", "Softplus",
             "Softshrink", "Hardshrink", "CELU", "GELU", "RReLU", "Hardtanh", "Softmax2d",
             "Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
             "FeatureAlphaDropout"]
    for name, shape in itertools.product(plain, shapes):
        cases.append(nn_case(name, shape=shape))
    cases += [nn_case("Threshold", 0.1, 0.0, shape=(N, 4)),
              nn_case("Hardtanh", 1.0, -1.0, shape=(N, 4)),
              nn_case("Hardtanh", min_value=-2.0, shape=(N, 4)),
              nn_case("Hardtanh", max_value=-2.0, shape=(N, 4)),
              nn_case("GELU", "tanh", shape=(N, 4)), nn_case("GELU", "foo", shape=(N, 4)),
              nn_case("RReLU", 0.5, 0.1, shape=(N, 4)), nn_case("CELU", 0.0, shape=(N, 4)),
              nn_case("LeakyReLU", 0.1, True, shape=(N, 4)),
              nn_case("Identity", 3, unused=4, shape=(N, 4))]
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                 "FeatureAlphaDropout"):
        cases += [nn_case(name, p, shape=(N, 4, 3)) for p in (1.5, -0.1, 1, 0)]
    for name, dim, shape in itertools.product(("Softmax", "Softmin", "LogSoftmax"),
                                              (None, 1, 2, -3, -2), ((N, 4), (4,), (N, 4, 3))):
        cases.append(nn_case(name, dim, shape=shape))
    for dim, shape in itertools.product((-1, 1, 3), ((N, 8), (N, 7), (N, 8, 3), (8,))):
        cases.append(nn_case("GLU", dim, shape=shape))
    for count, shape in itertools.product((1, 8, 0), ((N, 8, 3), (N, 7), (8,), (N,))):
        cases.append(nn_case("PReLU", count, shape=shape))
    for groups, shape in itertools.product((2, 3, 0), ((N, 8, 3), (N, 8), (N, 6, 2, 2))):
        cases.append(nn_case("ChannelShuffle", groups, shape=shape))
    return cases


def test_activations_and_dropouts_against_torch():
    cases = _activations_and_dropouts_cases()
    assert_agree(cases)


@case_producer
def _functional_elementwise_cases() -> list:
    f = "torch.nn.functional."
    cases = []
    for name in ("relu", "relu6", "selu", "silu", "mish", "hardswish", "hardsigmoid", "sigmoid",
                 "tanh", "logsigmoid", "softsign", "tanhshrink", "elu", "leaky_relu", "softplus",
                 "gelu", "celu", "hardtanh", "dropout", "alpha_dropout", "dropout1d",
                 "dropout2d", "dropout3d"):
        cases += [fn_case(f + name, shape=shape) for shape in ((N, 4), (N,), (N, 4, 3, 3))]
    cases += [fn_case(f + "gelu", approximate="foo", shape=(N, 4)),
              fn_case(f + "celu", 0.0, shape=(N, 4)), fn_case(f + "hardtanh", 1.0, 0.0,
                                                              shape=(N, 4)),
              fn_case(f + "dropout", 2.0, shape=(N, 4)),
              fn_case(f + "alpha_dropout", 2.0, training=True, shape=(N, 4)),
              fn_case(f + "dropout1d", shape=(N, 4, 3, 3))]
    for name, dim, shape in itertools.product(("softmax", "softmin", "log_softmax", "normalize"),
                                              (None, 1, 3, -3), ((N, 4), (4,), (N, 4, 3))):
        if not (name == "normalize" and dim is None):
            cases.append(fn_case(f + name, dim=dim, shape=shape))
    cases += [fn_case(f + "normalize", shape=(4,)), fn_case(f + "normalize", shape=(N, 4))]
    cases += [fn_case(f + "glu", dim, shape=shape)
              for dim, shape in itertools.product((1, -1, 2), ((N, 4), (N, 3), (N, 4, 3)))]
    for name in ("relu", "sigmoid", "tanh"):
        cases += [fn_case(f"torch.{name}", shape=(N, 4, 3))]
    for name, dim in itertools.product(("softmax", "log_softmax"), (1, -1, 3)):
        cases.append(fn_case(f"torch.{name}", dim, shape=(N, 4, 3)))
    return cases


def test_functional_elementwise_against_torch():
    cases = _functional_elementwise_cases()
    assert_agree(cases)


def test_elementwise_entries_say_so():
    assert layers.LAYERS["torch.nn.ReLU"].elementwise
    assert layers.LAYERS["torch.nn.BatchNorm2d"].elementwise
    assert not layers.LAYERS["torch.nn.Conv2d"].elementwise
    assert not layers.LAYERS["torch.nn.Flatten"].elementwise


# ---------------------------------------------------------------- reshaping


@case_producer
def _flatten_and_unflatten_cases() -> list:
    cases = []
    for start, end, shape in itertools.product((0, 1, 2, -1, 3), (-1, 1, 2, 4),
                                               ((N, 3, 4, 5), (N, 3), (N,), (3, 4))):
        merges = shape[0] == N and start in (0, -len(shape))
        cases.append(nn_case("Flatten", start, end, shape=shape, merges_batch=merges))
        cases.append(fn_case("torch.flatten", start, end, shape=shape, merges_batch=merges))
        cases.append(method_case("flatten", start, end, shape=shape, merges_batch=merges))
    cases += [fn_case("torch.flatten", shape=(3, 4, 5)), method_case("flatten", shape=(3, 4)),
              fn_case("torch.flatten", shape=(N, 3, 4), merges_batch=True),
              nn_case("Flatten", shape=(N, 3, 4, 5))]
    for dim, size, shape in itertools.product(
            (1, -1, 3), ((2, 6), (2, -1), (5, -1), (5, 2), (-1, -1), (), (0, -1), (-2, -6),
                         [3, 4], 12),
            ((N, 12), (N, 12, 2))):
        cases.append(nn_case("Unflatten", dim, size, shape=shape))
    return cases


def test_flatten_and_unflatten_against_torch():
    cases = _flatten_and_unflatten_cases()
    assert_agree(cases)


def test_flatten_merging_the_batch_gives_an_unknown_size():
    flatten = layers.FUNCTIONS["torch.flatten"]
    h = sizes.symbol("H")
    out, problems = flatten.apply(flatten.bind([Tensor()], {}), (sizes.BATCH, 3, h, h))
    assert out == (None,) and problems == []
    module = layers.LAYERS["torch.nn.Flatten"]
    out, _ = module.apply(module.bind([], {}), (sizes.BATCH, 3, h, 4))
    assert out[0] is sizes.BATCH and sizes.value_at(out[1], {"H": 10}) == 3 * 10 * 4


@case_producer
def _squeeze_unsqueeze_permute_transpose_mean_cases() -> list:
    cases = []
    for dim, shape in itertools.product((None, 0, 1, 3, 4, -1, (1, 3), ()),
                                        ((N, 1, 4, 1), (1, 3), (N, 3))):
        if dim != ():
            cases.append(method_case("squeeze", *(() if dim is None else (dim,)), shape=shape))
            cases.append(fn_case("torch.squeeze", *(() if dim is None else (dim,)),
                                 shape=shape))
    for dim, shape in itertools.product((0, 2, -1, -4, 4, -5), ((N, 3, 4), (N,))):
        cases.append(method_case("unsqueeze", dim, shape=shape))
        cases.append(fn_case("torch.unsqueeze", dim, shape=shape))
    for dims in ((0, 2, 1), ((0, 2, 1),), (2, 0, 1), (0, 1), (0, 1, 1), (-1, 0, 1), (0, 1, 3)):
        cases.append(method_case("permute", *dims, shape=(N, 3, 4)))
    cases += [fn_case("torch.permute", (0, 2, 1), shape=(N, 3, 4)),
              fn_case("torch.permute", (0, 1), shape=(N, 3, 4))]
    for dims in ((1, 2), (-1, 0), (3, 0), (1, 1)):
        cases.append(method_case("transpose", *dims, shape=(N, 3, 4)))
        cases.append(fn_case("torch.transpose", *dims, shape=(N, 3, 4)))
    for name, dim, keep in itertools.product(("mean", "sum"),
                                             (None, 1, (2, 1), (2, -1), (), [1], 3, (1, 1)),
                                             (False, True)):
        cases.append(method_case(name, dim=dim, keepdim=keep, shape=(N, 3, 4)))
    cases += [method_case("mean", shape=(N, 3, 4)), method_case("sum", 1, True, shape=(N, 3)),
              method_case("softmax", 1, shape=(N, 3, 4)),
              method_case("log_softmax", dim=-1, shape=(N, 3, 4)),
              method_case("softmax", 3, shape=(N, 3, 4)), method_case("contiguous", shape=(N, 3)),
              method_case("relu", shape=(N, 3)), method_case("sigmoid", shape=(N, 3)),
              method_case("tanh", shape=(N, 3))]
    return cases


def test_squeeze_unsqueeze_permute_transpose_mean_against_torch():
    cases = _squeeze_unsqueeze_permute_transpose_mean_cases()
    assert_agree(cases)


@case_producer
def _axes_and_reductions_cases() -> list:
    """Axes swapped, moved, repeated and expanded; the other reductions."""
    cases = []
    for name, where in itertools.product(("swapaxes", "swapdims"), ("method", "fn")):
        for dims in ((1, 2), (-1, 0), (3, 0), (1, 1)):
            make = method_case if where == "method" else fn_case
            cases.append(make(name if where == "method" else f"torch.{name}", *dims,
                              shape=(N, 3, 4)))
    for shape in ((N, 3, 4), (3, 4), (4,), (), (N, 3)):
        cases += [method_case("t", shape=shape), fn_case("torch.t", shape=shape)]
    for source, destination in ((0, 2), (2, 0), (-1, 1), ((0, 1), (2, 0)), ((0, 1), (1, 0)),
                                ((1,), (0,)), ((0, 1), (2,)), (0, 3), (-4, 0), ((0, 0), (1, 2)),
                                ((0, 1), (2, 2)), ((), ())):
        cases += [method_case("movedim", source, destination, shape=(N, 3, 4)),
                  method_case("moveaxis", source, destination, shape=(N, 3, 4)),
                  fn_case("torch.movedim", source, destination, shape=(N, 3, 4))]
    for counts in ((1, 2, 1), (1, 1, 3), (2, 1, 1, 1), (1, 0, 1), (1, 2), (3,)):
        merges = len(counts) == 3 and counts[0] != 1
        cases.append(method_case("repeat", *counts, shape=(N, 3, 4), merges_batch=merges))
        cases.append(method_case("repeat", counts, shape=(N, 3, 4), merges_batch=merges))
        cases.append(method_case("tile", *counts, shape=(N, 3, 4), merges_batch=merges))
        cases.append(fn_case("torch.tile", counts, shape=(N, 3, 4), merges_batch=merges))
    cases += [method_case("repeat", 2, 1, shape=(5, 3), merges_batch=False),
              method_case("repeat", (2, 2), shape=(3, 4)),
              method_case("tile", 2, shape=(3, 4))]
    for size in ((-1, 7, 4), (-1, 1, 4), (-1, 0, 4), (5, -1, -1, -1), (-1, 3, 4), (3, 4),
                 (-1, 5, 4), (-1, -1, 2), (-1, 2, 3, 4), ((-1, 7, 4),)):
        cases.append(method_case("expand", *size, shape=(N, 1, 4)))
        cases.append(method_case("expand", *size, shape=(N, 3, 4)))
    cases.append(method_case("expand", 2, 3, shape=(1, 3)))
    for name, dim, keep in itertools.product(("amax", "amin", "std", "var"),
                                             (None, 1, (2, 1), (), -1, 3, (1, 1)),
                                             (False, True)):
        cases.append(method_case(name, dim=dim, keepdim=keep, shape=(N, 3, 4)))
        cases.append(fn_case(f"torch.{name}", dim=dim, keepdim=keep, shape=(N, 3, 4)))
    for name, dim, keep in itertools.product(("argmax", "argmin"), (None, 0, 1, -1, 3),
                                             (False, True)):
        cases.append(method_case(name, dim=dim, keepdim=keep, shape=(N, 3, 4)))
    cases += [fn_case("torch.argmin", 1, shape=(N, 3, 4)), fn_case("torch.argmin", shape=(3, 4)),
              method_case("argmax", shape=(N, 3, 4)), method_case("argmax", 2, True, shape=(3, 4)),
              method_case("std", 1, shape=(N, 3, 4)), method_case("var", shape=(N, 3)),
              method_case("amax", (0, 1), shape=(3, 4))]
    for dim, keep in itertools.product((1, (1, 2), -1, 3), (False, True)):
        cases.append(method_case("logsumexp", dim, keep, shape=(N, 3, 4)))
    for name, dim in itertools.product(("amax", "argmin", "logsumexp", "std", "mean"),
                                       (2, 1, None, (1, 2))):
        if not (name == "argmin" and isinstance(dim, tuple)) and not (
                name == "logsumexp" and dim is None):
            cases.append(method_case(name, dim=dim, shape=(N, 3, 0)))  # an empty map
    cases.append(fn_case("torch.amin", dim=-1, shape=(N, 0)))
    return cases


@case_producer
def _empty_map_cases() -> list:
    """A convolution of a map with an axis of size 0 fails whatever its kernel and padding."""
    cases = []
    shapes = ((N, 1, 12, 0), (N, 1, 0, 5), (1, 0, 4))
    for padding, shape in itertools.product((0, 1, "same"), shapes):
        cases.append(nn_case("Conv2d", 1, 1, 3, padding=padding, shape=shape))
    cases += [nn_case("Conv1d", 1, 1, 1, padding=1, shape=(N, 1, 0)),
              nn_case("Conv3d", 1, 1, 1, padding=1, shape=(N, 1, 3, 3, 0)),
              nn_case("ConvTranspose2d", 1, 1, 3, shape=(N, 1, 3, 0)),
              nn_case("ConvTranspose1d", 1, 1, 2, stride=2, shape=(N, 1, 0)),
              nn_case("Conv2d", 1, 1, 1, padding=1, padding_mode="circular", shape=(N, 1, 4, 0))]
    return cases


def test_convolutions_of_an_empty_map_against_torch():
    assert_agree(_empty_map_cases())


def test_axes_and_reductions_against_torch():
    assert_agree(_axes_and_reductions_cases())


def test_squeeze_keeps_the_batch_and_gives_up_on_sizes_that_may_be_one():
    squeeze = layers.METHODS["squeeze"]
    bound = squeeze.bind([Tensor()], {})
    assert squeeze.apply(bound, (sizes.BATCH, 512, 1, 1)) == ((sizes.BATCH, 512), [])
    h = sizes.symbol("H")
    assert squeeze.apply(bound, (sizes.BATCH, 512, h)) == (None, [])
    never_one = sizes.conv_transpose_out(h, 4, 2, 1)  # 2H: never 1
    assert squeeze.apply(bound, (sizes.BATCH, 3, never_one))[0] == (sizes.BATCH, 3, never_one)


# ---------------------------------------------------------------- resizing


@case_producer
def _upsampling_cases() -> list:
    cases = []
    modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact",
             "lanczos", "foo")
    for mode, rank in itertools.product(modes, (2, 3, 4, 5, 6)):
        shape = (N, 3) + (5,) * (rank - 2) if rank >= 2 else (5,)
        cases.append(nn_case("Upsample", scale_factor=2, mode=mode, shape=shape))
    for size, scale in [(7, None), ((7, 8), None), ((7,), None), ((7, 8, 9), None), (0, None),
                        ((None, 4), None), (7, 2), (None, None), (None, 1.5), (None, 0.1),
                        (None, (2, 3)), (None, (2,)), (None, -1), (None, 0), (None, 0.3),
                        (None, 1.1), (None, 0.7)]:
        for mode in ("nearest", "bilinear", "area"):
            cases.append(nn_case("Upsample", size, scale, mode, shape=(N, 3, 5, 10)))
            cases.append(fn_case("torch.nn.functional.interpolate", size, scale, mode,
                                 shape=(N, 3, 5, 10)))
    for mode, corners in itertools.product(("nearest", "bilinear", "area"), (None, True, False)):
        cases.append(nn_case("Upsample", scale_factor=2, mode=mode, align_corners=corners,
                             shape=(N, 3, 5, 5)))
    f = "torch.nn.functional."
    cases += [
        nn_case("Upsample", scale_factor=1.5, recompute_scale_factor=True, shape=(N, 3, 5, 5)),
        nn_case("Upsample", size=4, recompute_scale_factor=True, shape=(N, 3, 5, 5)),
        nn_case("UpsamplingNearest2d", scale_factor=2, shape=(N, 3, 5, 5)),
        nn_case("UpsamplingNearest2d", scale_factor=2, shape=(N, 3, 5)),
        nn_case("UpsamplingBilinear2d", scale_factor=2, shape=(N, 3, 5)),
        nn_case("UpsamplingBilinear2d", size=(3, 4), shape=(N, 3, 5, 5)),
        fn_case(f + "interpolate", scale_factor=2, mode="bilinear", antialias=True,
                shape=(N, 3, 5, 5)),
        fn_case(f + "interpolate", scale_factor=2, antialias=True, shape=(N, 3, 5, 5)),
        fn_case(f + "interpolate", scale_factor=0.5, mode="lanczos", antialias=True,
                shape=(N, 3, 6, 6)),
        fn_case(f + "interpolate", scale_factor=0.3, recompute_scale_factor=True,
                shape=(N, 3, 7, 7)),
        fn_case(f + "upsample", scale_factor=2, shape=(N, 3, 5, 5)),
        fn_case(f + "upsample", size=3, mode="linear", shape=(N, 3, 5)),
    ]
    return cases


def test_upsampling_against_torch():
    cases = _upsampling_cases()
    assert_agree(cases)


@case_producer
def _pixel_shuffle_cases() -> list:
    cases = []
    for factor, shape in itertools.product((2, 0, -1), ((N, 8, 3, 3), (N, 6, 3, 3), (8, 3, 3),
                                                        (8, 3), (1, 2, 8, 3, 3))):
        cases.append(nn_case("PixelShuffle", factor, shape=shape))
        cases.append(fn_case("torch.nn.functional.pixel_shuffle", factor, shape=shape))
    for factor, shape in itertools.product((2, 0), ((N, 2, 4, 6), (N, 2, 5, 6), (N, 2, 4, 5),
                                                    (4, 6), (3, 4, 6))):
        cases.append(nn_case("PixelUnshuffle", factor, shape=shape))
        cases.append(fn_case("torch.nn.functional.pixel_unshuffle", factor, shape=shape))
    return cases


def test_pixel_shuffle_against_torch():
    cases = _pixel_shuffle_cases()
    assert_agree(cases)
    shuffle = layers.LAYERS["torch.nn.PixelShuffle"]
    h = sizes.symbol("H")
    out, _ = shuffle.apply(shuffle.bind([2], {}), (sizes.BATCH, 8, h, 3))
    assert sizes.value_at(out[2], {"H": 5}) == 10 and out[1:2] + out[3:] == (2, 6)


@case_producer
def _pads_cases() -> list:
    cases = []
    for kind, rank in itertools.product(("Zero", "Constant", "Reflection", "Replication",
                                         "Circular"), (1, 2, 3)):
        extra = (0.0,) if kind == "Constant" else ()
        for padding in (1, 3, 4, 5, -1, -2, -3, (1,), (1,) * (2 * rank + 2), (2, 0) * rank,
                        (0, 4) + (1,) * (2 * rank - 2)):
            cases.append(nn_case(f"{kind}Pad{rank}d", padding, *extra,
                                 shape=(N, 3) + (4,) * rank))
        for full_rank in range(1, 6):
            cases.append(nn_case(f"{kind}Pad{rank}d", 1, *extra,
                                 shape=(2, 3, 4, 4, 4)[5 - full_rank:]))
    f = "torch.nn.functional.pad"
    for pad, mode, shape in itertools.product(
            ((1, 1), (1, 2, 3, 4), (1,) * 6, (1,) * 8, (), (3, 0), (-1, 3), (1,)),
            ("constant", "reflect", "replicate", "circular", "foo"),
            ((N, 3, 3), (N, 3, 4, 4), (3,), (N, 3, 3, 3, 3))):
        merges = shape[0] == N and len(pad) // 2 >= len(shape)  # the batch axis is padded too
        cases.append(fn_case(f, pad, mode, shape=shape, merges_batch=merges))
    cases += [fn_case(f, (1, 1), "reflect", 1.0, shape=(N, 3, 4)),
              fn_case(f, (1, 1), "reflect", 0.0, shape=(N, 3, 4)),
              fn_case(f, (1, 1), value=2.0, shape=(N, 3, 4))]
    return cases


def test_pads_against_torch():
    cases = _pads_cases()
    assert_agree(cases)


# ---------------------------------------------------------------- every entry is exercised


# the hypothesis tests above build these
GENERATED = {f"torch.nn.{kind}{rank}d"
             for kind in ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "LPPool")
             for rank in (1, 2, 3)}
GENERATED |= {f"torch.nn.functional.{name}" for name in (
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool3d", "lp_pool2d")}
GENERATED.add("torch.nn.functional.embedding")  # its weight is a tensor: test_embedding_fold.py


def all_cases() -> list:
    """Every explicit case, with those of the families tested in files of their own."""
    import test_embedding_fold  # noqa: F401 - its producers join CASE_PRODUCERS

    return [case for build in CASE_PRODUCERS for case in build()]


def test_every_entry_is_run_against_torch():
    cases = all_cases()
    covered = GENERATED | {case.name for case in cases}
    missing = [name for name in list(layers.LAYERS) + list(layers.FUNCTIONS)
               if name not in covered and not name.startswith("einops.")  # test_einops.py
               and layers.lookup(name).call is None]  # else: see
    # tests/test_sequence_layers.py (several inputs, tuple results)
    missing += [name for name in layers.METHODS if name not in covered]
    assert not missing


def test_problems_say_when_torch_raises():
    conv = layers.LAYERS["torch.nn.Conv2d"]
    assert conv.check(conv.bind([3, 8, 3], {"stride": 0}))[0].when == "forward"
    assert conv.check(conv.bind([3, 8, 3], {"groups": 2}))[0].when == "init"
    pool = layers.FUNCTIONS["torch.nn.functional.max_pool2d"]
    assert all(p.when == "forward" for p in pool.check(pool.bind([Tensor(), 0], {})))
    assert layers.FUNCTIONS["torch.relu"].params({"input": Tensor()}) == 0


# ---------------------------------------------------------------- precision: unknowns stay silent


def _valid_cases() -> list:
    """The explicit cases the catalogue finds nothing wrong with (torch runs them all)."""
    cases = all_cases()
    return [(case, pred) for case, pred in ((c, predict(c)) for c in cases)
            if not pred.check and not pred.problems]


def test_an_unknown_argument_never_creates_a_problem():
    checked = 0
    for case, _ in _valid_cases():
        kind = entry(case)
        receiver = [] if case.where == "nn" else [Tensor()]
        args = [_plain(a) for a in case.args]
        kwargs = {k: _plain(v) for k, v in case.kwargs.items()}
        shape = tuple(sizes.BATCH if d == N else d for d in case.shape)
        variants = [(args[:i] + [UNKNOWN] + args[i + 1:], kwargs) for i in range(len(args))]
        variants += [(args, dict(kwargs, **{k: UNKNOWN})) for k in kwargs]
        for v_args, v_kwargs in variants:
            bound = kind.bind(receiver + v_args, v_kwargs)
            assert kind.check(bound) == [], (case, v_args, v_kwargs)
            assert kind.apply(bound, shape)[1] == [], (case, v_args, v_kwargs)
            assert kind.apply(bound, None) == (None, [])
            checked += 1
    assert checked > 500


def test_a_symbolic_size_gives_the_same_sizes_and_no_problem():
    """Any one int axis of a valid input made symbolic: no claim, and the output agrees with the
    concrete output at that size (where it is known)."""
    h = sizes.symbol("H")
    checked = 0
    for case, pred in _valid_cases():
        kind = entry(case)
        concrete = tuple(sizes.BATCH if d == N else d for d in case.shape)
        for axis, size in enumerate(concrete):
            if type(size) is not int or size < 1:
                continue
            shape = concrete[:axis] + (h,) + concrete[axis + 1:]
            out, problems = kind.apply(pred.bound, shape)
            assert problems == [], (case, axis)
            if out is None or pred.shape is None:
                continue
            assert len(out) == len(pred.shape), (case, axis)
            for symbolic, real in zip(out, pred.shape):
                if symbolic is not None and symbolic is not sizes.BATCH:
                    assert sizes.value_at(symbolic, {"H": size}) == real, (case, axis, out)
            checked += 1
    assert checked > 500


PARAMETER_CASES = [
    ("Conv2d", (6, 12, 3), {"groups": 3}), ("Conv2d", (4, 8, (3, 5)), {"bias": False}),
    ("ConvTranspose2d", (6, 4, 2), {"groups": 2}), ("Conv1d", (3, 5, 7), {}),
    ("BatchNorm2d", (16,), {}), ("BatchNorm1d", (8,), {"affine": False}),
    ("InstanceNorm2d", (5,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (5,), {}), ("Linear", (10, 3), {}), ("Linear", (10, 3), {"bias": False}),
]


@pytest.mark.parametrize("name, args, kwargs", PARAMETER_CASES)
def test_parameter_shapes_are_torchs(name, args, kwargs):
    """`conv.weight.shape` as a fuse() method reads it: torch's parameters and buffers, None
    where torch has none."""
    kind = layers.lookup(f"torch.nn.{name}")
    bound = kind.bind(list(args), dict(kwargs))
    module = getattr(nn, name)(*args, **kwargs)
    for attr in ("weight", "bias", "running_mean", "running_var"):
        real = getattr(module, attr, None)
        assert kind.parameter_shape(bound, attr) == (None if real is None else tuple(real.shape))
