"""The `conv-lint` command, run as users run it: the installed console script in a subprocess.

Layer tables are checked against torch: the shapes and parameter counts torch's forward hooks
record for the same model (``oracle.trace_calls``).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import oracle
import pytest
import torch

import conv_lint.engine
from conv_lint import __version__, cli
from conv_lint.codes import CODES
from conv_lint.engine import Analysis, LayerRow, LostShape, ModelTable

# Two root models; `# row: NAME` marks the line that constructs each module torch names NAME.
MODELS = """\
import torch
import torch.nn as nn


# conv-lint: input-shape=3,32,32
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(  # row: features
            nn.Conv2d(3, 6, 5),  # row: features.0
            nn.ReLU(),  # row: features.1
            nn.MaxPool2d(2),  # row: features.2
            nn.Conv2d(6, 16, 5),  # row: features.3
            nn.ReLU(),  # row: features.4
            nn.MaxPool2d(2),  # row: features.5
        )
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # row: fc1
        self.fc2 = nn.Linear(120, 84)  # row: fc2
        self.fc3 = nn.Linear(84, 10)  # row: fc3

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class Tiny(nn.Module):  # conv-lint: input-shape=1,28,28
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)  # row: conv
        self.pool = nn.AdaptiveAvgPool2d(1)  # row: pool

    def forward(self, x):
        return self.pool(self.conv(x))
"""
SHAPES = {"LeNet": (3, 32, 32), "Tiny": (1, 28, 28)}


def conv_lint_command() -> str:
    beside_python = Path(sys.executable).with_name("conv-lint")
    return str(beside_python) if beside_python.exists() else shutil.which("conv-lint")


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([conv_lint_command(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    return path


def torch_tables(path: Path) -> dict:
    """The `--format json` document, from what torch computes on each root model."""
    module = oracle.load_fixture(path)
    lines = path.read_text().splitlines()
    row_line = {m.group(1): number for number, text in enumerate(lines, start=1)
                for m in [re.search(r"# row: (\S+)", text)] if m}
    class_line = {m.group(1): number for number, text in enumerate(lines, start=1)
                  for m in [re.match(r"class (\w+)", text)] if m}
    models = []
    for cls, shape in SHAPES.items():
        calls = oracle.trace_calls(getattr(module, cls)(), shape)
        sites = len(oracle.forward_call_sites(getattr(module, cls)(), shape))
        models.append({
            "class": cls,
            "line": class_line[cls],
            "input_shape": list(shape),
            "layers": [{"name": call.name, "type": call.type, "line": row_line[call.name],
                        "output_shape": list(call.shape), "params": call.params}
                       for call in calls],
            "forward": {"calls": sites, "known": sites, "lost": []},  # torch ran it all
        })
    return {"models": models}


# --- version, codes, errors ---------------------------------------------------------------------

def test_version(tmp_path):
    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == (f"conv-lint {__version__}\n", "")


def test_codes_lists_the_code_table(tmp_path):
    result = run_cli(tmp_path, "codes")
    assert result.returncode == 0, result.stderr
    rows = [line.split(None, 2) for line in result.stdout.splitlines()]
    assert rows == [[code.code, code.name, code.summary] for code in CODES.values()]


def test_no_command_is_a_one_line_usage_error(tmp_path):
    assert_one_line_error(run_cli(tmp_path), "conv-lint: error:", "COMMAND")


def test_missing_file(tmp_path):
    assert_one_line_error(run_cli(tmp_path, "explain", "nowhere.py"),
                          "cannot read nowhere.py", "No such file or directory")


def test_directory_instead_of_a_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    assert_one_line_error(run_cli(tmp_path, "explain", "pkg"), "cannot read pkg")


def test_syntax_error_names_where_python_stops(tmp_path):
    source = "import torch\n\n\nclass Net(torch.nn.Module:\n    pass\n"
    (tmp_path / "broken.py").write_text(source)
    with pytest.raises(SyntaxError) as python_says:
        ast.parse(source)
    where = f"broken.py:{python_says.value.lineno}:{python_says.value.offset}"
    assert_one_line_error(run_cli(tmp_path, "explain", "broken.py"),
                          f"conv-lint: error: {where}: SyntaxError: ")


@pytest.mark.parametrize("value", ["abc", "3,32,0", "3x32x32", "1,2,3,4,5"])
def test_bad_input_shape_is_a_one_line_error_naming_the_option(models_file, value):
    assert_one_line_error(
        run_cli(models_file.parent, "explain", "models.py", "--input-shape", value),
        "--input-shape",
        f"input shape must be 1 to 4 positive integers like 3,32,32, got {value!r}",
    )


def test_bad_format_is_a_one_line_error(models_file):
    assert_one_line_error(run_cli(models_file.parent, "explain", "models.py", "--format", "xml"),
                          "--format", "xml")


def test_internal_failure_is_one_line_never_a_traceback(models_file, monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(conv_lint.engine, "analyse", explode)
    assert cli.main(["explain", str(models_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "conv-lint: internal error: RuntimeError('engine exploded')\n"


def test_a_skipped_class_is_noted_on_stderr(models_file, monkeypatch, capsys):
    monkeypatch.setattr(conv_lint.engine, "analyse",
                        lambda *args, **kwargs: Analysis(error="Block skipped: dynamic forward"))
    assert cli.main(["explain", str(models_file), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"models": []}
    assert captured.err == f"conv-lint: note: {models_file}: Block skipped: dynamic forward\n"


# --- rendering (torch's numbers, formatted) -----------------------------------------------------

def tiny_table() -> ModelTable:
    """Tiny's table with the shapes and parameter counts torch gives."""
    conv, pool = torch.nn.Conv2d(1, 4, 3), torch.nn.AdaptiveAvgPool2d(1)
    x = torch.zeros(1, 1, 28, 28)
    conv_out = conv(x)
    pool_out = pool(conv_out)
    return ModelTable("Tiny", 28, [1, 28, 28], [
        LayerRow("conv", "Conv2d", 31, list(conv_out.shape[1:]),
                 sum(p.numel() for p in conv.parameters())),
        LayerRow("pool", "AdaptiveAvgPool2d", 32, list(pool_out.shape[1:]), 0),
    ])


