"""CNV203 excessive-early-stride and CNV204 stride-over-kernel, with torch as the oracle.

"Never read" is autograd's word: an input row whose gradient is zero for every output. Every
"x of every s rows" a warning states is what torch leaves unread in each period of the stride,
every "downsampled Nx" is the ratio of torch's own map sizes, and the classic stems people copy
stay quiet.
"""

from __future__ import annotations

import random
import re

import oracle
import pytest
import torch
import torch.nn as nn

from conv_lint.engine import analyse
from conv_lint.rules import RULES
from conv_lint.rules.base import Options
from conv_lint.rules.geometry import Window, stride_skip

CNV204_MESSAGE = re.compile(
    r"^(?P<layer>\S+): stride (?P<stride>\d+) is larger than kernel (?P<kernel>\d+)"
    r"(?: dilated by (?P<dilation>\d+))?, so (?P<skipped>\d+) of every (?P=stride) input "
    r"rows/columns are never read$")
SKIP_DETAIL = re.compile(
    r"^stride (?P<stride>\d+) is larger than kernel (?P<kernel>\d+) in the first layers: "
    r"(?P<skipped>\d+) of every (?P=stride) input rows/columns are never read$")
LIMIT_DETAIL = re.compile(
    r"^stride (?P<stride>\d+) in the first (?P<layers>\d+) weight layers is above "
    r"max-early-stride=(?P<limit>\d+)$")
TOTAL_DETAIL = re.compile(
    r"^the input is downsampled (?P<factor>\d+)x (?:by its \w+ weight layer|after only \d+ "
    r"weight layers?|before its first weight layer)(?:, (?P<counted>\d+)x after the patch "
    r"embedding)?, above max-early-downsampling=(?P<limit>\d+)$")


def findings(source: str, code: str, **options) -> list:
    analysis = analyse(source, "model.py", options=Options(**options))
    assert analysis.error is None, analysis.error
    return [f for f in analysis.findings if f.code == code]


def build(source: str, cls: str = "Net") -> nn.Module:
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    return namespace[cls]()


def unread_per_period(layer, n: int, stride: int, padding: int, dim: int = 2,
                      shape: tuple = (1, 1)) -> set:
    """How many rows torch leaves unread in each full stride period between the first and
    the last window (the set of counts: one value when the pattern is regular)."""
    spatial = 2 if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) else 1
    full = shape + (n,) * spatial
    read = oracle.read_rows(layer, full, dim)
    windows = (n + 2 * padding) // stride  # enough for the interior
    counts = set()
    for o in range(1, windows - 2):
        start = o * stride - padding
        if start + stride <= n:
            counts.add(sum(1 for row in range(start, start + stride) if row not in read))
    return counts


