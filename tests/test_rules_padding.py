"""CNV201 padding-changes-size and CNV202 even-kernel-padding, with torch as the oracle.

Every size a warning quotes is the size torch's layer takes and returns, every padding it
proposes keeps the size in torch, every growth it states is torch's; the rules fire exactly on
the layers torch shows changing the map in the way each rule is about, and the padding policy
does what its documentation says.
"""

from __future__ import annotations

import ast
import math
import re
import sys
from pathlib import Path

import oracle
import pytest
import torch

from conv_lint.engine import analyse
from conv_lint.rules import RULES
from conv_lint.rules.base import Options

CODES = ("CNV201", "CNV202")
MESSAGES = {
    "CNV201": re.compile(
        r"^(?P<layer>\S+): padding=(?P<padding>.+) changes the map size \((?P<before>.+) -> "
        r"(?P<after>.+)\) while (?P<peers>.+) keep it; padding=(?P<fix>.+) keeps it$"),
    "CNV202": re.compile(
        r"^(?P<layer>\S+): kernel (?P<kernel>.+) with padding (?P<padding>.+) grows the map by "
        r"(?P<growth>.+) \((?P<before>.+) -> (?P<after>.+)\); an even kernel cannot keep the "
        r"size with symmetric padding$"),
}
FIXTURES = [path for path in oracle.fixture_paths()
            if path.name.startswith(("warn_padding_", "warn_even_"))]
EXAMPLES = [source for rule in RULES if rule.code in CODES
            for source in rule.VALID + rule.INVALID]
_DIRECTIVE = re.compile(r"#\s*conv-lint:\s*input-shape\s*=.*$", re.MULTILINE)
_SPATIAL = {1: "L", 2: "HW", 3: "DHW"}


# ---- what torch does with a model file


class Conv:
    """A conv torch built, where the file constructs it, and its first call's shapes."""

    def __init__(self, name: str, module: torch.nn.Module, line: int) -> None:
        self.name, self.module, self.line = name, module, line
        self.input = self.output = None


def torch_convs(path: Path, root: oracle.Root) -> list:
    """The Convs of ``root`` built and run on zeros of its input shape."""
    module = oracle.load_fixture(path)
    target = str(path.resolve())
    original = torch.nn.modules.conv._ConvNd.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != target:
            frame = frame.f_back
        self.lint_line = frame.f_lineno if frame is not None else None

    torch.nn.modules.conv._ConvNd.__init__ = init
    try:
        model = oracle.build(module, root.cls)
    finally:
        torch.nn.modules.conv._ConvNd.__init__ = original
    convs = {}
    for name, layer in model.named_modules():
        if isinstance(layer, torch.nn.modules.conv._ConvNd):
            convs[layer] = Conv(name, layer, layer.lint_line)

    def record(layer, args, output):
        conv = convs[layer]
        if conv.input is None:
            conv.input, conv.output = tuple(args[0].shape), tuple(output.shape)

    handles = [layer.register_forward_hook(record) for layer in convs]
    try:
        with torch.no_grad():
            model(oracle.zeros_for(root.shape))
    finally:
        for handle in handles:
            handle.remove()
    return list(convs.values())


def size_values(text: str, model_input: tuple, layer_input: tuple) -> tuple:
    """A quoted map size evaluated: upper-case symbols are the model's input sizes, lower-case
    ones the layer's own input sizes."""
    rank = len(layer_input)
    names = {**dict(zip(_SPATIAL[rank], model_input[-rank:])),
             **dict(zip(_SPATIAL[rank].lower(), layer_input))}
    return tuple(eval(part, {"__builtins__": {}, "floor": math.floor}, names)  # noqa: S307
                 for part in text.split("x"))


def rebuilt(conv: torch.nn.Module, padding) -> torch.nn.Module:
    """The same conv with another padding (``padding`` as the message writes it)."""
    return type(conv)(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                      padding=padding, dilation=conv.dilation, groups=conv.groups,
                      padding_mode=conv.padding_mode)


def spatial_size(conv: torch.nn.Module, input_shape: tuple) -> tuple:
    with torch.no_grad():
        return tuple(conv(torch.zeros(input_shape)).shape[2:])


