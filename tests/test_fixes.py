"""The fixes findings carry, with torch as the oracle.

Each case is a model file with one finding: the fix must turn it into exactly the expected text
(formatting and comments kept), fixing again must change nothing, the analysis of the fixed
file must not report that finding again, and torch must build the fixed model and run it on the
input shape. The near-misses are files where a fix would not be certain: none is offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest
import torch

from conv_lint.engine import analyse
from conv_lint.fixes import apply_fixes, fix_source
from conv_lint.options import Options


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    before: str
    after: str  # the expected fixed text, ``before`` with the edits applied
    shape: tuple  # per sample, what torch runs the fixed model on
    options: Optional[Options] = None


HEAD = "import torch\nimport torch.nn as nn\n\n\n"

CASES = [
    Case("padding-replaced", "CNV201", HEAD + '''# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=0)  # the odd one out
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''', HEAD + '''# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=1)  # the odd one out
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''', (1, 28, 28)),
    Case("padding-added", "CNV201", HEAD + '''# conv-lint: input-shape=3,32,32
class VGGStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64,
                      3),  # forgot the padding
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.features(x)
''', HEAD + '''# conv-lint: input-shape=3,32,32
class VGGStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64,
                      3, padding=1),  # forgot the padding
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.features(x)
''', (3, 32, 32)),
    Case("bias-false", "CNV206", HEAD + '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=True)
        self.bn1 = nn.BatchNorm2d(32)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                nn.init.zeros_(m.weight)

    def forward(self, x):
        return torch.relu(self.bn1(self.conv1(x)))
''', HEAD + '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                nn.init.zeros_(m.weight)

    def forward(self, x):
        return torch.relu(self.bn1(self.conv1(x)))
''', (3, 32, 32)),
    Case("bias-false-added", "CNV206", HEAD + '''# conv-lint: input-shape=3,16,16
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1,),
            nn.InstanceNorm2d(8, affine=True),
        )

    def forward(self, x):
        return self.block(x)
''', HEAD + '''# conv-lint: input-shape=3,16,16
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False,),
            nn.InstanceNorm2d(8, affine=True),
        )

    def forward(self, x):
        return self.block(x)
''', (3, 16, 16), Options(bias_before_norm="any")),
    Case("conv-in-channels", "CNV101", HEAD + '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5)
        self.conv2 = nn.Conv2d(in_channels=16,  # was 16 when conv1 had 16
                               out_channels=32, kernel_size=5)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''', HEAD + '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5)
        self.conv2 = nn.Conv2d(in_channels=32,  # was 16 when conv1 had 16
                               out_channels=32, kernel_size=5)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''', (3, 32, 32)),
    Case("batchnorm-features", "CNV102", HEAD + '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(32)

    def forward(self, x):
        return self.bn(self.conv(x))
''', HEAD + '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(64)

    def forward(self, x):
        return self.bn(self.conv(x))
''', (3, 20, 20)),
    Case("groupnorm-channels", "CNV102", HEAD + '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 48, 3)
        self.norm = nn.GroupNorm(8, num_channels=32)

    def forward(self, x):
        return self.norm(self.conv(x))
''', HEAD + '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 48, 3)
        self.norm = nn.GroupNorm(8, num_channels=48)

    def forward(self, x):
        return self.norm(self.conv(x))
''', (2, 50)),
    Case("linear-in-features", "CNV103", HEAD + '''# conv-lint: input-shape=3,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)  # MNIST's size
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))
''', HEAD + '''# conv-lint: input-shape=3,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)  # MNIST's size
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))
''', (3, 32, 32)),
    Case("lstm-input-size", "CNV112", HEAD + '''# conv-lint: input-shape=64,32
class Speaker(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(64, 128, 3, padding=1)
        self.lstm = nn.LSTM(64, 64, batch_first=True)  # sized for the mel bins
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv(x).transpose(1, 2)
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])
''', HEAD + '''# conv-lint: input-shape=64,32
class Speaker(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(64, 128, 3, padding=1)
        self.lstm = nn.LSTM(128, 64, batch_first=True)  # sized for the mel bins
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv(x).transpose(1, 2)
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])
''', (64, 32)),
]


def findings(source: str, options: Optional[Options] = None):
    return analyse(source, options=options, tables=False).findings


def run_in_torch(source: str, shape: tuple) -> torch.Tensor:
    """Build the file's last module class and run it on zeros of ``shape`` (batch of 2)."""
    namespace: dict = {"__name__": "fixed_model"}
    exec(compile(source, "<fixed>", "exec"), namespace)
    classes = [value for value in namespace.values() if isinstance(value, type)
               and issubclass(value, torch.nn.Module) and value.__module__ == "fixed_model"]
    model = classes[-1]()
    with torch.no_grad():
        return model(torch.zeros((2,) + shape))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fix(case: Case):
    found = findings(case.before, case.options)
    assert [f.code for f in found] == [case.code], found
    assert found[0].fix is not None, f"{case.code} carries no fix"
    fixed = apply_fixes(case.before, found)
    assert fixed == case.after
    again = findings(fixed, case.options)
    assert case.code not in {f.code for f in again}, again
    assert apply_fixes(fixed, again) == fixed  # fixing twice changes nothing
    if case.code.startswith("CNV1"):  # torch confirms the error the fix removes
        with pytest.raises(RuntimeError):
            run_in_torch(case.before, case.shape)
    run_in_torch(fixed, case.shape)