def _lines(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


# ---- the window arithmetic: stride - kernel rows of each period are never read


@pytest.mark.parametrize("seed", range(4))
def test_stride_skip_is_the_rows_torch_never_reads(seed):
    rng = random.Random(seed)
    checked = 0
    while checked < 25:
        k, d = rng.randint(1, 4), rng.randint(1, 3)
        span = d * (k - 1) + 1
        s = rng.randint(span + 1, span + 4)
        kind = rng.choice(("conv", "max", "avg"))
        p = rng.randint(0, k // 2)
        if kind == "conv":
            layer = nn.Conv1d(1, 1, k, s, p, d)
        elif kind == "max":
            layer = nn.MaxPool1d(k, s, p, d)
        else:
            layer, d = nn.AvgPool1d(k, s, p), 1
            if span != k:
                continue
        window = Window(1, (k,), (s,), (d,), ((p, p),), False, "zeros", kind != "conv")
        assert unread_per_period(layer, 8 * s + 3, s, p) == {stride_skip(window, 0)}, layer
        checked += 1


# ---- CNV204 on one layer deep in a network


TEMPLATE = '''import torch.nn as nn


# conv-lint: input-shape=3,{n},{n}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.layer = {layer}
        self.conv3 = nn.Conv2d(4, 4, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv3(self.layer(self.conv2(self.conv1(x))))
'''


def _cnv204_cases():
    rng = random.Random(204)
    cases = []
    for _ in range(40):
        k, d, s = rng.randint(1, 4), rng.choice((1, 1, 2)), rng.randint(1, 6)
        p = rng.randint(0, k // 2)
        cases.append(rng.choice((
            f"nn.Conv2d(4, 4, {k}, stride={s}, padding={p}, dilation={d}, bias=False)",
            f"nn.MaxPool2d({k}, stride={s}, padding={p}, dilation={d})",
            f"nn.AvgPool2d({k}, stride={s}, padding={p})",
        )))
    return cases


@pytest.mark.parametrize("layer", _cnv204_cases())
def test_stride_over_kernel_warns_exactly_when_torch_skips_rows(layer):
    source = TEMPLATE.format(n=48, layer=layer)
    model = build(source)
    module = model.layer
    k, s, p = (v[0] if isinstance(v, tuple) else v
               for v in (module.kernel_size, module.stride, module.padding))
    unread = unread_per_period(module, 48, s, p, shape=(1, 4) if isinstance(module, nn.Conv2d)
                               else (1, 1))
    found = findings(source, "CNV204")
    dilation = getattr(module, "dilation", 1)
    dilation = dilation[0] if isinstance(dilation, tuple) else dilation
    if unread == {0} or s <= dilation * (k - 1) + 1:
        # rows between the taps of a dilated kernel whose windows overlap are not this rule's
        assert not found, found[0].message
        return
    assert [f.line for f in found] == [10]
    match = CNV204_MESSAGE.match(found[0].message)
    assert match, found[0].message
    assert unread == {int(match["skipped"])}
    assert int(match["stride"]) == s and int(match["kernel"]) == k
    assert int(match["dilation"] or 1) == dilation


def test_a_stride_over_one_axis_only():
    """A (1, 3) kernel with stride (2, 1): rows skipped, columns all read."""
    layer = "nn.Conv2d(4, 4, (1, 3), stride=(2, 1), padding=(0, 1), bias=False)"
    source = TEMPLATE.format(n=32, layer=layer)
    module = build(source).layer
    assert unread_per_period(module, 32, 2, 0, dim=2, shape=(1, 4)) == {1}
    assert unread_per_period(module, 32, 1, 1, dim=3, shape=(1, 4)) == {0}
    (found,) = findings(source, "CNV204")
    assert found.message == "layer: stride 2 is larger than kernel 1, so 1 of every 2 input " \
                            "rows/columns are never read"


def test_projection_shortcut_is_quiet_but_a_strided_1x1_on_the_main_path_is_not():
    rule = next(rule for rule in RULES if rule.code == "CNV204")
    shortcut = rule.VALID[0]  # ResNet's BasicBlock with a 1x1 stride-2 downsample
    main_path = rule.INVALID[0]  # a bottleneck whose conv1 is 1x1 stride 2
    assert not findings(shortcut, "CNV204")
    # torch: both 1x1 stride-2 convs read 1 of every 2 rows; only where that happens is a choice
    block = build(shortcut, "BasicBlock")
    assert unread_per_period(block.downsample[0], 32, 2, 0, shape=(1, 64)) == {1}
    found = findings(main_path, "CNV204")
    assert [f.line for f in found] == [_lines(main_path, "self.conv1 = nn.Conv2d(channels")]


# ---- CNV203: the issue's examples and the stems people copy


EXAMPLE = '''import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding={p1})
        self.conv2 = nn.Conv2d(16, 32, 3, stride={s2}, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
'''


@pytest.mark.parametrize("options", [{}, {"max_early_stride": 1}], ids=["default", "strict"])
def test_the_issue_examples(options):
    a, b, c = (EXAMPLE.format(p1=p1, s2=s2) for p1, s2 in ((0, 1), (1, 2), (1, 1)))
    assert not findings(a, "CNV203", **options)
    assert not findings(c, "CNV203", **options)
    warned = findings(b, "CNV203", **options)
    if not options:
        assert not warned
        return
    assert [f.line for f in warned] == [9]
    assert warned[0].message == "conv2: stride 2 in the first 2 weight layers is above " \
                                "max-early-stride=1"
    with torch.no_grad():  # what the strict setting is about: 28x28 halved after one layer
        assert build(b)(torch.zeros(1, 1, 28, 28)).shape[-2:] == (14, 14)


def test_the_strict_setting_is_documented_with_example_b():
    doc = next(type(rule).__doc__ for rule in RULES if rule.code == "CNV203")
    assert "--conv-max-early-stride=1" in doc and "1x28x28" in doc
    assert "Conv2d(16, 32, 3, stride=2, padding=1)" in doc


def test_a_3x3_stride_4_first_layer_is_an_early_stride_not_cnv204():
    source = EXAMPLE.format(p1=1, s2=1).replace("3, stride=1, padding=1)", "3, stride=4, "
                                                "padding=1)", 1)
    (found,) = findings(source, "CNV203")
    assert found.line == 8 and not findings(source, "CNV204")
    match = SKIP_DETAIL.match(found.message.split(": ", 1)[1])
    assert match and (match["stride"], match["kernel"], match["skipped"]) == ("4", "3", "1")
    # torch: the first layer never reads 1 of every 4 rows of the image
    assert unread_per_period(build(source).conv1, 28, 4, 1, shape=(1, 1)) == {1}


CLASSICS = [root.cls for root in oracle.find_root_classes(
    oracle.FIXTURES_DIR / "warn_early_stride.py")]


def test_classic_stems_are_quiet():
    source = (oracle.FIXTURES_DIR / "warn_early_stride.py").read_text()
    warned = {f.line for f in analyse(source).findings if f.code == "CNV203"}
    quiet = {"ResNetStem", "AlexNet", "MobileNetV2Stem", "ViTPatchEmbed", "ConvNeXtStem"}
    assert quiet <= set(CLASSICS)
    lines = source.splitlines()
    for line in warned:  # every warning sits in one of the two smelly classes
        owner = next(text for text in reversed(lines[:line]) if text.startswith("class "))
        assert owner.split()[1].split("(")[0] in {"TinyCifarNet", "AggressiveStem"}


TOKENS = '''import torch.nn as nn


# conv-lint: input-shape=3,224,224
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Conv2d(3, 64, kernel_size=16, stride=8)
        self.mix = nn.Linear(64, 64)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        return self.mix(x)
'''


def test_an_overlapping_patch_embedding_feeding_a_transformer_is_quiet():
    """PiT's 16x16 stride-8 tokenizer; the same conv followed by a conv is an early stride."""
    assert not findings(TOKENS, "CNV203")
    flattened = TOKENS.replace("self.embed(x).flatten(2)", "torch.flatten(self.embed(x), 2)")
    assert not findings("import torch\n" + flattened, "CNV203")
    conv_after = TOKENS.replace("nn.Linear(64, 64)", "nn.Conv2d(64, 64, 3, padding=1)").replace(
        "x = self.embed(x).flatten(2).transpose(1, 2)", "x = self.embed(x)")
    (found,) = findings(conv_after, "CNV203")
    assert found.line == 8 and LIMIT_DETAIL.match(found.message.split(": ", 1)[1])


def test_one_dimensional_models_are_left_to_cnv204():
    source = '''import torch.nn as nn


# conv-lint: input-shape=1,16000
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 32, 80, stride=16)
        self.pool = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(32, 32, 3, stride=4)

    def forward(self, x):
        return self.conv2(self.pool(self.conv1(x)))
'''
    assert not findings(source, "CNV203")  # M5-like: stride 16 and 64x before conv2 in 1D
    assert [f.line for f in findings(source, "CNV204")] == [10]


# ---- CNV203 on random stems: every claim is torch's


def _random_stem(rng: random.Random) -> list:
    layers = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("conv", "conv", "pool", "pool", "patch"))
        if kind == "conv":
            k, s = rng.choice((1, 3, 5, 7, 11)), rng.choice((1, 2, 2, 4, 8))
            layers.append(f"nn.Conv2d(4, 4, {k}, stride={s}, padding={k // 2}, bias=False)")
        elif kind == "pool":
            k, s, p = rng.choice(((2, 2, 0), (3, 2, 1), (5, 4, 2), (2, 4, 0)))
            layers.append(f"nn.MaxPool2d({k}, stride={s}, padding={p})")
        else:
            k = rng.choice((2, 4, 8))
            layers.append(f"nn.Conv2d(4, 4, {k}, stride={k}, bias=False)")
    layers.append("nn.Conv2d(4, 4, 3, padding=1, bias=False)")
    return layers


STEM = '''import torch.nn as nn


# conv-lint: input-shape=4,256,256
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
{layers}
        )

    def forward(self, x):
        return self.stem(x)
'''


def _stems():
    """Random stems torch runs on 256x256."""
    rng = random.Random(203)
    stems = []
    while len(stems) < 100:
        layers = _random_stem(rng)
        source = STEM.format(layers="\n".join(f"            {layer}," for layer in layers))
        try:
            with torch.no_grad():
                build(source)(torch.zeros(1, 4, 256, 256))
        except RuntimeError:
            continue
        stems.append(layers)
    return stems


@pytest.mark.parametrize("layers", _stems(), ids=lambda layers: " ".join(
    re.sub(r"nn\.|bias=False|padding=", "", layer).replace(" ", "") for layer in layers))
def test_early_stride_claims_are_torchs(layers):
    source = STEM.format(layers="\n".join(f"            {layer}," for layer in layers))
    model = build(source)
    sizes = []  # (input, output) side of each stem layer, in order
    handles = [m.register_forward_hook(lambda m, args, out: sizes.append(
        (args[0].shape[-1], out.shape[-1]))) for m in model.stem]
    with torch.no_grad():
        model(torch.zeros(1, 4, 256, 256))
    for handle in handles:
        handle.remove()
    first_line = 9
    warned = {f.line - first_line: f.message.split(": ", 1)[1]
              for f in findings(source, "CNV203")}
    convs = [i for i, layer in enumerate(layers) if "Conv2d" in layer]
    second = convs[1] if len(convs) > 1 else len(layers)
    assert all(index <= second for index in warned), "only early layers are judged"
    for index, detail in warned.items():
        module = model.stem[index]
        k, s = (v[0] if isinstance(v, tuple) else v for v in (module.kernel_size, module.stride))
        skip, limit, total = (pattern.match(detail) for pattern in
                              (SKIP_DETAIL, LIMIT_DETAIL, TOTAL_DETAIL))
        assert skip or limit or total, detail
        if skip:
            p = module.padding[0] if isinstance(module.padding, tuple) else module.padding
            assert unread_per_period(module, 64, s, p, shape=(1, 4)) == {int(skip["skipped"])}
        if limit:
            assert int(limit["stride"]) == s > int(limit["limit"]) and k != s
        if total:
            assert 256 // sizes[index][1] == int(total["factor"])
            counted = int(total["counted"] or total["factor"])
            assert counted > int(total["limit"]) and index < second
            if total["counted"]:  # the patch embeddings before it account for the rest
                embeddings = [model.stem[i].stride[0] for i in range(index) if
                              _patchify(model.stem[i])]
                assert embeddings and counted * _product(embeddings) == int(total["factor"])
    # what must be warned: a stride over its kernel, and more than 8x before the 2nd conv
    # when no patch embedding (not counted) came first
    for index in range(min(second + 1, len(layers))):
        module = model.stem[index]
        k, s = (v[0] if isinstance(v, tuple) else v for v in (module.kernel_size, module.stride))
        if s > k:
            assert index in warned
    patches = any(i < second and "stride=" in layers[i] and _patchify(model.stem[i])
                  for i in range(second))
    if second < len(layers) and 256 // sizes[second][0] > 8 and not patches:
        assert warned, "more than 8x before the second conv, unwarned"


def _product(values) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def _patchify(module) -> bool:
    k, s = (v[0] if isinstance(v, tuple) else v for v in (module.kernel_size, module.stride))
    return isinstance(module, nn.Conv2d) and k == s > 1


# ---- one design warning per layer


def test_no_layer_gets_both_an_early_stride_and_a_stride_over_kernel():
    sources = [path.read_text() for path in oracle.fixture_paths()]
    sources += [source for rule in RULES for source in rule.VALID + rule.INVALID]
    sources += [STEM.format(layers="\n".join(f"            {layer}," for layer in layers))
                for layers in _stems()]
    for source in sources:
        lines: dict = {}
        for finding in analyse(source).findings:
            if finding.code.startswith("CNV2"):
                lines.setdefault(finding.line, set()).add(finding.code)
        assert all(len(codes) == 1 for codes in lines.values()), lines
