"""The fixture models, judged three ways against torch.

1. torch labels each fixture: buggy files fail where their `# expect: CNV1xx` comments say, with
   an error that means the expected code; correct files run. A design warning (`# expect: CNV2xx`)
   is about a model that runs: a file whose expectations are all CNV2xx is a correct model, and
   each CNV2xx line is a line torch executes while building or running it.
2. flake8 (with the CNV plugin) reports exactly the expected (line, code) pairs, CNV1xx and CNV2xx.
3. `analyse` explains the correct models (design warnings or not) with the shapes and parameter
   counts torch computes.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Optional

import pytest

import oracle
from conv_lint.codes import CODES
from conv_lint.rules import RULES

FIXTURES = oracle.fixture_paths()
# torch must fail on a BUGGY file (it expects CNV1xx codes) and run a CORRECT one (it expects
# nothing, or design warnings only); CLEAN files expect nothing at all.
BUGGY = [path for path in FIXTURES if oracle.error_expectations(path)]
CORRECT = [path for path in FIXTURES if not oracle.error_expectations(path)]
CLEAN = [path for path in FIXTURES if not oracle.parse_expectations(path)]
ALLOWED_IMPORTS = {"torch", "einops", "collections", "math", "typing", "__future__"}
FLAKE8_LINE = re.compile(r"^(?P<line>\d+):\d+: (?P<message>(?P<code>[A-Z]+\d+) .*)$")


def by_name(paths):
    return pytest.mark.parametrize("path", paths, ids=[path.name for path in paths])


def source_line(path: Path, line: int) -> str:
    lines = path.read_text().splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else "?"


def fixture_roots(path: Path) -> list[oracle.Root]:
    roots = oracle.find_root_classes(path)
    assert roots, f"{path.name}: no root class (an input-shape comment above a class line)"
    return roots


# --- the fixture set itself -----------------------------------------------------------------------
def test_fixture_set_covers_every_code_and_enough_correct_models():
    expected = Counter()
    for path in FIXTURES:
        for codes in oracle.parse_expectations(path).values():
            expected.update(codes)
    # every error code, and every design rule's code once the rule is written (has examples;
    # test_rule_examples.py requires a written rule for every CNV2xx code)
    reportable = {code for code in CODES if oracle.is_error_code(code)}
    reportable |= {rule.code for rule in RULES if rule.INVALID}
    missing = sorted(code for code in reportable if not expected[code])
    assert not missing, f"no fixture expects {missing}"
    assert len(CLEAN) >= 12, f"only {len(CLEAN)} fixtures expect no finding at all"
    unknown = sorted(set(expected) - set(CODES))
    assert not unknown, f"fixtures expect codes that do not exist: {unknown}"


@by_name(FIXTURES)
def test_fixture_is_a_plain_model_file(path):
    """Imports only torch (and a little stdlib); nothing runs at import but definitions."""
    tree = ast.parse(path.read_text())
    plain = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        assert isinstance(node, plain), f"{path.name}:{node.lineno}: statement runs at import"
        if isinstance(node, ast.Import):
            tops = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            tops = {(node.module or "").split(".")[0]}
        else:
            continue
        assert tops <= ALLOWED_IMPORTS, f"{path.name}:{node.lineno}: imports {tops}"


# --- 1. torch labels the fixture ------------------------------------------------------------------
@by_name(FIXTURES)
def test_fixture_is_labelled_right_by_torch(path):
    expectations = oracle.error_expectations(path)
    roots = fixture_roots(path)
    module = oracle.load_fixture(path)
    outcomes = {root: oracle.run_root(module, root, path) for root in roots}

    if not expectations:
        for root in roots:
            outcome = outcomes[root]
            assert outcome.error is None, (
                f"{path.name}: {root.cls} has no `# expect: CNV1xx` but torch fails: "
                f"{outcome.describe()} -> `{source_line(path, outcome.line or 0)}`")
            assert outcome.batch == oracle.BATCH, (
                f"{path.name}: {root.cls} returns batch {outcome.batch} for a batch of "
                f"{oracle.BATCH} (samples regrouped?)")
        return

    confirmed: set[int] = set()
    for root in roots:
        outcome = outcomes[root]
        where = f"{path.name}: {root.cls}({', '.join(map(repr, root.args))}) on {root.shape}"
        if outcome.error is None:
            assert outcome.batch != oracle.BATCH, (
                f"{where} runs under torch, yet the file expects "
                f"{format_expectations(expectations)}")
            views = [line for line, codes in expectations.items()
                     if "CNV104" in codes and line not in confirmed]
            assert len(views) == 1, (
                f"{where}: output batch {outcome.batch} (regrouped by a view), needs exactly one "
                f"unconfirmed CNV104 line, found {views}")
            assert "view(" in source_line(path, views[0]) or "reshape(" in source_line(
                path, views[0]), f"{where}: CNV104 line {views[0]} has no view/reshape call"
            confirmed.add(views[0])
            continue
        confirmed.add(check_failure(path, where, outcome, expectations))
        if not root.is_directive:
            check_fails_at_every_size(path, module, root, outcome)

    unconfirmed = sorted(set(expectations) - confirmed)
    assert not unconfirmed, (
        f"{path.name}: torch never fails on expected line(s) "
        + "; ".join(f"{line} `{source_line(path, line)}`" for line in unconfirmed)
        + " (one root class per bug: each root must fail on its own expected line)")


@by_name([path for path in FIXTURES if oracle.design_expectations(path)])
def test_design_warnings_sit_on_lines_torch_runs(path):
    """A CNV2xx line is a layer's constructor or a call in forward: torch executes it."""
    module = oracle.load_fixture(path)
    executed = set().union(*(oracle.executed_lines(module, root, path)
                             for root in fixture_roots(path)))
    idle = sorted(set(oracle.design_expectations(path)) - executed)
    assert not idle, f"{path.name}: torch never runs the CNV2xx line(s) " + "; ".join(
        f"{line} `{source_line(path, line)}`" for line in idle)


