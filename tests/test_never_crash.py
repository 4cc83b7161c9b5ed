"""Never crash: no input makes ``analyse`` fail inside, or an exception escape the plugin.

``analyse`` catches everything and answers ``error="internal error: ..."``, so these tests
assert on that field (a caught crash is still a bug), and on the plugin's ``run()`` raising
nothing and logging no internal error. Inputs: random programs (hypothesmith), the fixtures
mutated at random, and real code: the CPython standard library and the torchvision / timm
sources, sampled within a time budget in CI (``CONV_LINT_CORPUS=all`` runs every file;
the zoo sources come from tests/zoo.py, downloaded once with pip).
"""

from __future__ import annotations

import os
import random
import re
import sysconfig
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import generate
import oracle
import survive
import zoo

EXAMPLES, SETTINGS, seeded = generate.EXAMPLES, generate.SETTINGS, generate.seeded
EVERYTHING = os.environ.get("CONV_LINT_CORPUS") == "all"
# Files per corpus in CI, a count (a time budget would take fewer files on a busy machine);
# CONV_LINT_CORPUS=all runs every file.
CORPUS_FILES = {"stdlib": 40, "torchvision": 40, "timm": 20}
FIXTURES = oracle.fixture_paths()


def assert_survives(source: str, filename: str = "<generated>", plugin: bool = False) -> None:
    result = survive.outcome(source, filename, plugin)  # "ok", "skipped: ..." or the error
    assert not result.startswith(survive.INTERNAL), f"{result}\n--- source ---\n{source}"


# ---- random programs ----------------------------------------------------------------------------
_MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
{body}

    def forward(self, x):
{body}
        return x
"""


def as_model(program: str) -> str:
    """``program`` as the body of a model's __init__ and forward, where the interpreter runs it."""
    body = "\n".join("        " + line for line in program.splitlines()) or "        pass"
    return _MODEL.format(body=body)


@seeded
@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(hypothesmith.from_grammar())
def test_random_programs(program):
    assert_survives(program)
    assert_survives(as_model(program))


@seeded
@settings(SETTINGS, max_examples=max(1, EXAMPLES // 10))
@given(hypothesmith.from_node())
def test_random_syntax_trees(program):
    assert_survives(as_model(program), plugin=True)


# ---- mutated fixtures ---------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_STRING = re.compile(r"'[a-z_]*'")
_NUMBERS = ["0", "1", "-1", "2", "3", "7", "64", "1000000000", "10**100", "1.5", "True", "None",
            "(1, 2)", "x"]
_STRINGS = ["'same'", "'valid'", "'full'", "'reflect'", "'circular'", "''", "None", "3"]


def mutate(source: str, rng: random.Random, kind: str) -> str:
    """One random change of ``kind``: a literal, a deleted, swapped or doubled line, a cut."""
    lines = source.splitlines(keepends=True)
    if kind in ("number", "string"):
        pattern, choices = (_NUMBER, _NUMBERS) if kind == "number" else (_STRING, _STRINGS)
        spots = list(pattern.finditer(source))
        if not spots:
            return source
        spot = rng.choice(spots)
        return source[:spot.start()] + rng.choice(choices) + source[spot.end():]
    if kind == "truncate":
        return source[:rng.randrange(len(source) + 1)]
    if not lines:
        return source
    index = rng.randrange(len(lines))
    if kind == "delete":
        del lines[index]
    elif kind == "swap":
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    elif kind == "duplicate":
        lines.insert(index, lines[index])
    return "".join(lines)


KINDS = ("number", "string", "delete", "swap", "duplicate", "truncate")


@pytest.mark.parametrize("path", FIXTURES, ids=[path.name for path in FIXTURES])
def test_every_fixture_survives_each_kind_of_mutation(path):
    source = path.read_text()
    rng = random.Random(path.name)  # the same mutants on every run
    for kind in KINDS:
        assert_survives(mutate(source, rng, kind), path.name, plugin=kind == "number")


@seeded
@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(st.sampled_from(FIXTURES), st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
       st.randoms(use_true_random=False))
def test_fixtures_survive_many_mutations(path, kinds, rng):
    source = path.read_text()
    for kind in kinds:
        source = mutate(source, rng, kind)
    assert_survives(source, path.name)


# ---- real code ----------------------------------------------------------------------------------
def sample(folder: Path) -> list:
    """Every .py file under ``folder``, in a fixed random order (a budget takes a fair sample)."""
    paths = sorted(str(path) for path in folder.rglob("*.py")
                   if "site-packages" not in path.parts)
    random.Random(0).shuffle(paths)
    return paths


def check_corpus(folder: Path, files: int) -> None:
    assert folder.is_dir(), f"{folder} is not there"
    paths = sample(folder)[:None if EVERYTHING else files]
    report = survive.run(paths, plugin=True, timeout=3600)
    failures = report.failures()
    assert not failures, "\n".join(failures)
    assert len(report.done) == len(paths), f"{len(report.done)} of {len(paths)} files analysed"


def test_standard_library():
    check_corpus(Path(sysconfig.get_paths()["stdlib"]), CORPUS_FILES["stdlib"])


@pytest.mark.parametrize("part", ["torchvision", "timm"])
def test_zoo_sources(part):
    check_corpus(zoo.sources() / part, CORPUS_FILES[part])


def test_the_checks_see_a_caught_crash(monkeypatch):
    """analyse and the plugin both swallow a crash; survive must still call it one."""
    from conv_lint import engine

    source = "import torch\n"
    assert survive.outcome(source, "a.py", plugin=True) == "ok"
    assert survive.outcome("x = " + "(" * 1000 + ")" * 1000, "a.py", plugin=True) == \
        "skipped: nesting too deep to analyse"

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(engine, "_analyse", broken)
    assert survive.outcome(source, "a.py", plugin=False).startswith("internal error")
    monkeypatch.setattr(engine, "analyse", broken)
    assert survive.plugin_outcome(source, "a.py").startswith("conv-lint skipped a.py: internal")


def test_the_runner_names_the_file_that_killed_the_process():
    report = survive.read_report("start a.py\ndone a.py ok\nfound a.py 3:CNV101\nstart b.py\n",
                                 "exit -11")
    assert report.done == {"a.py": "ok"} and report.found == {"a.py": ["3:CNV101"]}
    assert report.failures() == ["b.py: exit -11"]
    report = survive.read_report("start a.py\ndone a.py internal error: KeyError: 1\nfound a.py\n")
    assert report.failures() == ["a.py: internal error: KeyError: 1"]
