"""Differential tests: random stacks of torch layers, judged by conv-lint and by torch.

Each case (see ``generate.py``) is a model file. torch builds it and runs it on zeros of the
case's input shape, with hooks recording every module's output; conv-lint analyses the same
file. With the input shape written on the class (concrete), conv-lint must give torch's shape
for every layer it gives a shape for, know every layer torch runs, and report a CNV1xx error
exactly where torch fails (its line, and a code that means torch's error), and nowhere when
torch runs. Without it (symbolic), every claim conv-lint makes must hold on the concrete input
torch ran: each symbolic size evaluated at that input is torch's, and each CNV1xx error is a
failure of torch.

``CONV_LINT_EXAMPLES`` sets the number of cases across these tests (default 300, for CI; a
nightly run uses thousands), ``CONV_LINT_SEED`` another fixed set of them (see generate.py).
"""

from __future__ import annotations

import math
import re
import tempfile
import warnings
from collections import Counter
from pathlib import Path

from hypothesis import given, settings

import generate
import oracle
from conv_lint.engine import analyse
from test_fixtures import compare_rows, is_concrete

EXAMPLES, SETTINGS, seeded = generate.EXAMPLES, generate.SETTINGS, generate.seeded
_SYMBOL = re.compile(r"\b[A-Z]\b")