def test_text_table_is_aligned_like_torchinfo():
    rule = "=" * 61
    assert cli.render_text(tiny_table(), "models.py") == "\n".join([
        "Tiny (models.py:28), input [N, 1, 28, 28]",
        rule,
        "Layer (name)  Type               Output shape    Params  Line",
        rule,
        "conv          Conv2d             [N, 4, 26, 26]      40    31",
        "pool          AdaptiveAvgPool2d  [N, 4, 1, 1]        --    32",
        rule,
        "Params of the listed layers: 40",
    ])


def test_text_shows_symbolic_and_unknown_sizes_and_counts_leaves_once():
    table = ModelTable("Net", 3, ["C", "H", "W"], [
        LayerRow("body", "Sequential", 5, ["64", "floor((H - 12)/4)", None], 1792),
        LayerRow("body.0", "Conv2d", 6, [64, "floor((H - 12)/4)", None], 1792),
        LayerRow("body.1", "ReLU", 7, None, 0),
        LayerRow("body.0", "Conv2d", 6, [64, "floor((H - 12)/4)", None], 1792),  # called again
        LayerRow("head", "Mystery", 8, None, None),
    ])
    text = cli.render_text(table, "net.py")
    lines = text.splitlines()
    assert lines[0] == "Net (net.py:3), input [N, C, H, W]"
    assert lines[4].split("  ")[0] == "body"
    assert "[N, 64, floor((H - 12)/4), ?]" in lines[5]
    assert lines[6].split() == ["body.1", "ReLU", "?", "--", "7"]
    assert lines[8].split() == ["head", "Mystery", "?", "?", "8"]
    assert lines[-1] == ("Params of the listed layers: unknown "
                         "(head unknown; the others: 1,792)")


