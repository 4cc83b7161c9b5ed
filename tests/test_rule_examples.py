"""Every design rule's own examples (``VALID`` / ``INVALID``), judged by the engine and by torch.

An example is a complete little model file. The model root has an input-shape comment above its
class (``# conv-lint: input-shape=...``, or ``# oracle: input-shape=...`` to run torch on a model
the linter sees size-free). An INVALID example marks each warning with ``# expect: CNV2xx`` at
the end of its line. An example that needs non-default options says so on a comment line of
its own, with the flake8 options: ``# options: --conv-padding-policy=strict``.

- INVALID: ``engine.analyse`` reports exactly the ``# expect`` (line, code) pairs;
- VALID: ``engine.analyse`` reports nothing;
- both: the model runs in torch (a design warning is about a model that runs), and every
  ``# expect`` line is one torch executes.
"""

from __future__ import annotations

import oracle
import pytest

from conv_lint.codes import CODES
from conv_lint.engine import analyse
from conv_lint.rules import RULES
from conv_lint.rules.base import Options

EXAMPLES = [(rule.code, kind, index, source)
            for rule in RULES
            for kind, examples in (("INVALID", rule.INVALID), ("VALID", rule.VALID))
            for index, source in enumerate(examples)]


def by_example(examples):
    return pytest.mark.parametrize(
        "code, kind, index, source", examples,
        ids=[f"{code}-{kind}-{index}" for code, kind, index, _ in examples])


def findings(source: str) -> set[tuple[int, str]]:
    analysis = analyse(source, "example.py", options=oracle.options_in(source))
    assert analysis.error is None, f"the engine skipped (part of) the example: {analysis.error}"
    return {(finding.line, finding.code) for finding in analysis.findings}


def numbered(source: str) -> str:
    return "\n".join(f"{n:3} {text}" for n, text in enumerate(source.splitlines(), start=1))


def test_every_design_code_has_a_rule_with_examples():
    rules = {rule.code: rule for rule in RULES}
    design = [code for code in CODES if not oracle.is_error_code(code)]
    assert sorted(rules) == sorted(design), "one registered rule per CNV2xx code"
    for code in design:
        assert rules[code].INVALID and rules[code].VALID, f"{code}: no VALID or INVALID example"
        assert (type(rules[code]).__doc__ or "").strip(), f"{code}: rule class has no docstring"


@by_example([example for example in EXAMPLES if example[1] == "INVALID"])
def test_invalid_example_warns_exactly_where_it_expects(code, kind, index, source):
    expected = {(line, expected_code) for line, codes in oracle.expectations_in(source).items()
                for expected_code in codes}
    assert (code in {expected_code for _, expected_code in expected}), (
        f"{code} INVALID[{index}] has no `# expect: {code}` line:\n{numbered(source)}")
    reported = findings(source)
    assert reported == expected, (
        f"{code} INVALID[{index}]: missing {sorted(expected - reported)}, "
        f"extra {sorted(reported - expected)}\n{numbered(source)}")


@by_example([example for example in EXAMPLES if example[1] == "VALID"])
def test_valid_example_is_quiet(code, kind, index, source):
    assert not oracle.expectations_in(source), f"{code} VALID[{index}] has `# expect` lines"
    reported = findings(source)
    assert not reported, f"{code} VALID[{index}] reports {sorted(reported)}\n{numbered(source)}"


@by_example(EXAMPLES)
def test_example_runs_in_torch(code, kind, index, source, tmp_path):
    path = tmp_path / f"{code}_{kind}_{index}.py"
    path.write_text(source)
    roots = oracle.find_root_classes(path)
    assert roots, f"{code} {kind}[{index}]: no input-shape comment above a class line"
    module = oracle.load_fixture(path)
    for root in roots:
        outcome = oracle.run_root(module, root, path)
        assert outcome.error is None and outcome.batch == oracle.BATCH, (
            f"{code} {kind}[{index}]: {root.cls} on {root.shape}: {outcome.describe()}")
    executed = set().union(*(oracle.executed_lines(module, root, path) for root in roots))
    idle = sorted(set(oracle.expectations_in(source)) - executed)
    assert not idle, f"{code} {kind}[{index}]: torch never runs the `# expect` line(s) {idle}"


def test_options_comment_is_read_as_flake8_options():
    source = "# options: --conv-padding-policy=strict --conv-early-layers=2\nimport torch\n"
    assert oracle.options_in(source) == Options(padding_policy="strict", early_layers=2)
    assert oracle.options_in("import torch\n") == Options()