def check_claim(code: str, message: str, conv: Conv, model_input: tuple) -> None:
    """One warning's claims, each measured in torch."""
    match = MESSAGES[code].match(message)
    assert match, f"{code} message does not fill its template: {message}"
    fields = match.groupdict()
    layer = conv.module
    rank = len(layer.kernel_size)
    before, after = conv.input[2:], conv.output[2:]
    assert fields["layer"] == conv.name, message
    assert all(s == 1 for s in layer.stride), f"{message}: torch's stride is {layer.stride}"
    assert size_values(fields["before"], model_input, before) == before, (
        f"{message}: torch's input is {before}")
    assert size_values(fields["after"], model_input, before) == after, (
        f"{message}: torch's output is {after}")
    padding = ast.literal_eval(fields["padding"])
    assert (padding,) * rank == layer.padding or padding == layer.padding, message
    if code == "CNV201":
        fix = ast.literal_eval(fields["fix"])
        assert isinstance(fix, (int, tuple)), f"{message}: the fix is not a symmetric padding"
        kept = spatial_size(rebuilt(layer, fix), conv.input)
        assert kept == before, f"{message}: padding={fix} gives {kept} in torch, not {before}"
    else:
        growth = ast.literal_eval(fields["growth"])
        grown = tuple(a - b for a, b in zip(after, before))
        if isinstance(growth, int):
            assert growth > 0 and set(grown) - {0} == {growth}, f"{message}: torch grows {grown}"
        else:
            assert growth == grown, f"{message}: torch grows {grown}"
        even = [d * (k - 1) % 2 == 1 for k, d in zip(layer.kernel_size, layer.dilation)]
        assert any(g > 0 and e for g, e in zip(grown, even)), (
            f"{message}: no axis with an even effective kernel grows")


def warnings(source: str, options: Options = Options()) -> list:
    analysis = analyse(source, "model.py", options=options)
    assert analysis.error is None, analysis.error
    return [f for f in analysis.findings if f.code in CODES]


def check_file(path: Path, source: str, options: Options = Options()) -> set:
    """Analyse ``source`` (a version of the model file at ``path``), check every CNV201/CNV202
    claim in torch, and return the (line, code) pairs reported."""
    found = warnings(source, options)
    roots = oracle.find_root_classes(path)
    convs = [(torch_convs(path, root), root) for root in roots] if found else []
    for finding in found:
        match = MESSAGES[finding.code].match(finding.message)
        assert match, f"{finding.code} message does not fill its template: {finding.message}"
        owners = [(conv, root) for built, root in convs for conv in built
                  if (conv.line, conv.name) == (finding.line, match.group("layer"))]
        assert owners, f"{path.name}:{finding.line}: no conv of that name built on that line"
        for conv, root in owners:
            check_claim(finding.code, finding.message, conv, root.shape)
    return {(f.line, f.code) for f in found}


def expected(source: str) -> set:
    return {(line, code) for line, codes in oracle.expectations_in(source).items()
            for code in codes if code in CODES}


# ---- the fixtures and the rules' own examples


@pytest.mark.parametrize("path", FIXTURES, ids=[path.name for path in FIXTURES])
def test_fixture_warnings_are_true_in_torch(path):
    source = path.read_text()
    assert check_file(path, source) == expected(source)


@pytest.mark.parametrize("path", FIXTURES, ids=[path.name for path in FIXTURES])
def test_fixture_warnings_hold_for_every_input_size(path):
    """Without its input shape the linter reasons size-free: same warnings, symbolic sizes
    that evaluate to torch's."""
    source = _DIRECTIVE.sub("", path.read_text())
    assert check_file(path, source) == expected(source)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_rule_example_claims_are_true_in_torch(index, tmp_path):
    source = EXAMPLES[index]
    path = tmp_path / "example.py"
    path.write_text(source)
    assert check_file(path, source, oracle.options_in(source)) == expected(source)


def test_fixtures_cover_both_rules_and_both_policies_of_size():
    codes = {code for path in FIXTURES for _, code in expected(path.read_text())}
    assert codes == set(CODES)
    assert any("# oracle: input-shape" in path.read_text() for path in FIXTURES)


# ---- exactly the layers torch shows changing the map, never both codes