# ---- one case, both ways ----------------------------------------------------------------------
def run_torch(case: generate.Case, path: Path) -> tuple:
    """(torch's outcome, the module calls it completed) for the model file at ``path``."""
    module = oracle.load_fixture(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # padding='same' with an even kernel, and the like
        try:
            model = oracle.build(module, generate.CLASS)
        except Exception as error:  # torch's constructors raise ValueError, RuntimeError...
            return oracle.Outcome("construct", error, oracle.deepest_line_in(error, path)), []
        calls = oracle.trace_calls(model, case.shape, partial=True)
        return oracle.run_model(model, case.shape, path), calls


def disagreements(case: generate.Case) -> list:
    """Everything conv-lint says about ``case`` that torch contradicts ([] when they agree)."""
    source = case.source()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.py"
        path.write_text(source)
        outcome, calls = run_torch(case, path)
        analysis = analyse(source, str(path))
    problems = [f"analysis error: {analysis.error}"] if analysis.error else []
    problems += _error_disagreements(case, analysis, outcome)
    tables = [table for table in analysis.models if table.cls == generate.CLASS]
    if outcome.stage != "construct" and not tables:
        problems.append("conv-lint gives no table for the model")
    elif tables and case.directive:
        problems += _concrete_disagreements(tables[0], outcome, calls)
    elif tables:
        problems += _symbolic_disagreements(case, tables[0], calls)
    if problems:
        problems += _context(source, outcome, analysis)
    return problems


def _error_disagreements(case, analysis, outcome) -> list:
    errors = [(f.line, f.code) for f in analysis.findings if oracle.is_error_code(f.code)]
    if outcome.error is None:
        return [f"conv-lint reports {errors} but torch runs"] if errors else []
    meaning = oracle.codes_for_error(outcome.error)
    if not meaning:
        return [f"unrecognised torch error, add it to oracle.TORCH_ERRORS: {outcome.describe()}"]
    expected = f"torch fails on line {outcome.line} ({'/'.join(sorted(meaning))})"
    if case.directive or outcome.stage == "construct":  # conv-lint knows everything torch does
        if [(line, code in meaning) for line, code in errors] != [(outcome.line, True)]:
            return [f"{expected}; conv-lint reports {errors}"]
        return []
    problems = []
    for line, code in errors:  # symbolic: a claim for every input size must hold on this one
        if line == outcome.line and code in meaning:
            continue
        if meaning == {"CNV105"} and line >= outcome.line:
            continue  # this input is too small for an earlier layer: torch stops there first
        if line > outcome.line:
            continue  # torch stopped on an earlier line: this input cannot test the claim
        problems.append(f"{expected}; conv-lint claims {code} on line {line}")
    return problems


def _concrete_disagreements(table, outcome, calls) -> list:
    if outcome.error is None:
        return compare_rows(generate.CLASS, table.layers, calls, set())
    completed = {(call.name, call.occurrence): call for call in calls if call.shape is not None}
    problems, occurrences = [], Counter()
    for row in table.layers:
        call = completed.get((row.name, occurrences[row.name]))
        occurrences[row.name] += 1
        if call is not None and is_concrete(row.output_shape) \
                and list(row.output_shape) != list(call.shape):
            problems.append(f"{row.name}: shape {row.output_shape}, torch {list(call.shape)}")
    return problems


def _symbolic_disagreements(case, table, calls) -> list:
    """Each size conv-lint gives, evaluated at the input torch ran, is torch's size."""
    env, problems = {}, []
    for stated, actual in zip(table.input_shape or [], case.shape):
        if isinstance(stated, str):
            env[stated] = actual
        elif stated is not None and stated != actual:
            problems.append(f"input shape {table.input_shape}, torch ran {case.shape}")
    completed = {(call.name, call.occurrence): call for call in calls if call.shape is not None}
    occurrences = Counter()
    for row in table.layers:
        call = completed.get((row.name, occurrences[row.name]))
        occurrences[row.name] += 1
        if call is None or row.output_shape is None:
            continue
        got = [evaluate(size, env) for size in row.output_shape]
        if len(got) != len(call.shape) or any(
                size is not None and size != real for size, real in zip(got, call.shape)):
            problems.append(f"{row.name}: shape {row.output_shape} = {got} at {env}, "
                            f"torch {list(call.shape)}")
    return problems


_CLOSED_FORM = re.compile(r"^[A-Za-z0-9 +\-*/()]+$")


def evaluate(size, env: dict):
    """A size of explain's table at concrete symbol values: ``floor((H - 12)/4)`` -> int."""
    if size is None or isinstance(size, int):
        return size
    if not _CLOSED_FORM.match(size) or set(_SYMBOL.findall(size)) - set(env):
        return f"<cannot evaluate {size!r}>"
    # explain writes every division as floor(a/m): as floor division it is exact on ints
    return eval(size.replace("/", "//"), {"__builtins__": {}, "floor": math.floor}, dict(env))


def _context(source, outcome, analysis) -> list:
    findings = [f"{f.line}:{f.code} {f.message}" for f in analysis.findings]
    rows = [f"{row.name} {row.type} {row.output_shape}" for table in analysis.models
            for row in table.layers]
    return [f"torch: {outcome.describe()}", f"conv-lint findings: {findings}",
            f"conv-lint rows: {rows}", "source:\n" + source]


def check(case: generate.Case) -> None:
    problems = disagreements(case)
    assert not problems, "conv-lint disagrees with torch:\n  " + "\n  ".join(problems)


# ---- the generated cases ------------------------------------------------------------------------
@seeded
@settings(SETTINGS, max_examples=max(1, EXAMPLES * 2 // 3))
@given(generate.cases(directive=True))
def test_concrete_shapes_and_errors_equal_torch(case):
    check(case)


@seeded
@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(generate.cases(directive=False))
def test_symbolic_claims_hold_on_a_concrete_input(case):
    check(case)


# ---- cases the generator found, kept as regressions -------------------------------------------
def _case(shape, *layers, style="sequential", directive=True) -> generate.Case:
    steps = tuple(generate.Step(text) for text in layers)
    return generate.Case(shape, steps, style, directive)


def test_transposed_conv_channels_are_checked_before_output_padding():
    # torch raises "expected input[2, 2, 8] to have 1 channels", not the output_padding error
    check(_case((2, 8), "nn.ConvTranspose1d(1, 1, kernel_size=1, stride=(1,), "
                        "output_padding=(1,))"))
    check(_case((2, 8), "nn.ConvTranspose1d(2, 1, kernel_size=1)",
                "nn.ConvTranspose1d(2, 1, kernel_size=1, output_padding=1)", style="layers"))


def test_avg_pool3d_kernel_over_the_unpadded_input():
    check(_case((1, 1, 2, 1), "nn.AvgPool3d(kernel_size=(1, 1, 2), stride=(2, 1, 1), "
                              "count_include_pad=False)"))


def test_reflect_padding_as_large_as_the_input():
    check(_case((1, 4, 4, 4), "nn.Conv3d(1, 1, kernel_size=(1, 1, 2), stride=(2, 1, 1))",
                "nn.Conv3d(1, 1, kernel_size=(1, 1, 2), padding=(2, 0, 0), "
                "padding_mode='reflect')"))


def test_max_pool1d_padding_over_half_the_kernel():
    check(_case((1, 8), "nn.MaxPool1d(kernel_size=(1,), padding=(1,))", directive=False))


def test_circular_padding_wrapping_more_than_once():
    check(_case((1, 2), "nn.Conv1d(1, 1, kernel_size=1, padding=3, padding_mode='circular')"))


def test_negative_linear_features_fail_at_construction():
    check(_case((1, 6, 6), "nn.Flatten()", "nn.Linear(-3, 1)"))
    check(_case((1, 6, 6), "nn.Flatten()", "nn.Linear(36, -1)", style="layers"))


def test_area_downsampling_may_empty_a_symbolic_axis():
    # W=1 gives 0 columns, and Linear(0, 1) runs on them: no claim "for every input size"
    check(_case((1, 4, 4, 3), "nn.Conv3d(1, 1, kernel_size=(1, 1, 2), stride=(1, 1, 3))",
                "nn.Upsample(scale_factor=(2, 2, 0.5), mode='area')", "nn.Flatten()",
                "nn.Linear(0, 1)", directive=False))


def test_no_claim_after_a_sequence_layer_that_may_fail():
    # the cell's features are symbolic: a wrong Linear after it is no claim for every input
    steps = (generate.Step("nn.Conv2d(1, 1, kernel_size=(1, 2), stride=(1, 2), bias=False)"),
             generate.Step("nn.Flatten()"),
             generate.Step("nn.LSTMCell(19, 1)", call="{layer}(x)[0]"),
             generate.Step("nn.Linear(2, 1)"))
    check(generate.Case((1, 6, 6), steps, "sequential", directive=False))