def test_fix_description_names_the_change():
    by_code = {case.code: findings(case.before, case.options)[0] for case in CASES}
    assert by_code["CNV201"].fix.description == "set padding=1"
    assert by_code["CNV206"].fix.description == "set bias=False"
    assert by_code["CNV103"].fix.description == "set in_features=400"


def test_fix_source_loops_until_every_error_is_fixed():
    """torch stops at the first error, so does the analysis: the next shows once it is fixed."""
    source = HEAD + '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(4096, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = nn.functional.max_pool2d(x, 4)
        return self.fc(x.flatten(1))
'''
    assert len(findings(source)) == 1
    fixed = fix_source(source, findings)
    assert findings(fixed) == []
    for old, new in (("BatchNorm2d(16)", "BatchNorm2d(32)"), ("Conv2d(16, 64", "Conv2d(32, 64"),
                     ("BatchNorm2d(32)\n        self.fc", "BatchNorm2d(64)\n        self.fc")):
        source = source.replace(old, new)
    assert fixed == source
    assert run_in_torch(fixed, (3, 32, 32)).shape == (2, 10)
    assert fix_source(fixed, findings) == fixed


NO_FIX = {
    "variable-argument": '''class Net(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3)
        self.bn = nn.BatchNorm2d(width)

    def forward(self, x):
        return self.bn(self.conv(x))
''',
    "one-call-several-needs": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.narrow, self.wide = self.block(8), self.block(16)

    def block(self, c):
        return nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(4))

    def forward(self, x):
        return torch.cat([self.narrow(x), self.wide(x)], 1)
''',
    "unknown-size": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2)
        self.fc = nn.Linear(16 * 7 * 7 + 1, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))
''',
    "expression-with-names": '''BASE = 16


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3)
        self.bn = nn.BatchNorm2d(BASE * 2)

    def forward(self, x):
        return self.bn(self.conv(x))
''',
    "star-arguments": '''ARGS = {"num_features": 32}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3)
        self.bn = nn.BatchNorm2d(**ARGS)

    def forward(self, x):
        return self.bn(self.conv(x))
''',
    "grouped-conv": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3)
        self.conv2 = nn.Conv2d(32, 32, 3, groups=32)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''',
    "layer-used-twice": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x, y):
        return self.bn(self.conv(x)) + self.bn(y)
''',
    "bias-read-elsewhere": '''# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(32)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        return self.bn(self.conv(x))
''',
    "padding-moves-the-head": '''# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=0)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(self.conv2(self.conv1(x)).flatten(1))
