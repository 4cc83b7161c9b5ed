"""CNV205 floor-drops-input, with torch as the oracle.

A row is *dropped* by a layer when no window reads it at this input size but a window would at a
larger one: torch says which rows are read (autograd, or for max pools a probe per row). Every
count a warning quotes is torch's, every input size it proposes is read whole in torch and is the
nearest such size, and a layer torch shows dropping rows is never left unwarned.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import oracle
import pytest
import torch
import torch.nn as nn

from conv_lint.engine import analyse
from conv_lint.rules.geometry import Window

MESSAGE = re.compile(
    r"^(?P<layer>\S+): the last (?P<count>\d+) (?P<what>.+) of its (?P<size>[\dx]+) input are "
    r"never read; an input of (?P<fix>[\dx]+)(?: \(model input (?P<model>[\dx]+)\))? would be "
    r"read whole$")
WINDOWED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
            nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.LPPool1d, nn.LPPool2d)
PADS = (nn.modules.padding._ReflectionPadNd, nn.modules.padding._ReplicationPadNd,
        nn.modules.padding._ConstantPadNd, nn.modules.padding._CircularPadNd)
FIXTURES = [oracle.FIXTURES_DIR / name for name in (
    "warn_floor_drop.py", "warn_early_stride.py", "warn_stride_over_kernel.py",
    "warn_bias_before_norm.py")]


# ---- what torch reads


def torch_dropped(layer, shape: tuple, dim: int) -> int:
    """Rows at this size no window reads, that a longer input would have read."""
    longer = list(shape)
    longer[dim] += 64
    return len(oracle.read_rows(layer, tuple(longer), dim) - oracle.read_rows(layer, shape, dim)
               - set(range(shape[dim], longer[dim])))


def fits(layer, shape: tuple) -> bool:
    try:
        with torch.no_grad():
            layer(torch.zeros(shape))
    except RuntimeError:
        return False
    return True


def judged_axis(layer, axis: int) -> bool:
    """CNV205 judges the axes without dilation whose stride is at most the kernel."""
    def at(value):
        return value[axis] if isinstance(value, tuple) else value
    kernel, stride = at(layer.kernel_size), at(layer.stride or layer.kernel_size)
    dilation = at(getattr(layer, "dilation", 1))
    return dilation == 1 and stride <= kernel


# ---- the window arithmetic itself, on single layers


def _random_layer(rng: random.Random):
    k, s, d, p = rng.randint(1, 7), rng.randint(1, 6), rng.randint(1, 3), rng.randint(0, 4)
    kind = rng.choice(["conv", "max", "avg", "lp"])
    ceil = kind != "conv" and rng.random() < 0.5
    if kind == "conv":
        return nn.Conv1d(1, 1, k, s, p, d), Window(1, (k,), (s,), (d,), ((p, p),), False,
                                                   "zeros", False)
    p = min(p, k // 2) if kind != "lp" else 0
    d = d if kind == "max" else 1
    if kind == "max":
        layer = nn.MaxPool1d(k, s, p, d, ceil_mode=ceil)
    elif kind == "avg":
        layer = nn.AvgPool1d(k, s, p, ceil_mode=ceil)
    else:
        layer = nn.LPPool1d(2, k, s, ceil_mode=ceil)
    return layer, Window(1, (k,), (s,), (d,), ((p, p),), ceil, "zeros", True)


@pytest.mark.parametrize("seed", range(8))
def test_window_outputs_and_dropped_rows_are_torchs(seed):
    rng = random.Random(seed)
    checked = 0
    while checked < 60:
        layer, window = _random_layer(rng)
        n = rng.randint(1, 40)
        if not fits(layer, (1, 1, n)):
            continue
        checked += 1
        with torch.no_grad():
            assert window.outputs(n, 0) == layer(torch.zeros(1, 1, n)).shape[-1], (layer, n)
        assert window.dropped(n, 0) == torch_dropped(layer, (1, 1, n), 2), (layer, n)


# ---- the rule on one layer after a stem


TEMPLATE = '''import torch.nn as nn


# conv-lint: input-shape=3,{h},{w}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, stride={stem_stride}, padding=1)
        self.layer = {layer}

    def forward(self, x):
        return self.layer(self.stem(x))
'''
LAYER_LINE = 9


def _random_case(rng: random.Random) -> dict:
    k, s = rng.randint(1, 6), rng.choice((1, 2, 2, 3, 3, 4))
    p, d, ceil = rng.randint(0, k // 2), rng.choice((1, 1, 1, 2)), rng.random() < 0.3
    layer = rng.choice((
        f"nn.Conv2d(4, 4, {k}, stride={s}, padding={p}, dilation={d})",
        f"nn.MaxPool2d({k}, stride={s}, padding={p}, dilation={d}, ceil_mode={ceil})",
        f"nn.AvgPool2d({k}, stride={s}, padding={p}, ceil_mode={ceil})",
    ))
    return {"h": rng.randint(6, 40), "w": rng.randint(6, 40), "layer": layer,
            "stem_stride": rng.choice((1, 2))}


def _build(case: dict) -> nn.Module:
    namespace: dict = {}
    exec(compile(TEMPLATE.format(**case), "model.py", "exec"), namespace)
    return namespace["Net"]()


def _layer_input(model: nn.Module, hw: tuple) -> tuple:
    seen = []
    handle = model.layer.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape))
    with torch.no_grad():
        model(torch.zeros(1, 3, *hw))
    handle.remove()
    return tuple(seen[0])


def _dims(text: str) -> tuple:
    return tuple(int(v) for v in text.split("x"))


def _counts(what: str, first: int) -> dict:
    """{axis: count} from "row and column", "rows", "row and 2 columns", ..."""
    nouns = {"row": 0, "rows": 0, "column": 1, "columns": 1}
    both = re.fullmatch(r"(rows?) and (?:(\d+) )?(columns?)", what)
    if both:
        second = int(both.group(2)) if both.group(2) else first
        assert (both.group(1) == "row") == (first == 1), what
        assert (both.group(3) == "column") == (second == 1), what
        return {0: first, 1: second}
    assert what in nouns and (what in ("row", "column")) == (first == 1), what
    return {nouns[what]: first}


def _reads_whole(layer, shape: tuple, axis: int) -> bool:
    return fits(layer, shape) and torch_dropped(layer, shape, 2 + axis) == 0


def _cases():
    rng = random.Random(205)
    cases = []
    while len(cases) < 160:
        case = _random_case(rng)
        model = _build(case)
        if fits(model, (1, 3, case["h"], case["w"])):
            cases.append(case)
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda case: f"{case['layer']}@{case['h']}x"
                                                            f"{case['w']}/{case['stem_stride']}")
def test_warning_says_what_torch_drops_and_a_size_that_fixes_it(case):
    source = TEMPLATE.format(**case)
    found = [f for f in analyse(source, "model.py").findings if f.code == "CNV205"]
    model = _build(case)
    layer_in = _layer_input(model, (case["h"], case["w"]))
    dropped = {axis: torch_dropped(model.layer, layer_in, 2 + axis) for axis in (0, 1)
               if judged_axis(model.layer, axis)}
    dropped = {axis: count for axis, count in dropped.items() if count}
    if not dropped:
        assert not found, f"torch reads every row, yet: {found[0].message}"
        return
    assert [f.line for f in found] == [LAYER_LINE], f"torch drops {dropped}, no warning"
    match = MESSAGE.match(found[0].message)
    assert match, found[0].message
    assert _counts(match["what"], int(match["count"])) == dropped
    assert _dims(match["size"]) == layer_in[2:]

    fix = _dims(match["fix"])
    for axis in (0, 1):
        n = layer_in[2 + axis]
        if axis not in dropped:
            assert fix[axis] == n
            continue
        shape = list(layer_in)
        shape[2 + axis] = fix[axis]
        assert _reads_whole(model.layer, tuple(shape), axis), f"{fix} still drops"
        if match["model"] is None:  # the nearest size (the larger on a tie) is the one given
            distance = abs(fix[axis] - n)
            for other in range(max(1, n - distance), n + distance + 1):
                if other == fix[axis] or (abs(other - n) == distance and other < fix[axis]):
                    continue
                shape[2 + axis] = other
                assert not _reads_whole(model.layer, tuple(shape), axis), (
                    f"{other} is read whole and nearer to {n} than {fix[axis]}")
    if match["model"] is not None:
        model_in = _dims(match["model"])
        assert _layer_input(model, model_in)[2:] == fix, "the model input does not lead there"
        stem_in = (1, 3) + model_in
        for axis in dropped:
            assert torch_dropped(model.stem, stem_in, 2 + axis) == 0
            assert torch_dropped(model.layer, (1, 4) + fix, 2 + axis) == 0
    else:
        assert case["stem_stride"] == 1 or fix == layer_in[2:], "a strided stem: say the model"


# ---- whole models: every dropping layer warned, none else


def _layer_lines(path: Path) -> dict:
    """id(module) -> the fixture line that constructs it, for every windowed layer built."""
    target = str(path.resolve())
    lines: dict = {}
    originals = {cls: cls.__init__ for cls in WINDOWED}

    def recording(cls):
        def init(self, *args, **kwargs):
            originals[cls](self, *args, **kwargs)
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename != target:
                frame = frame.f_back
            lines.setdefault(id(self), frame.f_lineno if frame is not None else None)
        return init

    for cls in WINDOWED:
        cls.__init__ = recording(cls)
    return lines, originals


def _torch_drops(path: Path, root) -> dict:
    """{line: rows dropped} of the windowed layers torch runs in ``root`` (pad-fed ones left
    out: their padding rows are not data, a case tested on its own below)."""
    module = oracle.load_fixture(path)
    lines, originals = _layer_lines(path)
    try:
        model = oracle.build(module, root.cls)
    finally:
        for cls, init in originals.items():
            cls.__init__ = init
    inputs, padded = [], set()
    handles = [layer.register_forward_pre_hook(
        lambda m, args: inputs.append((m, tuple(args[0].shape), id(args[0]))))
        for layer in model.modules() if isinstance(layer, WINDOWED)]
    handles += [layer.register_forward_hook(lambda m, args, out: padded.add(id(out)))
                for layer in model.modules() if isinstance(layer, PADS)]
    with torch.no_grad():
        model(oracle.zeros_for(root.shape))
    for handle in handles:
        handle.remove()
    drops: dict = {}
    for layer, shape, tensor in inputs:
        if tensor in padded:
            continue
        total = sum(torch_dropped(layer, (1,) + shape[1:], 2 + axis)
                    for axis in range(len(shape) - 2) if judged_axis(layer, axis))
        line = lines[id(layer)]
        drops[line] = max(drops.get(line, 0), total)
    return drops


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_warned_lines_are_the_layers_torch_shows_dropping_rows(path):
    warned = {f.line for f in analyse(path.read_text(), str(path)).findings
              if f.code == "CNV205"}
    dropping = set()
    for root in oracle.find_root_classes(path):
        dropping |= {line for line, count in _torch_drops(path, root).items() if count}
    flagged_otherwise = {f.line for f in analyse(path.read_text(), str(path)).findings
                         if f.code in ("CNV203", "CNV204")}
    assert warned == dropping - flagged_otherwise


def test_a_reflection_pad_before_a_strided_conv_loses_no_row():
    """warn_floor_drop.ReflectionDown: the conv leaves out its last (padded) row; every row of
    the real input still reaches the output."""
    layer = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(1, 1, 3, stride=2))
    assert torch_dropped(layer[1], (1, 1, 66, 66), 2) == 1  # a padded row is left out
    assert len(oracle.read_rows(layer, (1, 1, 64, 64), 2)) == 64  # yet every real row is read
    source = (oracle.FIXTURES_DIR / "warn_floor_drop.py").read_text()
    line = next(n for n, text in enumerate(source.splitlines(), 1)
                if "nn.Conv2d(3, 16, kernel_size=3, stride=2)" in text)
    assert line not in {f.line for f in analyse(source).findings}


def test_padding_only_remainder_and_ceil_mode_stay_quiet():
    """3x3 stride 2 padding 1 on 32 reads every row; so does a ceil_mode pool on an odd map."""
    for layer, n in ((nn.Conv2d(1, 1, 3, stride=2, padding=1), 32),
                     (nn.MaxPool2d(2, ceil_mode=True), 33),
                     (nn.MaxPool2d(3, 2, ceil_mode=True), 112)):
        assert torch_dropped(layer, (1, 1, n, n), 2) == 0
        source = TEMPLATE.format(h=n, w=n, stem_stride=1, layer=repr_layer(layer))
        assert not [f for f in analyse(source).findings if f.code == "CNV205"]


def repr_layer(layer) -> str:
    if isinstance(layer, nn.Conv2d):
        return (f"nn.Conv2d(4, 4, {layer.kernel_size[0]}, stride={layer.stride[0]}, "
                f"padding={layer.padding[0]})")
    return f"nn.MaxPool2d({layer.kernel_size}, {layer.stride}, ceil_mode={layer.ceil_mode})"


def test_without_an_input_size_nothing_is_claimed():
    source = TEMPLATE.format(h=33, w=33, stem_stride=1, layer="nn.MaxPool2d(2)")
    assert [f.code for f in analyse(source).findings] == ["CNV205"]
    free = source.replace("# conv-lint: input-shape=3,33,33\n", "")
    assert not analyse(free).findings
