"""Random model files for the differential tests: stacks of torch layers rendered as source
(1-d maps also read as sequences by recurrent layers and attention).

A :class:`Case` is a per-sample input shape and a list of steps (a layer built in ``__init__``,
or a call written in ``forward``), rendered as a model file in one of two styles: every layer
in one ``nn.Sequential``, or one attribute per layer applied line by line. The generator tracks
the shape the stack would give to draw parameters that mostly fit it (most cases run under
torch); a share of cases draws some layers loosely, which makes torch fail somewhere. The
shape tracking only steers the draw: what a case does is always asked of torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st

# How the fuzz tests run: a fixed set of cases (CI sees the same ones every time), as many as
# CONV_LINT_EXAMPLES says in all; CONV_LINT_SEED picks another fixed set (for nightly runs).
EXAMPLES = int(os.environ.get("CONV_LINT_EXAMPLES", "300"))
SEED = os.environ.get("CONV_LINT_SEED")
SETTINGS = settings(derandomize=SEED is None, database=None, deadline=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


def seeded(test):
    """``test`` run from CONV_LINT_SEED's cases, when it is set."""
    return test if SEED is None else seed(int(SEED))(test)


CLASS = "Net"
# Largest spatial size the generator lets a stack reach, per rank (keeps torch fast).
MAX_SIZE = {1: 96, 2: 32, 3: 12}
MAX_CHANNELS = 8


@dataclass(frozen=True)
class Step:
    """A layer constructed in ``__init__`` (``module``) or an expression of ``x`` in forward."""

    text: str  # "nn.Conv2d(3, 8, kernel_size=3)" or "F.interpolate(x, scale_factor=2)"
    module: bool = True
    call: str = ""  # how forward calls the module, when not on x alone: "{layer}(x, x, x)[0]"


@dataclass(frozen=True)
class Case:
    shape: tuple  # per sample: (C, *spatial)
    steps: tuple  # of Step
    style: str  # "sequential": one nn.Sequential; "layers": one attribute per layer
    directive: bool  # the input shape is written on the class (else conv-lint goes symbolic)

    def source(self) -> str:
        lines = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F",
                 "from einops import rearrange, reduce", "from einops.layers.torch import Reduce",
                 "", ""]
        if self.directive:
            lines.append(f"# conv-lint: input-shape={','.join(map(str, self.shape))}")
        lines += [f"class {CLASS}(nn.Module):", "    def __init__(self):",
                  "        super().__init__()"]
        forward = []
        if self.style == "sequential":
            # the modules up to the first forward-time call go into the Sequential
            head = 0
            while head < len(self.steps) and self.steps[head].module \
                    and not self.steps[head].call:
                head += 1
            lines.append("        self.body = nn.Sequential(")
            lines += [f"            {step.text}," for step in self.steps[:head]]
            lines.append("        )")
            forward.append("x = self.body(x)")
            rest = self.steps[head:]
        else:
            rest = self.steps
        for index, step in enumerate(rest):
            if step.module:
                lines.append(f"        self.l{index} = {step.text}")
                call = step.call or "{layer}(x)"
                forward.append(f"x = {call.format(layer=f'self.l{index}')}")
            else:
                forward.append(f"x = {step.text}")
        lines.append("")
        lines.append("    def forward(self, x):")
        lines += [f"        {line}" for line in forward]
        lines.append("        return x")
        return "\n".join(lines) + "\n"


# ---- the shape the stack would have (only to steer the draw toward layers that fit)


@dataclass
class _State:
    channels: int
    spatial: list
    loose: bool  # this case may draw layers that do not fit
    # conv-lint knows the channels (from a directive, or a layer that set them): only then may a
    # conv get a wrong in_channels; a symbolic input takes the first conv's channels
    channels_known: bool = True
    flat: bool = False  # flattened: only Linear layers follow
    moved: bool = False  # axes were permuted: torch's layers may keep odd strides, no x.view
    features: int = 0
    notes: list = field(default_factory=list)

    @property
    def rank(self) -> int:
        return len(self.spatial)