def check_failure(path, where, outcome, expectations) -> int:
    """torch failed: on an expected line, with an error that means one of its codes."""
    assert outcome.line in expectations, (
        f"{where}: torch fails on line {outcome.line} `{source_line(path, outcome.line or 0)}`, "
        f"which has no `# expect` (expected: {format_expectations(expectations)}); "
        f"torch: {outcome.describe()}")
    meaning = oracle.codes_for_error(outcome.error)
    assert meaning, (f"{where}: unrecognised torch error, add it to oracle.TORCH_ERRORS: "
                     f"{outcome.describe()}")
    assert meaning & expectations[outcome.line], (
        f"{where}: line {outcome.line} expects {sorted(expectations[outcome.line])} but torch's "
        f"error means {sorted(meaning)}: {outcome.describe()}")
    return outcome.line


def check_fails_at_every_size(path, module, root, reference):
    """An `# oracle:` fixture claims its bug for every input size: sweep sizes under torch."""
    if reference.stage == "construct":
        return  # construction does not see the input: it fails for every size
    model = oracle.build(module, root.cls, root.args)
    for shape in oracle.sweep_shapes(root.shape):
        outcome = oracle.run_model(model, shape, path)
        where = f"{path.name}: {root.cls} on {shape}"
        if outcome.error is None:
            assert outcome.batch != oracle.BATCH, f"{where}: runs, so the bug is not size-free"
            continue
        if not oracle.is_map_too_small(outcome.error):
            assert outcome.line == reference.line, (
                f"{where}: fails on line {outcome.line}, not on line {reference.line} as on "
                f"{root.shape}: {outcome.describe()}")


def format_expectations(expectations) -> str:
    return ", ".join(f"{line}: {'/'.join(sorted(codes))}"
                     for line, codes in sorted(expectations.items()))


