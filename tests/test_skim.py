"""The parse that leaves top-level functions for later (conv_lint/skim.py) must change nothing
the analysis says: findings, their places, fixes and tables equal those of a whole parse, on
the fixtures, the zoo and texts made to fool the cut; a function parsed late points at its
own lines; torch agrees with a finding inside one."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

import oracle
import zoo
from conv_lint.engine import analyse
from conv_lint.source import parsing, skim


def whole_parse(monkeypatch) -> None:
    """Parse files whole, with a parse cache of their own (not the skimmed trees)."""
    monkeypatch.setattr(skim, "_cut", lambda source: None)
    monkeypatch.setattr(parsing, "_PARSED", {})


def summary(analysis) -> tuple:
    return analysis.findings, analysis.models, analysis.error  # dataclasses: compared whole


def both_ways(source: str, filename: str, monkeypatch, shape=None) -> tuple:
    skimmed = summary(analyse(source, filename, shape))
    with monkeypatch.context() as patch:
        whole_parse(patch)
        whole = summary(analyse(source, filename, shape))
    return skimmed, whole


TRICKY = {
    # a string in a function holding lines that look like top-level code
    "string_with_column_zero_lines": '''
        def helper(c):
            text = """
        def phantom():
            return 1
        class Fake:
            pass
        """
            return nn.Conv2d(c, 8, 3)
        ''',
    # a call laid out with its closing bracket (and an argument) at column 0
    "column_zero_inside_brackets": '''
        def helper(c):
            return nn.Conv2d(
        c, 8, 3
        )
        ''',
    "backslash_continued_signature": '''
        def helper(c: int = 3) -> \\
        nn.Module:
            return nn.Conv2d(c, 8, 3)
        ''',
    "decorated_over_lines": '''
        import functools

        @functools.lru_cache(
            maxsize=None,
        )
        # a comment between the decorator and the function
        def helper(c):
            return nn.Conv2d(c, 8, 3)
        ''',
    "async_and_redefined": '''
        async def unused():
            return 1

        def helper(c):
            return nn.Conv2d(c, 4, 3)

        def helper(c):
            return nn.Conv2d(c, 8, 3)
        ''',
    "rebound_by_assignment": '''
        def helper(c):
            return nn.Conv2d(c, 4, 3)

        helper = lambda c: nn.Conv2d(c, 8, 3)
        ''',
}
MODEL = '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = helper(3)
        self.b = nn.Conv2d(4, 8, 3)

    def forward(self, x):
        return self.b(self.a(x))
'''


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_texts_made_to_fool_the_cut_analyse_as_a_whole_parse(name, monkeypatch, tmp_path):
    source = "import torch.nn as nn\n" + textwrap.dedent(TRICKY[name]) + MODEL
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    skimmed, whole = both_ways(source, str(path), monkeypatch, (3, 16, 16))
    assert skimmed == whole
    assert whole[0] or whole[2] is None  # analysed: a finding, or a clean run without error


def test_a_finding_inside_a_function_parsed_late_is_on_torch_line(tmp_path):
    source = textwrap.dedent('''\
        import torch.nn as nn


        def stem(channels):
            """Built the first time a model calls it."""
            return nn.Sequential(nn.Conv2d(3, channels, 3, groups=2), nn.BatchNorm2d(channels))


        def unused_builder(**kwargs):
            return Net(**kwargs)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = stem(8)

            def forward(self, x):
                return self.stem(x)
        ''')
    path = tmp_path / "late.py"
    path.write_text(source)
    module = oracle.load_fixture(path)
    outcome = oracle.run_root(module, oracle.Root("Net", (3, 16, 16), False, 0), path)
    assert outcome.error is not None and "CNV109" in oracle.codes_for_error(outcome.error)
    [finding] = analyse(source, str(path), (3, 16, 16)).findings
    assert (finding.line, finding.code) == (outcome.line, "CNV109")
    assert source.splitlines()[finding.line - 1][finding.col:].startswith("nn.Conv2d(3, channels")


def test_the_pieces_cover_every_line_and_each_function_parses_alone():
    source = textwrap.dedent('''\
        import torch.nn as nn

        @decorator(
            a=1,
        )
        def first(
            c,
        ) -> nn.Module:
            return nn.Conv2d(c, 8, 3)
        x = 1

        async def second():
            pass
        ''')
    pieces = skim._cut(source)
    assert [first for first, _, _ in pieces] == [0] + [end for _, end, _ in pieces[:-1]]
    assert pieces[-1][1] == len(source.split("\n"))
    assert [name for _, _, name in pieces] == [None, "first", None, "second"]
    module = skim.parse(source, cst.parse_module)
    assert [type(s).__name__ for s in module.body] == ["SimpleStatementLine", "SimpleStatementLine"]
    for name, function in skim.deferred(module).items():
        assert function.node().name.value == name
        assert source.splitlines()[function.first_line].startswith(("@decorator", "async def"))


def test_a_long_top_level_is_parsed_in_pieces_of_about_a_hundred_lines():
    source = "".join(f"x{i} = {i}\n" for i in range(1000))
    pieces = skim._cut(source)
    assert len(pieces) == 10 and all(end - first == 100 for first, end, _ in pieces[:-1])
    module = skim.parse(source, cst.parse_module)
    assert len(module.body) == 1000


def test_text_the_cut_cannot_handle_is_parsed_whole():
    assert skim._cut("def f():\r\n    return 1\r\n") is None  # \r line ends
    assert skim._cut("x = 1\n") is None  # nothing to leave out
    # a syntax error outside the functions: the whole file is judged, as before
    assert analyse("def f():\n    return 1\nclass (:\n").error.startswith("syntax error")


def test_a_function_that_does_not_parse_is_unknown_and_the_rest_analysed():
    """Mid-edit: a broken builder function. Its text is never a function, so it stays
    unknown; the model classes around it are analysed as before."""
    source = ("import torch.nn as nn\n\ndef builder():\n    return Net(\n\n" + MODEL
              + "\n\ndef helper(c):\n    return nn.Conv2d(c, 8, 3)\n")
    module = skim.parse(source, cst.parse_module)
    assert skim.deferred(module)["builder"].node() is None
    [finding] = analyse(source).findings
    assert finding.code == "CNV101"


@pytest.mark.parametrize("path", sorted(oracle.FIXTURES_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_fixtures_analyse_as_a_whole_parse(path, monkeypatch):
    source = path.read_text()
    skimmed, whole = both_ways(source, str(path), monkeypatch)
    assert skimmed == whole


def test_torchvision_models_analyse_as_a_whole_parse(monkeypatch):
    """Every torchvision model file (helpers called from classes, builders never) with an
    input shape, so that tables and findings run through the functions parsed late."""
    files = sorted((zoo.sources() / "torchvision" / "models").rglob("*.py"))
    assert len(files) > 50
    differ = []
    for path in files:
        skimmed, whole = both_ways(path.read_text(), str(path), monkeypatch, (3, 224, 224))
        if skimmed != whole:
            differ.append(path.name)
    assert not differ


def test_a_module_keeps_its_functions_however_many_files_are_parsed_after_it():
    """A long run (check over a big tree) parses thousands of files in one process: the
    functions a cached module left for later must still be found then."""
    first = skim.parse("import torch\n\ndef helper():\n    return 1\n", cst.parse_module)
    for index in range(1500):
        skim.parse(f"x = {index}\n\ndef f{index}():\n    return {index}\n", cst.parse_module)
    assert skim.deferred(first)["helper"].node().name.value == "helper"