def _grid_source(rank: int, kernel: int, padding: int, dilation: int, shaped: bool) -> str:
    conv = f"nn.Conv{rank}d"
    shape = "4" + ",16" * rank
    return f"""import torch.nn as nn


{'# conv-lint: input-shape=' + shape if shaped else ''}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            {conv}(4, 8, 3, padding=1), nn.ReLU(),
            {conv}(8, 8, {kernel}, padding={padding}, dilation={dilation}), nn.ReLU(),
            {conv}(8, 8, 3, padding=1),
        )

    def forward(self, x):
        return self.body(x)
"""


GRID = [(rank, kernel, padding, dilation) for rank in (1, 2) for kernel in range(1, 6)
        for dilation in (1, 2, 3) for padding in range(0, 5)]


@pytest.mark.parametrize("rank", (1, 2))
def test_each_stride_one_conv_gets_the_code_torch_shows(rank, tmp_path):
    """Between two convs that keep the size: CNV202 iff torch grows an even-kernel axis,
    CNV201 iff torch changes the size and a symmetric padding can keep it, never both; and
    every message's claims hold in torch."""
    for _, kernel, padding, dilation in (g for g in GRID if g[0] == rank):
        layer = getattr(torch.nn, f"Conv{rank}d")(8, 8, kernel, padding=padding,
                                                  dilation=dilation)
        change = spatial_size(layer, (1, 8) + (16,) * rank)[0] - 16
        even = dilation * (kernel - 1) % 2 == 1
        want = {"CNV202"} if even and change > 0 else \
            {"CNV201"} if not even and change != 0 else set()
        for shaped in (True, False):
            source = _grid_source(rank, kernel, padding, dilation, shaped)
            path = tmp_path / f"grid_{kernel}_{padding}_{dilation}_{shaped}.py"
            # torch needs the input shape the linter is not given
            path.write_text(source if shaped else source.replace(
                "\nclass Net", "# oracle: input-shape=4" + ",16" * rank + "\nclass Net"))
            found = check_file(path, source)
            assert {code for _, code in found} == want, (
                f"Conv{rank}d kernel {kernel} padding {padding} dilation {dilation} "
                f"(torch: size {change:+d}), shaped={shaped}: {sorted(found)}")
            assert all(line == 10 for line, _ in found)


# ---- the issue's three examples and the policy


def _issue_example(conv1: str, conv2: str) -> str:
    return f"""import torch.nn as nn


# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, {conv1})
        self.conv2 = nn.Conv2d(16, 32, 3, {conv2})

    def forward(self, x):
        return self.conv2(self.conv1(x))
"""


EXAMPLE_A = _issue_example("stride=1, padding=0", "stride=1, padding=1")
EXAMPLE_B = _issue_example("stride=1, padding=1", "stride=2, padding=1")
EXAMPLE_C = _issue_example("stride=1, padding=1", "stride=1, padding=1")


@pytest.mark.parametrize("policy", ("consistent", "strict"))
def test_issue_example_a_warns_on_conv1_that_padding_1_keeps_28(policy, tmp_path):
    path = tmp_path / "a.py"
    path.write_text(EXAMPLE_A)
    assert check_file(path, EXAMPLE_A, Options(padding_policy=policy)) == {(8, "CNV201")}
    (finding,) = warnings(EXAMPLE_A, Options(padding_policy=policy))
    assert finding.message == ("conv1: padding=0 changes the map size (28x28 -> 26x26) while "
                               "the convs around it (conv2) keep it; padding=1 keeps it")


def test_issue_example_a_is_quiet_with_the_policy_off():
    assert warnings(EXAMPLE_A, Options(padding_policy="off")) == []


@pytest.mark.parametrize("policy", ("consistent", "strict", "off"))
@pytest.mark.parametrize("source", (EXAMPLE_B, EXAMPLE_C), ids=("b", "c"))
def test_issue_examples_b_and_c_keep_every_size(source, policy):
    assert warnings(source, Options(padding_policy=policy)) == []


LENET = """import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=1,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc1(x.view(x.size(0), -1))
"""

UNET_VALID = """import torch.nn as nn


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(inplace=True),
                                  nn.Conv2d(cout, cout, 3), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.conv(x)


# conv-lint: input-shape=1,92,92
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = DoubleConv(1, 16)
        self.pool = nn.MaxPool2d(2)
        self.down2 = DoubleConv(16, 32)

    def forward(self, x):
        return self.down2(self.pool(self.down1(x)))
"""