''',
    "padding-moves-a-symbolic-head": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=0)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(self.conv2(self.conv1(x)).flatten(1))
''',
    "padding-variable": '''# conv-lint: input-shape=1,28,28
class Net(nn.Module):
    def __init__(self, pad=0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=pad)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))
''',
    "padding-loop-some-flagged": '''# conv-lint: input-shape=8,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = self.conv(8)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.c = nn.Conv2d(8, 8, 3, padding=1)
        self.e = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.d = self.conv(8)  # after the pool: no conv keeps the size there

    def conv(self, c):
        return nn.Conv2d(c, c, 3)

    def forward(self, x):
        return self.d(self.pool(self.e(self.c(self.b(self.a(x))))))
''',
}


@pytest.mark.parametrize("name", sorted(NO_FIX))
def test_no_fix_where_it_is_not_certain(name):
    found = findings(HEAD + NO_FIX[name])
    assert found, "the near-miss must still have its finding"
    assert [f for f in found if f.fix is not None] == []


def test_files_without_findings_carry_no_fix_and_stay_unchanged():
    source = HEAD + NO_FIX["variable-argument"].replace("BatchNorm2d(width)", "BatchNorm2d(32)")
    assert findings(source) == []
    assert fix_source(source, findings) == source


# --- the fixtures: every fix offered there, applied until none is left --------------------------
FIXED_FIXTURES = [  # one or two per kind of fix (the CNV201 ones are slow: each is checked twice)
    "autoencoder_convtranspose_channels.py", "branch_flag_linear.py", "ceil_mode_linear.py",
    "lenet_cifar_conv2_channels.py", "lenet_mnist_linear.py", "mlp_ordereddict_linear.py",
    "mnist_example_fc1.py", "size_free_channel_mismatch.py", "style_transfer_instancenorm.py",
    "two_models_two_bugs.py", "vgg_batchnorm_wrong_conv.py", "warn_bias_before_norm.py",
    "warn_padding_factorized_axis.py",
]


@pytest.mark.parametrize("name", FIXED_FIXTURES)
def test_fixed_fixture_parses_loses_its_fixed_findings_and_runs(name, tmp_path):
    import oracle
    from conv_lint.codes import CODES

    path = oracle.FIXTURES_DIR / name
    source = path.read_text()
    options = oracle.options_in(source)

    def analysed(text):
        return analyse(text, name, options=options, tables=False).findings

    found = analysed(source)
    offered = [f for f in found if f.fix is not None]
    assert offered, f"{name}: no fix offered"
    assert all(CODES[f.code].fix for f in offered), "codes.py must describe every fix"
    fixed = fix_source(source, analysed)
    left = analysed(fixed)
    assert fix_source(fixed, analysed) == fixed
    assert len(fixed.splitlines()) == len(source.splitlines())  # edits stay within their lines
    assert not {(f.line, f.code) for f in offered} & {(f.line, f.code) for f in left}
    fixed_path = tmp_path / name
    fixed_path.write_text(fixed)
    module = oracle.load_fixture(fixed_path)
    for root in oracle.find_root_classes(fixed_path):
        outcome = oracle.run_root(module, root, fixed_path)
        still_broken = {f.line for f in left if f.code.startswith("CNV1")}
        if outcome.error is not None:  # only where an error is left, one no fix could make
            assert outcome.line in still_broken, f"{root.cls}: {outcome.describe()}"


def test_codes_table_describes_exactly_the_fixes_there_are():
    """codes.py's ``fix`` column is what the docs show: one entry per kind of fix, no other."""
    from conv_lint.codes import CODES

    described = {code for code, entry in CODES.items() if entry.fix}
    assert described == {case.code for case in CASES}


def test_edits_count_lines_as_python_does():
    """A form feed inside a line (str.splitlines would break there) shifts no position."""
    source = HEAD.replace("\n\n\n", "\n\x0c\n\n") + NO_FIX["variable-argument"].replace(
        "BatchNorm2d(width)", "BatchNorm2d(16)")
    (finding,) = findings(source)
    assert apply_fixes(source, [finding]) == source.replace("BatchNorm2d(16)", "BatchNorm2d(32)")
