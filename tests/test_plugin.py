"""The flake8 plugin, run as users run it: the real flake8 in a subprocess on files in a temp dir.

Torch is the oracle for the models used here: the clean one runs, the bad one raises where the
expected finding points.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import traceback
from argparse import Namespace
from pathlib import Path

import oracle
import pytest

import conv_lint.engine
from conv_lint import __version__
from conv_lint.engine import Analysis, Finding
from conv_lint.plugin import ConvLintPlugin, option_name, parse_rule_options
from conv_lint.rules import RULES
from conv_lint.rules.base import Options
from test_cli import TEXT_CNN, TEXT_CNN_CONV_LINE

CLEAN_LENET = """\
import torch
import torch.nn as nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)
"""

# conv2 expects 16 channels, conv1 gives 6: torch raises in forward, at the line calling conv2.
CHANNEL_MISMATCH = """\
import torch.nn as nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(16, 16, 5)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return x
"""
MISMATCH_CALL = "self.conv2("

BAD_VALUE_ERROR = ("flake8: error: --conv-input-shape: input shape must be 1 to 4 positive "
                   "integers like 3,32,32, got '3,x'")

# Runs flake8 in-process, then reports which modules got imported (as the last stdout line).
IMPORT_PROBE = """\
import json, sys
from flake8.main.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# Runs flake8 in-process with an engine that crashes.
CRASHING_ENGINE = """\
import sys
import conv_lint.engine

def analyse(*args, **kwargs):
    raise RuntimeError("engine exploded")

conv_lint.engine.analyse = analyse
from flake8.main.cli import main
sys.exit(main(sys.argv[1:]))
"""