def test_json_document_keeps_symbols_as_strings_and_unknown_as_null():
    table = ModelTable("Net", 3, None, [LayerRow("conv", "Conv2d", 5, [8, "H - 2", None], None)],
                       calls=2, known_calls=1, lost=[LostShape(9, "self.rnn(...)", "nn.GRU")])
    assert cli.models_json([table]) == {"models": [{
        "class": "Net", "line": 3, "input_shape": None,
        "layers": [{"name": "conv", "type": "Conv2d", "line": 5,
                    "output_shape": [8, "H - 2", None], "params": None}],
        "forward": {"calls": 2, "known": 1,
                    "lost": [{"line": 9, "call": "self.rnn(...)", "reason": "nn.GRU"}]},
    }]}


def test_text_says_how_much_of_forward_was_followed_and_where_shapes_were_lost():
    lost = [LostShape(10 + i, f"self.block{i}(...)", "nn.LSTM not modelled") for i in range(7)]
    table = ModelTable("Net", 3, None, [LayerRow("conv", "Conv2d", 5, [8, "H - 2", None], 80)],
                       calls=12, known_calls=5, lost=lost)
    lines = cli.render_text(table, "net.py").splitlines()
    assert lines[-7:] == ["Forward: 5 of 12 calls with a known shape; shapes lost at:"] + [
        f"  line {10 + i}: self.block{i}(...): nn.LSTM not modelled" for i in range(5)
    ] + ["  and 2 more"]


# --- explain on a real file (these need the engine) ---------------------------------------------