# LeNet-5 on MNIST: the first conv pads 28 to keep it, the second (after a pool) is valid
LENET5 = """import torch.nn as nn
import torch.nn.functional as F


# conv-lint: input-shape=1,28,28
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc1(x.flatten(1))
"""


@pytest.mark.parametrize("source, flagged",
                         ((LENET, {9, 10}), (UNET_VALID, {7, 8}), (LENET5, {10})),
                         ids=("lenet", "unet", "lenet5"))
def test_deliberate_valid_convs_are_flagged_only_under_strict(source, flagged, tmp_path):
    path = tmp_path / "model.py"
    path.write_text(source)
    assert warnings(source) == []
    strict = check_file(path, source, Options(padding_policy="strict"))
    assert strict == {(line, "CNV201") for line in flagged}
    assert all("under padding-policy=strict" in f.message
               for f in warnings(source, Options(padding_policy="strict")))


# ---- near misses the rules must leave alone


NEAR_MISSES = {
    # CRNN: its last conv is 2x2 padding 0 among 3x3 padding 1 convs, to bring the height to 1;
    # an even kernel that shrinks is neither CNV201 (no symmetric padding keeps it) nor CNV202
    "crnn_last_even_conv": """import torch.nn as nn


# conv-lint: input-shape=1,32,100
class CRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 16, 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(True), nn.MaxPool2d((2, 2), (2, 1), (0, 1)),
            nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(True), nn.MaxPool2d((2, 2), (2, 1), (0, 1)),
            nn.Conv2d(64, 64, 2, 1, 0), nn.ReLU(True),
        )

    def forward(self, x):
        return self.cnn(x).squeeze(2)
""",
    # CycleGAN's ResNet block: reflection padding by a layer, then convs with padding=0
    "reflection_pad_layers": """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class ResnetBlock(nn.Module):
    def __init__(self, dim=3):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0),
            nn.Conv2d(dim, dim, 3, padding=1),
        )

    def forward(self, x):
        return x + self.block(x)
""",
    # an autoencoder whose last encoder conv reduces 7x7 to 1x1 on purpose; transposed convs
    # in the decoder are not judged
    "autoencoder_to_one": """import torch.nn as nn


# conv-lint: input-shape=1,28,28
class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 7),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))
""",
    # padding modes change nothing; 'same' keeps the size for any kernel
    "padding_modes_and_same": """import torch.nn as nn


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(8, 8, 5, padding="same", padding_mode="circular")
        self.conv3 = nn.Conv2d(8, 8, 4, padding="same", padding_mode="replicate")
        self.conv4 = nn.Conv2d(8, 8, 3, padding=1, padding_mode="zeros")

    def forward(self, x):
        return self.conv4(self.conv3(self.conv2(self.conv1(x))))
""",
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
@pytest.mark.parametrize("policy", ("consistent", "strict"))
def test_near_miss_stays_quiet(name, policy, tmp_path):
    source = NEAR_MISSES[name]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    module = oracle.load_fixture(path)
    for root in oracle.find_root_classes(path):
        assert oracle.run_root(module, root, path).error is None
    for text in (source, _DIRECTIVE.sub("", source)):
        assert warnings(text, Options(padding_policy=policy)) == []


def test_a_block_used_twice_is_warned_once_on_its_line():
    source = """import torch.nn as nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3)
        self.conv3 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv3(self.conv2(self.conv1(x)))


# conv-lint: input-shape=8,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Sequential(Block(8), Block(8))

    def forward(self, x):
        return self.layer(x)
"""
    found = warnings(source)
    assert [(f.line, f.code) for f in found] == [(8, "CNV201")]
    assert found[0].message.startswith("layer.0.conv2: padding=0 changes the map size "
                                       "(32x32 -> 30x30) while the convs around it "
                                       "(layer.0.conv1 and layer.0.conv3)")


def test_a_padded_1x1_conv_is_told_to_drop_its_padding_even_alone_under_strict(tmp_path):
    source = """import torch.nn as nn


# oracle: input-shape=3,16,16
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 1, padding=1)

    def forward(self, x):
        return self.proj(x)
"""
    path = tmp_path / "model.py"
    path.write_text(source)
    assert check_file(path, source) == set()
    assert check_file(path, source, Options(padding_policy="strict")) == {(8, "CNV201")}
    (finding,) = warnings(source, Options(padding_policy="strict"))
    assert finding.message.endswith("padding=0 keeps it")