def flake8(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def python(cwd: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    (cwd / "probe.py").write_text(script)
    return subprocess.run([sys.executable, "probe.py", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def torch_failure(path: Path, shape: tuple[int, ...]) -> traceback.FrameSummary:
    """The frame of ``path`` in torch's traceback when the file's LeNet runs on ``shape``."""
    outcome = oracle.run_model(oracle.load_fixture(path).LeNet(), shape, path)
    assert outcome.stage == "forward", outcome.describe()
    assert oracle.codes_for_error(outcome.error) == {"CNV101"}, outcome.describe()
    frames = [frame for frame in traceback.extract_tb(outcome.error.__traceback__)
              if Path(frame.filename).resolve() == path.resolve()]
    return frames[-1]


# --- registration, options, failures -----------------------------------------------------------

def test_flake8_lists_the_plugin_in_its_version(tmp_path):
    result = flake8(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert f"conv-lint: {__version__}" in result.stdout


def test_clean_model_prints_nothing_and_exits_0(tmp_path):
    path = write(tmp_path, "lenet.py", CLEAN_LENET)
    assert oracle.run_model(oracle.load_fixture(path).LeNet(), (3, 32, 32), path).stage == "ok"

    result = flake8(tmp_path, "--select", "CNV", "lenet.py")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_syntax_error_is_flake8s_e999_without_traceback(tmp_path):
    write(tmp_path, "broken.py", "import torch\n\ndef forward(x:\n    return x\n")
    result = flake8(tmp_path, "broken.py")
    assert result.returncode == 1
    assert "broken.py:3:" in result.stdout and "E999 SyntaxError" in result.stdout
    assert "CNV" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def assert_one_line_option_error(result: subprocess.CompletedProcess) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [BAD_VALUE_ERROR]


def test_bad_input_shape_on_the_command_line_is_a_one_line_error(tmp_path):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    assert_one_line_option_error(flake8(tmp_path, "--conv-input-shape", "3,x", "lenet.py"))
    assert_one_line_option_error(flake8(tmp_path, "--conv-input-shape=3,x", "lenet.py"))


@pytest.mark.parametrize("config", ["setup.cfg", "tox.ini", ".flake8"])
@pytest.mark.parametrize("key", ["conv-input-shape", "conv_input_shape"])
def test_bad_input_shape_in_a_config_file_is_a_one_line_error(tmp_path, config, key):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    write(tmp_path, config, f"[flake8]\n{key} = 3,x\n")
    assert_one_line_option_error(flake8(tmp_path, "lenet.py"))


def test_good_input_shape_in_setup_cfg_is_accepted(tmp_path):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    write(tmp_path, "setup.cfg", "[flake8]\nconv-input-shape = 3, 32, 32\n")
    result = flake8(tmp_path, "--select", "CNV", "lenet.py")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("where", ["command line", "setup.cfg"])
def test_a_one_axis_input_shape_gives_token_ids(tmp_path, where):
    """`--conv-input-shape 50`: (N, 50) token ids; the Conv1d fed (N, 50, 32) fails in torch
    (on long zeros) where the plugin says."""
    path = write(tmp_path, "textcnn.py", TEXT_CNN)
    outcome = oracle.run_model(oracle.load_fixture(path).TextCNN(), (50,), path)
    assert oracle.codes_for_error(outcome.error) == {"CNV101"}
    assert outcome.line == TEXT_CNN_CONV_LINE
    args = ["--conv-input-shape", "50"] if where == "command line" else []
    if where == "setup.cfg":
        write(tmp_path, "setup.cfg", "[flake8]\nconv-input-shape = 50\n")
    result = flake8(tmp_path, "--select", "CNV", *args, "textcnn.py")
    assert result.stdout.startswith(f"textcnn.py:{TEXT_CNN_CONV_LINE}:"), result.stdout
    assert "CNV101 convs.0 expects 32 input channels but receives 50" in result.stdout
    assert flake8(tmp_path, "--select", "CNV", "--conv-input-shape", "3,50",
                  "textcnn.py").stdout == ""  # ids of another rank: not assumed to be these


def test_parse_options_stores_the_shape_for_run(monkeypatch):
    monkeypatch.setattr(ConvLintPlugin, "input_shape", None)
    ConvLintPlugin.parse_options(Namespace(conv_input_shape=" 3,32, 32"))
    assert ConvLintPlugin.input_shape == (3, 32, 32)
    ConvLintPlugin.parse_options(Namespace(conv_input_shape=None))
    assert ConvLintPlugin.input_shape is None


@pytest.mark.parametrize("args", [["--version"], ["plain.py"]])
def test_libcst_is_not_imported_for_version_or_a_file_without_torch(tmp_path, args):
    write(tmp_path, "plain.py", "def add(a, b):\n    return a + b\n")
    result = python(tmp_path, IMPORT_PROBE, "-j", "1", *args)
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["code"] == 0, result.stdout + result.stderr
    assert "conv_lint.plugin" in report["modules"]  # the plugin was loaded ...
    assert "libcst" not in report["modules"]  # ... and stayed light
    assert "conv_lint.engine" not in report["modules"]


def test_a_file_mentioning_torch_does_reach_the_engine(tmp_path):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    result = python(tmp_path, IMPORT_PROBE, "-j", "1", "--select", "CNV", "lenet.py")
    report = json.loads(result.stdout.splitlines()[-1])
    assert "conv_lint.engine" in report["modules"], result.stdout + result.stderr


def plugin_for(source: str, filename: str = "model.py") -> ConvLintPlugin:
    return ConvLintPlugin(tree=None, lines=source.splitlines(keepends=True), filename=filename)


def test_run_swallows_an_engine_exception_and_logs_it(monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(conv_lint.engine, "analyse", explode)
    with caplog.at_level(logging.DEBUG, logger="flake8"):
        assert list(plugin_for(CLEAN_LENET).run()) == []
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "flake8.conv_lint"]
    assert (logging.INFO, "conv-lint skipped model.py: internal error: "
            "RuntimeError('engine exploded')") in messages


def test_engine_crash_under_real_flake8_shows_only_with_verbose(tmp_path):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    quiet = python(tmp_path, CRASHING_ENGINE, "-j", "1", "--select", "CNV", "lenet.py")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")

    verbose = python(tmp_path, CRASHING_ENGINE, "-v", "-j", "1", "--select", "CNV", "lenet.py")
    assert verbose.returncode == 0
    assert "conv-lint skipped lenet.py: internal error: RuntimeError('engine exploded')" \
        in verbose.stderr
    assert "Traceback" not in verbose.stderr  # the traceback is for -vv


def test_analysis_error_is_logged_and_findings_still_pass_through(monkeypatch, caplog):
    def analyse(source, filename, input_shape, **kwargs):
        return Analysis(findings=[Finding(3, 4, "CNV101", "conv2 expects 16")],
                        error="Block skipped: dynamic forward")

    monkeypatch.setattr(conv_lint.engine, "analyse", analyse)
    with caplog.at_level(logging.INFO, logger="flake8"):
        found = list(plugin_for(CLEAN_LENET).run())
    # line 1-based and col 0-based, unchanged: flake8 itself adds 1 to the column
    assert found == [(3, 4, "CNV101 conv2 expects 16", ConvLintPlugin)]
    assert "conv-lint skipped model.py: Block skipped: dynamic forward" in caplog.messages


def test_run_passes_lines_filename_and_options_to_the_engine(monkeypatch):
    calls = []

    def analyse(source, filename, input_shape, **kwargs):
        calls.append((source, filename, input_shape, kwargs["options"]))
        return Analysis()

    monkeypatch.setattr(conv_lint.engine, "analyse", analyse)
    monkeypatch.setattr(ConvLintPlugin, "input_shape", (1, 28, 28))
    monkeypatch.setattr(ConvLintPlugin, "options", Options(early_layers=2))
    # the unsaved buffer (lines), not the file on disk, which does not even exist
    assert list(plugin_for(CLEAN_LENET, "unsaved.py").run()) == []
    assert calls == [(CLEAN_LENET, "unsaved.py", (1, 28, 28), Options(early_layers=2))]


def test_file_without_torch_or_nn_never_reaches_the_engine(monkeypatch):
    def analyse(*args, **kwargs):
        raise AssertionError("the prefilter should have skipped this file")

    monkeypatch.setattr(conv_lint.engine, "analyse", analyse)
    assert list(plugin_for("def add(a, b):\n    return a + b\n").run()) == []


# --- findings through the real flake8 (these need the engine) -----------------------------------

def mismatch_location(directory: Path) -> tuple[int, int]:
    """(1-based line, 0-based col) of the call torch's traceback points at in CHANNEL_MISMATCH."""
    frame = torch_failure(write(directory, "oracle_run.py", CHANNEL_MISMATCH), (3, 32, 32))
    col = CHANNEL_MISMATCH.splitlines()[frame.lineno - 1].index(MISMATCH_CALL)
    if getattr(frame, "colno", None) is not None:  # Python >= 3.11 knows the call's column
        assert frame.colno == col
    return frame.lineno, col


def test_channel_mismatch_is_reported_where_torch_raises(tmp_path):
    line, col = mismatch_location(tmp_path)
    write(tmp_path, "bad.py", CHANNEL_MISMATCH)
    result = flake8(tmp_path, "--select", "CNV", "bad.py")
    assert (result.returncode, result.stderr) == (1, "")
    reports = result.stdout.splitlines()
    assert len(reports) == 1, result.stdout
    assert reports[0].startswith(f"bad.py:{line}:{col + 1}: CNV101 "), result.stdout  # 1-based


def test_channel_mismatch_from_stdin_uses_the_buffer(tmp_path):
    line, col = mismatch_location(tmp_path)
    result = flake8(tmp_path, "--select", "CNV", "--stdin-display-name", "buffer.py", "-",
                    stdin=CHANNEL_MISMATCH)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"buffer.py:{line}:{col + 1}: CNV101 "), result.stdout


def test_noqa_silences_the_finding(tmp_path):
    line, _ = mismatch_location(tmp_path)
    write(tmp_path, "noisy.py", CHANNEL_MISMATCH)
    lines = CHANNEL_MISMATCH.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + "  # noqa: CNV101\n"
    write(tmp_path, "quiet.py", "".join(lines))

    assert "CNV101" in flake8(tmp_path, "--select", "CNV", "noisy.py").stdout
    result = flake8(tmp_path, "--select", "CNV", "quiet.py")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# --- the design rules' options (one per field of rules.base.Options) ----------------------------

FIELDS = dataclasses.fields(Options)
by_field = pytest.mark.parametrize("field", FIELDS, ids=[field.name for field in FIELDS])

# Prints the Options the engine receives (as a dict), under the real flake8 and its config files.
OPTIONS_PROBE = """\
import dataclasses, json, sys
import conv_lint.engine
from conv_lint.engine import Analysis

def analyse(source, filename, input_shape, **kwargs):
    print("OPTIONS " + json.dumps(dataclasses.asdict(kwargs["options"])))
    return Analysis()

conv_lint.engine.analyse = analyse
from flake8.main.cli import main
sys.exit(main(sys.argv[1:]))
"""


def a_good_value(field: dataclasses.Field) -> object:
    """A valid value other than the default."""
    if isinstance(field.default, bool):
        return not field.default
    if isinstance(field.default, int):
        return field.default + 1
    for candidate in ("strict", "off", "consistent"):  # string fields: their allowed words
        if candidate != field.default:
            try:
                Options(**{field.name: candidate})
                return candidate
            except ValueError:
                continue
    raise AssertionError(f"no known valid non-default value for {field.name}: extend this test")


def a_bad_value(field: dataclasses.Field) -> str:
    return "not-a-value" if isinstance(field.default, (bool, int, str)) else "@"


def test_every_options_field_is_a_flake8_option(tmp_path):
    result = flake8(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for field in FIELDS:
        assert option_name(field.name) in result.stdout
        assert option_name(field.name) == "--conv-" + field.name.replace("_", "-")


@by_field
def test_a_bad_value_is_rejected_by_options_itself(field):
    # the plugin relies on Options' validation: every field must refuse nonsense
    with pytest.raises(ValueError):
        parse_rule_options({field.name: a_bad_value(field)})


@by_field
def test_bad_rule_option_on_the_command_line_is_a_one_line_error(tmp_path, field):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    name = option_name(field.name)
    result = flake8(tmp_path, f"{name}={a_bad_value(field)}", "lenet.py")
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"flake8: error: {name}: ") and "not-a-value" in line


CONFIG_CASES = [(field, "setup.cfg") for field in FIELDS] + [
    (FIELDS[0], config) for config in ("tox.ini", ".flake8")]


@pytest.mark.parametrize("field, config", CONFIG_CASES,
                         ids=[f"{field.name}-{config}" for field, config in CONFIG_CASES])
def test_bad_rule_option_in_a_config_file_is_a_one_line_error(tmp_path, field, config):
    write(tmp_path, "lenet.py", CLEAN_LENET)
    key = option_name(field.name)[2:]
    write(tmp_path, config, f"[flake8]\n{key} = {a_bad_value(field)}\n")
    result = flake8(tmp_path, "lenet.py")
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"flake8: error: --{key}: ")


def probe_options(directory: Path, *args: str) -> dict:
    write(directory, "lenet.py", CLEAN_LENET)
    result = python(directory, OPTIONS_PROBE, "-j", "1", "--select", "CNV", *args, "lenet.py")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    (line,) = [text for text in result.stdout.splitlines() if text.startswith("OPTIONS ")]
    return json.loads(line[len("OPTIONS "):])


def test_without_options_the_engine_gets_the_defaults(tmp_path):
    assert probe_options(tmp_path) == dataclasses.asdict(Options())


@by_field
def test_rule_option_reaches_the_engine_from_the_command_line(tmp_path, field):
    value = a_good_value(field)
    received = probe_options(tmp_path, f"{option_name(field.name)}={value}")
    assert received == dataclasses.asdict(dataclasses.replace(Options(), **{field.name: value}))


@by_field
@pytest.mark.parametrize("dashes", [True, False], ids=["dashes", "underscores"])
def test_rule_option_reaches_the_engine_from_setup_cfg(tmp_path, field, dashes):
    value = a_good_value(field)
    key = f"conv_{field.name}"
    write(tmp_path, "setup.cfg",
          f"[flake8]\n{key.replace('_', '-') if dashes else key} = {str(value).lower()}\n")
    received = probe_options(tmp_path)
    assert received == dataclasses.asdict(dataclasses.replace(Options(), **{field.name: value}))


def test_command_line_wins_over_setup_cfg(tmp_path):
    write(tmp_path, "setup.cfg", "[flake8]\nconv-early-layers = 5\n")
    assert probe_options(tmp_path, "--conv-early-layers=2")["early_layers"] == 2


def test_parse_rule_options_converts_and_names_the_option():
    assert parse_rule_options({}) == Options()
    assert parse_rule_options({"early_layers": " 2 ", "padding_policy": "strict"}) == Options(
        padding_policy="strict", early_layers=2)
    with pytest.raises(ValueError, match=r"^--conv-early-layers: must be an integer, got '2\.5'$"):
        parse_rule_options({"early_layers": "2.5"})
    with pytest.raises(ValueError, match=r"^--conv-max-early-stride: "):
        parse_rule_options({"max_early_stride": "0"})


# --- which design warnings flake8 shows by default ------------------------------------------------

def test_off_by_default_codes_are_design_codes():
    assert set(ConvLintPlugin.default_ignore) <= {rule.code for rule in RULES}


def codes_by_file(result: subprocess.CompletedProcess) -> dict[str, set[str]]:
    assert result.returncode in (0, 1) and result.stderr == "", result.stderr
    found: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        path, _, message = line.partition(": ")
        if message.startswith("CNV"):
            found.setdefault(path.split(":")[0], set()).add(message.split()[0])
    return found


def test_design_warnings_show_by_default_unless_off_and_selecting_turns_them_on(tmp_path):
    files = {}
    for rule in RULES:  # each rule's first INVALID example: it warns with the default options
        assert "# options:" not in rule.INVALID[0], f"{rule.code}: INVALID[0] needs options"
        files[rule.code] = write(tmp_path, f"{rule.code.lower()}.py", rule.INVALID[0]).name
    off = set(ConvLintPlugin.default_ignore)

    def shown(*args: str) -> set[str]:
        found = codes_by_file(flake8(tmp_path, *args, *files.values()))
        return {code for code, name in files.items() if code in found.get(name, set())}

    assert shown() == set(files) - off
    assert shown("--select", "CNV") == set(files)
    assert shown("--extend-select", ",".join(sorted(off)) or "CNV2") == set(files)
    assert shown("--extend-ignore", "CNV2") == set()


# --- options change what the real rules report -------------------------------------------------

def first_example(code: str, kind: str) -> str:
    (rule,) = [rule for rule in RULES if rule.code == code]
    return getattr(rule, kind)[0]


def cnv_lines(result: subprocess.CompletedProcess) -> list[tuple[int, str]]:
    assert result.returncode in (0, 1) and result.stderr == "", result.stderr
    return [(int(line.split(":")[1]), line.split(": ", 1)[1].split()[0])
            for line in result.stdout.splitlines()]


def test_padding_policy_from_setup_cfg_changes_the_findings(tmp_path):
    # LeNet's valid convs on purpose: quiet by default, every one of them flagged when strict
    lenet = first_example("CNV201", "VALID")
    write(tmp_path, "lenet.py", lenet)
    conv_lines = [number for number, text in enumerate(lenet.splitlines(), start=1)
                  if "nn.Conv2d(" in text]
    assert cnv_lines(flake8(tmp_path, "--select", "CNV", "lenet.py")) == []
    write(tmp_path, "setup.cfg", "[flake8]\nconv-padding-policy = strict\n")
    assert cnv_lines(flake8(tmp_path, "--select", "CNV", "lenet.py")) == [
        (line, "CNV201") for line in conv_lines]

    write(tmp_path, "setup.cfg", "[flake8]\nconv-padding-policy = off\n")
    write(tmp_path, "mixed.py", first_example("CNV201", "INVALID"))
    assert cnv_lines(flake8(tmp_path, "--select", "CNV", "mixed.py")) == []