def test_explain_json_matches_torch(models_file):
    result = run_cli(models_file.parent, "explain", "models.py", "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == torch_tables(models_file)


def test_explain_text_matches_torch(models_file):
    result = run_cli(models_file.parent, "explain", "models.py")
    assert (result.returncode, result.stderr) == (0, "")
    expected = torch_tables(models_file)["models"]
    module = oracle.load_fixture(models_file)
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == len(expected)
    for block, model in zip(blocks, expected):
        lines = block.splitlines()
        shape = ", ".join(str(size) for size in model["input_shape"])
        assert lines[0] == f"{model['class']} (models.py:{model['line']}), input [N, {shape}]"
        rows = lines[4:-3]
        assert [row.split()[:2] for row in rows] == [[layer["name"], layer["type"]]
                                                     for layer in model["layers"]]
        for row, layer in zip(rows, model["layers"]):
            sizes = ", ".join(str(size) for size in layer["output_shape"])
            params = f"{layer['params']:,}" if layer["params"] else "--"
            assert f"  [N, {sizes}]  " in row
            assert row.split()[-2:] == [params, str(layer["line"])]
        total = sum(p.numel() for p in getattr(module, model["class"])().parameters())
        assert lines[-2] == f"Params of the listed layers: {total:,}"
        sites = model["forward"]["calls"]
        assert lines[-1] == f"Forward: {sites} of {sites} calls with a known shape"


def test_explain_class_filter(models_file):
    result = run_cli(models_file.parent, "explain", "models.py", "--class", "Tiny",
                     "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {"models": torch_tables(models_file)["models"][1:]}


def test_explain_unknown_class_is_an_error_listing_the_models(models_file):
    assert_one_line_error(run_cli(models_file.parent, "explain", "models.py", "--class", "Nope"),
                          "no model class 'Nope' in models.py (found: LeNet, Tiny)")


def test_input_shape_option_applies_to_classes_without_a_directive(tmp_path):
    source = MODELS.replace("  # conv-lint: input-shape=1,28,28", "")
    (tmp_path / "models.py").write_text(source)
    result = run_cli(tmp_path, "explain", "models.py", "--class", "Tiny",
                     "--input-shape", "1,12,12", "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    calls = oracle.trace_calls(oracle.load_fixture(tmp_path / "models.py").Tiny(), (1, 12, 12))
    model = json.loads(result.stdout)["models"][0]
    assert model["input_shape"] == [1, 12, 12]
    assert [layer["output_shape"] for layer in model["layers"]] == [list(c.shape) for c in calls]


TEXT_CNN = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class TextCNN(nn.Module):
    def __init__(self, vocab=1000, dim=32, filters=16, widths=(3, 4)):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList([nn.Conv1d(dim, filters, w) for w in widths])
        self.fc = nn.Linear(filters * len(widths), 2)

    def forward(self, ids):
        x = self.embedding(ids)
        x = [F.relu(conv(x)).amax(dim=2) for conv in self.convs]
        return self.fc(torch.cat(x, 1))
"""
TEXT_CNN_CONV_LINE = 15  # the convs read the 50 positions as channels: no transpose


def test_a_one_axis_input_shape_is_a_sequence_of_token_ids(tmp_path):
    """`--input-shape 50`: (N, 50) token ids; torch agrees on the rows (fed long zeros) and
    on the error of the convolution that misses the transpose."""
    good = TEXT_CNN.replace("x = self.embedding(ids)", "x = self.embedding(ids).transpose(1, 2)")
    (tmp_path / "good.py").write_text(good)
    (tmp_path / "bad.py").write_text(TEXT_CNN)
    result = run_cli(tmp_path, "explain", "good.py", "--input-shape", "50", "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    model = json.loads(result.stdout)["models"][0]
    calls = oracle.trace_calls(oracle.load_fixture(tmp_path / "good.py").TextCNN(), (50,))
    assert model["input_shape"] == [50]
    assert [layer["output_shape"] for layer in model["layers"]] == [list(c.shape) for c in calls]
    assert [layer["params"] for layer in model["layers"]] == [c.params for c in calls]
    outcome = oracle.run_model(oracle.load_fixture(tmp_path / "bad.py").TextCNN(), (50,),
                               tmp_path / "bad.py")
    assert oracle.codes_for_error(outcome.error) == {"CNV101"}
    assert outcome.line == TEXT_CNN_CONV_LINE
    result = run_cli(tmp_path, "check", "bad.py", "--input-shape", "50")
    assert result.returncode == 1
    assert result.stdout.startswith(f"bad.py:{TEXT_CNN_CONV_LINE}:")
    assert "CNV101" in result.stdout


BIASED = """\
import torch
import torch.nn as nn


# conv-lint: input-shape=3,16,16
class Biased(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))
        self.spare = nn.Linear(8, 8)  # never called in forward: no row
        self.bias = nn.Parameter(torch.zeros(8, 1, 1))  # the model's own: no row

    def forward(self, x):
        return self.body(x) + self.bias
"""


def test_params_line_sums_the_listed_leaf_layers_once(tmp_path):
    path = tmp_path / "biased.py"
    path.write_text(BIASED)
    model = oracle.load_fixture(path).Biased()
    calls = oracle.trace_calls(model, (3, 16, 16))
    names = {call.name for call in calls}
    leaves = {call.name: call.params for call in calls
              if not any(other.startswith(call.name + ".") for other in names)}
    listed = sum(leaves.values())
    assert listed < sum(p.numel() for p in model.parameters())  # torch's total is more

    result = run_cli(tmp_path, "explain", "biased.py")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-2] == f"Params of the listed layers: {listed:,}"


def test_each_model_table_shows_its_own_input():
    """Two models in a file: each table's input is what that model's first layer reads (torch
    builds both and runs them on those channels)."""
    source = (
        "import torch.nn as nn\n\n\n"
        "class Rgb(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, 3)\n\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n\n\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, planes):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(planes, planes * 2, 1)\n\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n"
    )
    tables = {t.cls: t for t in conv_lint.engine.analyse(source).models}
    assert tables["Rgb"].input_shape == [3, "H", "W"]
    assert tables["Block"].input_shape == ["planes", "H", "W"]
    assert tables["Block"].layers[0].output_shape == ["2*planes", "H", "W"]
    namespace: dict = {}
    exec(compile(source, "<models>", "exec"), namespace)
    assert namespace["Rgb"]()(torch.zeros(1, 3, 9, 9)).shape[1] == 8
    for planes in (1, 5):
        out = namespace["Block"](planes)(torch.zeros(1, planes, 9, 9))
        assert out.shape[1] == 2 * planes
