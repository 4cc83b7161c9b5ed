"""What makes conv-lint fast, asserted as structure, never as time (the timings are bench/'s):
the prefilter finds the same files as its definition, design rules check a run once, and the
benchmark's generated model files are real models (torch runs them; conv-lint follows them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lint.engine import analyse
from conv_lint.plugin import MODEL_HINT, may_hold_model
from conv_lint.rules import RULES, ModelRun, Options
from oracle import load_fixture

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from model_files import model_file  # noqa: E402


@pytest.mark.parametrize("text, expected", [
    ("import torch\n", True),
    ("import torch.nn as nn", True),
    ("x = nn.Conv2d(1, 2, 3)", True),
    ("(nn)", True),
    ("nn", True),
    ("connection = annotations", False),
    ("torch_utils = torchvision", False),
    ("pytorch = nnn", False),
    ("", False),
    ("é nn é", True),  # a non-ASCII file is compared on the same words
    ("énn", False),
])
def test_prefilter_looks_for_the_words_torch_and_nn(text, expected):
    assert may_hold_model(text) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="torchn_. x\né", max_size=40))
def test_prefilter_agrees_with_its_regex_definition(text):
    assert may_hold_model(text) is bool(MODEL_HINT.search(text))


class _Counting:
    """A rule that counts how often it is checked."""

    code = "CNV199"

    def __init__(self) -> None:
        self.checks = 0

    def check(self, run, options):
        self.checks += 1
        yield "node", {}
        raise RuntimeError("a rule's bug after one warning")


def test_a_rule_is_checked_once_per_run_and_keeps_what_it_gave_before_failing():
    rule = _Counting()
    run = ModelRun("Net", [])
    for _ in range(3):
        assert run.warnings(rule, Options()) == [("node", {})]
    assert rule.checks == 1


def test_rule_codes_are_unique_as_the_per_run_cache_is_keyed_by_code():
    assert len({rule.code for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("lines", [100, 300])
def test_generated_model_files_run_in_torch_and_conv_lint_finds_nothing(tmp_path, lines):
    source = model_file(lines)
    path = tmp_path / "generated.py"
    path.write_text(source)
    module = load_fixture(path)
    nets = [name for name in vars(module) if name.startswith("Net")]
    assert nets
    for name in nets:
        output = getattr(module, name)()(torch.zeros(2, 3, 32, 32))
        assert tuple(output.shape) == (2, 10)
    analysis = analyse(source)
    assert analysis.findings == [] and analysis.error is None
    assert [table.cls for table in analysis.models] == nets
    assert all(table.layers[-1].output_shape == [10] for table in analysis.models)


def test_the_broken_generated_file_fails_in_torch_where_conv_lint_says(tmp_path):
    source = model_file(300, broken=True)
    path = tmp_path / "broken.py"
    path.write_text(source)
    module = load_fixture(path)
    last = sorted((n for n in vars(module) if n.startswith("Net")), key=lambda n: int(n[3:]))[-1]
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        getattr(module, last)()(torch.zeros(2, 3, 32, 32))
    findings = analyse(source).findings
    assert [f.code for f in findings] == ["CNV103"]
    assert "self.fc(x)" in source.splitlines()[findings[0].line - 1]


@pytest.mark.parametrize("source", ["import torch\nx = (\n", "import torch.nn as nn\n"])
def test_the_engine_leaves_the_cycle_collector_as_it_found_it(source):
    import gc

    assert gc.isenabled()
    analyse(source)  # a syntax error, and a parse that succeeds
    assert gc.isenabled()
    gc.disable()
    try:
        analyse(source)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_records_behave_as_the_dataclasses_they_stand_for():
    """@record is @dataclass made cheaper at import: same fields, repr, equality and hashing
    (a frozen record hashes by value, a plain one cannot be hashed, eq=False is identity)."""
    import dataclasses

    from conv_lint.records import record

    def both(**options):
        def body(name):
            return type(name, (), {"__annotations__": {"a": "int", "b": "list"},
                                   "b": dataclasses.field(default_factory=list)})
        return record(body("Point"), **options), dataclasses.dataclass(body("Point"), **options)

    ours, theirs = both(frozen=True)
    assert repr(ours(1, [2])) == repr(theirs(1, [2])) == "Point(a=1, b=[2])"
    assert ours(1) == ours(1) and hash(ours(1, ())) == hash(ours(1, ()))
    assert {ours(1, ()), ours(1, ())} == {ours(1, ())}
    plain, _ = both()
    assert plain(1) == plain(1)
    with pytest.raises(TypeError):
        hash(plain(1))
    identity, _ = both(frozen=True, eq=False)
    assert identity(1) != identity(1) and len({identity(1), identity(1)}) == 2
    looped = plain(1)
    looped.b.append(looped)
    assert repr(looped) == "Point(a=1, b=[...])"