def _conv_len(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _pool_len(n, k, s, p, d, ceil):
    if not ceil:
        return _conv_len(n, k, s, p, d)
    out = (n + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
    return out - 1 if (out - 1) * s >= n + p else out


def _axis_arg(draw, values: list):
    """One int when every axis agrees (sometimes a tuple anyway), else a tuple."""
    if len(set(values)) == 1 and draw(st.integers(0, 3)):
        return values[0]
    return tuple(values)


def _text(value) -> str:
    return repr(value)


def _call(name: str, args: list, kwargs: dict, tensor: str = "") -> str:
    """``name(tensor, *args, **kwargs)`` as source; ``tensor`` is written as is (``x``)."""
    parts = [tensor] if tensor else []
    parts += [_text(a) for a in args] + [f"{k}={_text(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _wild(draw, state: _State) -> bool:
    """Draw this layer loosely? Only in loose cases, for about one layer in three."""
    return state.loose and draw(st.integers(0, 2)) == 0


def _divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def _in_channels(draw, state: _State, wild: bool) -> int:
    wrong = wild and state.channels_known and draw(st.booleans())
    state.channels_known = True
    return draw(st.integers(1, MAX_CHANNELS)) if wrong else state.channels


@st.composite
def _conv(draw, state: _State) -> Step:
    r, wild = state.rank, _wild(draw, state)
    c_in = _in_channels(draw, state, wild)
    c_out = draw(st.integers(1, MAX_CHANNELS))
    common = [g for g in _divisors(c_in) if c_out % g == 0]
    groups = draw(st.integers(1, 4)) if wild else draw(st.sampled_from(common))
    if groups > 1 and not wild:
        c_out = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    mode = draw(st.sampled_from(["zeros"] * 5 + ["reflect", "replicate", "circular"]))
    padding_kind = draw(st.sampled_from(["int"] * 4 + ["same", "valid"]))
    dilation = [draw(st.integers(1, 2)) for _ in range(r)]
    kernel, stride, padding, out = [], [], [], []
    for i, n in enumerate(state.spatial):
        d = dilation[i]
        if padding_kind == "int":
            limit = 2 if mode == "zeros" else min(2, n - 1 if mode == "reflect" else n)
            p = draw(st.integers(0, 3)) if wild else draw(st.integers(0, max(0, limit)))
        else:
            p = 0
        if wild:
            k = draw(st.integers(1, 9))
        else:
            reach = n + 2 * p if padding_kind != "same" else n
            k = draw(st.integers(1, max(1, min(5, (reach - 1) // d + 1))))
            if padding_kind == "same" and mode == "reflect":
                while k > 1 and d * (k - 1) - d * (k - 1) // 2 >= n:
                    k -= 1
        s = 1 if padding_kind == "same" and not wild else draw(st.integers(1, 3))
        kernel.append(k)
        stride.append(s)
        padding.append(p)
        out.append(n if padding_kind == "same" else _conv_len(n, k, s, p, d))
    kwargs = {"kernel_size": _axis_arg(draw, kernel)}
    if any(s != 1 for s in stride) or draw(st.booleans()):
        kwargs["stride"] = _axis_arg(draw, stride)
    if padding_kind != "int":
        kwargs["padding"] = padding_kind
    elif any(padding) or draw(st.booleans()):
        kwargs["padding"] = _axis_arg(draw, padding)
    if any(d != 1 for d in dilation):
        kwargs["dilation"] = _axis_arg(draw, dilation)
    if groups != 1:
        kwargs["groups"] = groups
    if mode != "zeros":
        kwargs["padding_mode"] = mode
    if draw(st.integers(0, 3)) == 0:
        kwargs["bias"] = False
    state.channels, state.spatial = c_out, out
    return Step(_call(f"nn.Conv{r}d", [c_in, c_out], kwargs))


@st.composite
def _conv_transpose(draw, state: _State) -> Step:
    r, wild = state.rank, _wild(draw, state)
    c_in = _in_channels(draw, state, wild)
    groups = draw(st.sampled_from(_divisors(c_in)))
    c_out = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    kernel, stride, padding, outpad, dilation, out = [], [], [], [], [], []
    for n in state.spatial:
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        op = draw(st.integers(0, 2)) if wild else draw(st.integers(0, max(s, d) - 1))
        p = draw(st.integers(0, 3)) if wild else draw(st.integers(0, (d * (k - 1) + op) // 2))
        kernel.append(k)
        stride.append(s)
        padding.append(p)
        outpad.append(op)
        dilation.append(d)
        out.append((n - 1) * s - 2 * p + d * (k - 1) + op + 1)
    kwargs = {"kernel_size": _axis_arg(draw, kernel), "stride": _axis_arg(draw, stride)}
    if any(padding):
        kwargs["padding"] = _axis_arg(draw, padding)
    if any(outpad):
        kwargs["output_padding"] = _axis_arg(draw, outpad)
    if groups != 1:
        kwargs["groups"] = groups
    if any(d != 1 for d in dilation):
        kwargs["dilation"] = _axis_arg(draw, dilation)
    state.channels, state.spatial = c_out, out
    return Step(_call(f"nn.ConvTranspose{r}d", [c_in, c_out], kwargs))


@st.composite
def _pool(draw, state: _State) -> Step:
    r, wild = state.rank, _wild(draw, state)
    kind = draw(st.sampled_from(["Max", "Avg"]))
    ceil = draw(st.booleans())
    dilated = kind == "Max" and draw(st.integers(0, 3)) == 0
    kernel, stride, padding, dilation, out = [], [], [], [], []
    default_stride = draw(st.booleans())
    for n in state.spatial:
        d = draw(st.integers(1, 2)) if dilated else 1
        k = draw(st.integers(1, 6)) if wild else draw(st.integers(1, max(1, min(4, n // d))))
        p = draw(st.integers(0, 3)) if wild else draw(st.integers(0, k // 2))
        s = k if default_stride else draw(st.integers(1, 3))
        kernel.append(k)
        stride.append(s)
        padding.append(p)
        dilation.append(d)
        out.append(_pool_len(n, k, s, p, d, ceil))
    kwargs = {"kernel_size": _axis_arg(draw, kernel)}
    if not default_stride:
        kwargs["stride"] = _axis_arg(draw, stride)
    if any(padding):
        kwargs["padding"] = _axis_arg(draw, padding)
    if dilated:
        kwargs["dilation"] = _axis_arg(draw, dilation)
    if ceil:
        kwargs["ceil_mode"] = True
    if kind == "Avg" and draw(st.integers(0, 3)) == 0:
        kwargs["count_include_pad"] = False
    state.spatial = out
    return Step(_call(f"nn.{kind}Pool{r}d", [], kwargs))


@st.composite
def _adaptive(draw, state: _State) -> Step:
    r = state.rank
    kind = draw(st.sampled_from(["Max", "Avg"]))
    wanted = [draw(st.integers(1, 4)) for _ in range(r)]
    if r > 1 and draw(st.integers(0, 3)) == 0:
        keep = draw(st.integers(0, r - 1))
        wanted[keep] = None
    size = _axis_arg(draw, wanted) if None not in wanted else tuple(wanted)
    state.spatial = [n if w is None else w for n, w in zip(state.spatial, wanted)]
    return Step(_call(f"nn.Adaptive{kind}Pool{r}d", [size], {}))


_LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


@st.composite
def _upsample(draw, state: _State) -> Step:
    r = state.rank
    mode = draw(st.sampled_from(["nearest", "nearest", _LINEAR_MODES[r], "area"]))
    functional = draw(st.booleans())  # F.interpolate in forward, or an nn.Upsample
    kwargs: dict = {}
    if draw(st.booleans()):
        factors = [draw(st.sampled_from([2, 2.0, 1.5, 0.5, 3, 0.75, 1.25])) for _ in range(r)]
        if len(set(factors)) == 1 and draw(st.booleans()):
            kwargs["scale_factor"] = factors[0]
        else:
            kwargs["scale_factor"] = tuple(factors)
        out = [int(n * float(f)) for n, f in zip(state.spatial, factors)]  # steering only
    else:
        out = [draw(st.integers(1, MAX_SIZE[r])) for _ in range(r)]
        kwargs["size"] = _axis_arg(draw, out)
    if mode != "nearest" or draw(st.booleans()):
        kwargs["mode"] = mode
    if mode == _LINEAR_MODES[r] and draw(st.booleans()):
        kwargs["align_corners"] = draw(st.booleans())
    state.spatial = out
    if functional:
        return Step(_call("F.interpolate", [], kwargs, tensor="x"), module=False)
    return Step(_call("nn.Upsample", [], kwargs))


# Channels to the last axis and back (the batch stays first), by rank where it matters.
_PERMUTES = {1: ("x.permute(0, 2, 1)", "x.permute(0, 2, 1)"),
             2: ("x.permute(0, 2, 3, 1)", "x.permute(0, 3, 1, 2)"),
             3: ("x.permute(0, 2, 3, 4, 1)", "x.permute(0, 4, 1, 2, 3)")}
_MOVES = [("x.movedim(1, -1)", "x.movedim(-1, 1)"), ("x.transpose(1, -1)", "x.transpose(-1, 1)"),
          ("x.swapaxes(1, -1)", "x.swapdims(1, -1)"),
          ("torch.movedim(x, 1, -1)", "x.moveaxis(-1, 1)"),
          ("rearrange(x, 'b c ... -> b ... c')", "rearrange(x, 'b ... c -> b c ...')")]


@st.composite
def _channels_last(draw, state: _State) -> list:
    """Channels moved last, a Linear or a LayerNorm over them, moved back (ConvNeXt's MLP)."""
    there, back = draw(st.sampled_from(_MOVES + [_PERMUTES[state.rank]]))
    given = state.channels
    if state.channels_known and _wild(draw, state):
        given = draw(st.sampled_from([given + 1, max(1, given - 1), 2 * given]))
    if draw(st.booleans()):
        out = draw(st.integers(2, MAX_CHANNELS))
        layer = _call("nn.Linear", [given, out], {})
        state.channels = out
    else:
        layer = _call("nn.LayerNorm", [given], {})
    state.moved = True
    return [Step(there, module=False), Step(layer), Step(back + ".contiguous()", module=False)]


# Token mixing over the flattened map t = x.flatten(2) of shape (N, C, L), back to x's shape
# by view_as: attention-like products written with @, matmul, bmm and einsum.
_MIXES = ["({t} @ {t}.transpose(1, 2)).softmax(-1) @ {t}",
          "torch.einsum('bcl,bdl->bcd', {t}, {t}).softmax(-1) @ {t}",
          "torch.bmm(torch.bmm({t}, {t}.mT).softmax(-1), {t})",
          "torch.einsum('bcd,bdl->bcl', torch.einsum('b c l, b d l -> b c d', {t}, {t}), {t})",
          "{t}.matmul({t}.transpose(-2, -1)).matmul({t})",
          "torch.einsum('...cl,...dl->...cd', {t}, {t}) @ {t}"]
_WRONG_MIXES = ["{t} @ {t}", "torch.bmm({t}, {t}) @ {t}"]


@st.composite
def _token_mix(draw, state: _State) -> Step:
    """Channels mixed over the tokens of the map; a wild one multiplies without the transpose
    (torch fails unless the map has as many positions as channels)."""
    mixes = _MIXES + (_WRONG_MIXES if _wild(draw, state) else [])
    mix = draw(st.sampled_from(mixes)).format(t="x.flatten(2)")
    return Step(f"({mix}).view_as(x)", module=False)


_RECURRENT_OUTPUTS = ["{layer}(x)[0]", "{layer}(x)[0][:, :, :]", "{layer}(x, None)[0]"]


@st.composite
def _sequence(draw, state: _State) -> list:
    """A 1-d map read as a sequence (N, L, C): a batch-first RNN, LSTM or GRU (its output, item
    0 of the tuple), sometimes self-attention after it, then channels first again."""
    wild = _wild(draw, state)
    features = state.channels
    if wild and state.channels_known:
        features = draw(st.sampled_from([features + 1, max(1, features - 1), 2 * features]))
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
    hidden, layers = draw(st.integers(1, MAX_CHANNELS)), draw(st.integers(1, 2))
    kwargs = {"num_layers": layers, "batch_first": True}
    if draw(st.booleans()):
        kwargs["bidirectional"] = True
    if kind == "LSTM" and hidden > 1 and draw(st.integers(0, 3)) == 0:
        kwargs["proj_size"] = draw(st.integers(1, hidden - 1))
    steps = [Step("x.transpose(1, 2)", module=False),
             Step(_call(f"nn.{kind}", [features, hidden], kwargs),
                  call=draw(st.sampled_from(_RECURRENT_OUTPUTS)))]
    state.channels = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("proj_size", hidden)
    if draw(st.booleans()):
        embed = state.channels
        if _wild(draw, state):
            embed = draw(st.sampled_from([embed + 1, 2 * embed]))
        heads = draw(st.sampled_from(_divisors(embed)))
        steps.append(Step(_call("nn.MultiheadAttention", [embed, heads], {"batch_first": True}),
                          call=draw(st.sampled_from(["{layer}(x, x, x)[0]",
                                                     "{layer}(x, x, x, need_weights=False)[0]"]))))
    state.moved = True
    return steps + [Step("x.transpose(1, 2)", module=False)]


_REDUCTIONS = ["amax", "mean", "logsumexp", "std", "amin"]


@st.composite
def _head(draw, state: _State) -> list:
    """Flatten (module, function, method or view), or a reduction over the spatial axes,
    sometimes a recurrent cell, and one or two Linear layers."""
    features = state.channels
    for n in state.spatial:
        features *= n
    # x.view of a permuted tensor (or of what a layer made of one) is a stride error of torch's
    ways = ["module", "function", "method"] + ([] if state.moved else ["view"])
    if state.channels_known:  # else the reduced features are unknown to conv-lint
        ways += ["reduce", "reduce"]
    how = draw(st.sampled_from(ways))
    if how == "reduce":
        axes = tuple(range(2, 2 + state.rank)) if draw(st.booleans()) else tuple(
            range(-state.rank, 0))
        name = draw(st.sampled_from(_REDUCTIONS))
        steps = [  # a method, with keepdim then flattened, einops's reduce or its layer
            [Step(f"x.{name}(dim={_text(axes)})", module=False)],
            [Step(f"x.{name}(dim={_text(axes)}, keepdim=True)", module=False),
             Step("x.flatten(1)", module=False)],
            [Step("reduce(x, 'b c ... -> b c', 'mean')", module=False)],
            [Step("Reduce('b c ... -> b c 1', 'max')"), Step("x.squeeze(-1)", module=False)],
        ][draw(st.integers(0, 3))]
        features = state.channels
    else:
        steps = [Step("nn.Flatten()") if how == "module" else
                 Step("torch.flatten(x, 1)", module=False) if how == "function" else
                 Step("x.flatten(1)", module=False) if how == "method" else
                 Step("x.view(x.size(0), -1)", module=False)]
    if draw(st.integers(0, 3)) == 0:  # a recurrent cell's step on the flat features
        given = features
        if _wild(draw, state):
            given = draw(st.sampled_from([features + 1, max(1, features - 1)]))
        kind, hidden = draw(st.sampled_from(["LSTMCell", "GRUCell", "RNNCell"])), \
            draw(st.integers(1, 16))
        steps.append(Step(_call(f"nn.{kind}", [given, hidden], {}),
                          call="{layer}(x)[0]" if kind == "LSTMCell" else "{layer}(x)"))
        features = hidden
    for _ in range(draw(st.integers(1, 2))):
        given = features
        if _wild(draw, state):
            given = draw(st.sampled_from([features + 1, max(1, features - 1), 2 * features,
                                          draw(st.integers(1, 512))]))
        out = draw(st.integers(1, 16))
        steps.append(Step(_call("nn.Linear", [given, out], {})))
        features = out
    state.flat = True
    return steps


_KINDS = {"conv": _conv, "conv_transpose": _conv_transpose, "pool": _pool,
          "adaptive": _adaptive, "upsample": _upsample}
_WEIGHTS = ["conv"] * 5 + ["pool"] * 3 + ["conv_transpose"] * 2 + ["adaptive"] \
    + ["upsample"] * 2


@st.composite
def cases(draw, directive=None) -> Case:
    """A random model file; ``directive``: True (concrete), False (symbolic), None (either)."""
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    low = {1: 8, 2: 6, 3: 4}[rank]
    shape = (draw(st.integers(1, 4)),) + tuple(
        draw(st.integers(low, MAX_SIZE[rank])) for _ in range(rank))
    style = draw(st.sampled_from(["sequential", "layers"]))
    if directive is None:
        directive = draw(st.booleans())
    state = _State(shape[0], list(shape[1:]), loose=draw(st.integers(0, 4)) == 0,
                   channels_known=directive)
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        kinds = list(_WEIGHTS)
        if max(state.spatial) > MAX_SIZE[rank] // 2:  # no more growth past half the limit
            kinds = [k for k in kinds if k not in ("conv_transpose", "upsample")]
        kind = draw(st.sampled_from(kinds))
        if kind == "upsample" and style == "sequential" and not steps:
            kind = "conv"  # keep the Sequential non-empty
        steps.append(draw(_KINDS[kind](state)))
        if not state.loose and min(state.spatial) < 1:
            break  # the stack has collapsed: torch fails here
        # not around axes of size 1: their strides after a permute crash torch's conv kernels
        if min(state.spatial) >= 2 and state.channels >= 2 and draw(st.integers(0, 5)) == 0:
            steps += draw(_channels_last(state))
        if min(state.spatial) >= 1 and draw(st.integers(0, 6)) == 0:
            steps.append(draw(_token_mix(state)))
        if rank == 1 and min(state.spatial) >= 1 and draw(st.integers(0, 4)) == 0:
            steps += draw(_sequence(state))
    if draw(st.integers(0, 2)) == 0 and max(state.spatial) >= 1:
        steps += draw(_head(state))
    return Case(shape, tuple(steps), style, directive)