# --- 2. flake8 reports exactly what is expected ---------------------------------------------------
def run_flake8(paths: list[Path], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "CNV", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


@functools.lru_cache(maxsize=None)
def flake8_on_all_fixtures() -> Optional[subprocess.CompletedProcess]:
    """One flake8 run over every fixture (fast); None if it crashed, then files run alone."""
    with tempfile.TemporaryDirectory() as cwd:  # no setup.cfg of the repo applies there
        result = run_flake8(FIXTURES, cwd)
    return result if result.returncode in (0, 1) and not result.stderr.strip() else None


@by_name(FIXTURES)
def test_flake8_reports_exactly_the_expected_codes(path, tmp_path):
    result = flake8_on_all_fixtures() or run_flake8([path], str(tmp_path))
    assert result.returncode in (0, 1) and not result.stderr.strip(), (
        f"{path.name}: flake8 exited {result.returncode}:\n{result.stderr[-3000:]}")
    reported: dict[tuple[int, str], str] = {}
    prefix = f"{path}:"  # flake8 prints each path as it was given
    for text in result.stdout.splitlines():
        if not text.startswith(prefix):
            continue  # another fixture's finding
        match = FLAKE8_LINE.match(text[len(prefix):])
        assert match, f"{path.name}: unexpected flake8 output line: {text!r}"
        reported[(int(match["line"]), match["code"])] = match["message"]
    expected = {(line, code) for line, codes in oracle.parse_expectations(path).items()
                for code in codes}
    missing = sorted(expected - set(reported))
    extra = sorted(set(reported) - expected)
    assert not missing and not extra, "\n".join(
        [f"{path.name}: flake8 disagrees with the `# expect` comments"]
        + [f"  missing  line {line} {code}: `{source_line(path, line)}`" for line, code in missing]
        + [f"  extra    line {line} {reported[(line, code)]}" for line, code in extra])


# --- 3. explain's table equals torch's, layer by layer --------------------------------------------
@by_name(CORRECT)
def test_explain_shapes_equal_torch(path):
    from conv_lint.engine import analyse

    source = path.read_text()
    module = oracle.load_fixture(path)
    dynamic = oracle.dynamic_classes(path)
    problems: list[str] = []
    for root in fixture_roots(path):
        model = oracle.build(module, root.cls, root.args)
        calls = oracle.trace_calls(model, root.shape)
        analysis = analyse(source, str(path), root.shape)
        tables = [table for table in analysis.models if table.cls == root.cls]
        if not tables:
            problems.append(f"{root.cls}: analyse returned no table (tables: "
                            f"{[t.cls for t in analysis.models]}, error: {analysis.error})")
            continue
        table = tables[0]
        if table.input_shape is not None and list(table.input_shape) != list(root.shape):
            problems.append(f"{root.cls}: input shape {table.input_shape}, not {list(root.shape)}")
        problems += compare_rows(root.cls, table.layers, calls,
                                 oracle.excused_names(model, dynamic),
                                 oracle.bindings(module, root) if root.args else {})
    assert not problems, f"{path.name}: explain disagrees with torch\n  " + "\n  ".join(problems)


@by_name(BUGGY)
def test_explain_shapes_equal_torch_up_to_the_error(path):
    """On a broken model, every shape explain gives for a call torch completed is torch's."""
    from conv_lint.engine import analyse

    source = path.read_text()
    module = oracle.load_fixture(path)
    problems: list[str] = []
    for root in fixture_roots(path):
        try:
            model = oracle.build(module, root.cls, root.args)
        except Exception:
            continue  # fails at construction: torch completed no call to compare with
        completed = {(call.name, call.occurrence): call
                     for call in oracle.trace_calls(model, root.shape, partial=True)
                     if call.shape is not None}
        tables = [t for t in analyse(source, str(path), root.shape).models if t.cls == root.cls]
        names = oracle.bindings(module, root) if root.args else {}
        occurrences: Counter = Counter()
        for row in tables[0].layers if tables else []:
            call = completed.get((row.name, occurrences[row.name]))
            occurrences[row.name] += 1
            shape = oracle.concrete_shape(row.output_shape, names)
            if call is not None and is_concrete(shape) and list(shape) != list(call.shape):
                problems.append(f"{root.cls}{root.args}: {row.name}: shape {row.output_shape}, "
                                f"torch {list(call.shape)}")
    assert not problems, f"{path.name}: explain disagrees with torch\n  " + "\n  ".join(problems)


def is_concrete(shape) -> bool:
    return isinstance(shape, (list, tuple)) and all(type(size) is int for size in shape)


def compare_rows(cls, rows, calls, excused, names=None) -> list[str]:
    """Match the k-th row of a name to torch's k-th call of that module and compare.

    ``names``: the values torch built the root with, for rows sized by the linter's symbols
    (their parameter counts stay unknown: polynomials of the symbols are not counted)."""
    position = {(call.name, call.occurrence): index for index, call in enumerate(calls)}
    occurrences: Counter = Counter()
    covered: set[int] = set()
    order: list[int] = []
    problems = []
    for row in rows:
        occurrence = occurrences[row.name]
        occurrences[row.name] += 1
        label = f"{cls}: {row.name or '<root>'} (call {occurrence + 1}, line {row.line})"
        index = position.get((row.name, occurrence))
        if index is None:
            if row.output_shape is not None:
                problems.append(f"{label}: explain shows {row.type} {row.output_shape}, "
                                f"torch never made this call")
            continue
        call = calls[index]
        order.append(index)
        if row.type != call.type:
            problems.append(f"{label}: type {row.type}, torch {call.type}")
        shape = oracle.concrete_shape(row.output_shape, names or {})
        if is_concrete(shape):
            covered.add(index)
            if call.shape is not None and list(shape) != list(call.shape):
                problems.append(f"{label}: shape {row.output_shape} = {list(shape)}, "
                                f"torch {list(call.shape)}")
        if row.params is None:
            if call.name not in excused and not names:
                problems.append(f"{label}: params unknown, torch {call.params}")
        elif row.params != call.params:
            problems.append(f"{label}: params {row.params}, torch {call.params}")
    for index, call in enumerate(calls):
        if index not in covered and call.name not in excused:
            problems.append(f"{cls}: torch calls {call.name} ({call.type}, call "
                            f"{call.occurrence + 1}) -> {list(call.shape or [])}, explain has "
                            f"no row with a known shape for it")
    if order != sorted(order):
        problems.append(f"{cls}: rows are not in torch's execution order: "
                        f"{[calls[i].name for i in order]}")
    return problems


# --- the oracle's own helpers ---------------------------------------------------------------------
def test_oracle_reads_annotations(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(
        "import torch.nn as nn\n"
        "# conv-lint: input-shape=3, 32,32\n"
        "class A(nn.Module):  # oracle: dynamic\n"
        "    pass\n"
        "# oracle: input-shape=1,100\n"
        "# a note between the shape and the class\n"
        "class B(nn.Module):\n"
        "    x = 1  # expect: CNV101, CNV105\n"
        "class C(nn.Module):  # expect: CNV111\n"
        "    pass\n")
    assert oracle.find_roots(path) == [("A", (3, 32, 32), True), ("B", (1, 100), False)]
    assert oracle.parse_expectations(path) == {8: {"CNV101", "CNV105"}, 9: {"CNV111"}}
    assert oracle.dynamic_classes(path) == {"A"}


def test_oracle_splits_errors_from_design_warnings(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("a = 1  # expect: CNV101, CNV201\n"
                    "b = 2  # expect: CNV205\n"
                    "c = 3  # expect: CNV111\n")
    assert oracle.error_expectations(path) == {1: {"CNV101"}, 3: {"CNV111"}}
    assert oracle.design_expectations(path) == {1: {"CNV201"}, 2: {"CNV205"}}


def test_oracle_records_the_lines_torch_runs(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(
        "import torch.nn as nn\n"                        # 1
        "# oracle: input-shape=3,8,8\n"                  # 2
        "class Net(nn.Module):\n"                        # 3
        "    def __init__(self):\n"                      # 4
        "        super().__init__()\n"                   # 5
        "        self.body = nn.Sequential(\n"           # 6
        "            nn.Conv2d(3, 4, 3),\n"              # 7
        "        )\n"                                    # 8
        "    def forward(self, x):\n"                    # 9
        "        if x.dim() == 5:\n"                     # 10
        "            x = x.flatten(1)\n"                 # 11
        "        return self.body(x)\n")                 # 12
    (root,) = oracle.find_root_classes(path)
    lines = oracle.executed_lines(oracle.load_fixture(path), root, path)
    assert {5, 6, 7, 10, 12} <= lines
    assert 11 not in lines and 2 not in lines


def test_every_code_has_a_torch_error_meaning_it():
    meant = set().union(*(codes for _, codes in oracle.TORCH_ERRORS))
    assert {code for code in CODES if code.startswith("CNV1")} <= meant


def test_row_comparison_accepts_torch_own_table_and_flags_each_difference():
    from conv_lint.engine import LayerRow

    path = oracle.FIXTURES_DIR / "resnet_basic_ok.py"
    root = fixture_roots(path)[0]
    model = oracle.build(oracle.load_fixture(path), root.cls)
    calls = oracle.trace_calls(model, root.shape)
    assert [call.name for call in calls[:4]] == ["conv1", "bn1", "layer1", "layer1.conv1"]
    rows = [LayerRow(call.name, call.type, 0, list(call.shape), call.params) for call in calls]
    assert compare_rows(root.cls, rows, calls, set()) == []

    wrong_shape = [LayerRow(r.name, r.type, 0, [1] + r.output_shape[1:], r.params) for r in rows]
    assert len(compare_rows(root.cls, wrong_shape, calls, set())) == len(rows)
    unknown = [LayerRow(r.name, r.type, 0, None, None) for r in rows]
    assert len(compare_rows(root.cls, unknown, calls, set())) == 2 * len(rows)
    assert compare_rows(root.cls, unknown, calls, {call.name for call in calls}) == []
    swapped = [rows[1], rows[0]] + rows[2:]
    assert any("order" in problem for problem in compare_rows(root.cls, swapped, calls, set()))
