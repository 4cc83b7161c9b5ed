"""Sibling modules: classes, functions and constants imported from the linted file's project are
read from disk (never imported) and followed; torch, importing the same package, is the oracle."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path

import pytest

import oracle
from conv_lint.engine import analyse
from conv_lint.source import parsing, project
from test_fixtures import compare_rows

PACKAGE = Path(__file__).resolve().parent.parent / "fixtures" / "pkg_resnet"


def import_fixture(module: str):
    sys.path.insert(0, str(PACKAGE.parent))
    try:
        return importlib.import_module(f"pkg_resnet.{module}")
    finally:
        sys.path.remove(str(PACKAGE.parent))


def lint(path: Path, shape=None):
    return analyse(path.read_text(), str(path), shape)


def write_package(root: Path, files: dict) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))


def test_fixture_package_model_is_explained_as_torch_runs_it():
    path = PACKAGE / "model.py"
    model = import_fixture("model").TinyResNet()
    calls = oracle.trace_calls(model, (3, 64, 64))
    analysis = lint(path, (3, 64, 64))
    assert not analysis.findings and analysis.error is None
    [table] = analysis.models
    assert not compare_rows("TinyResNet", table.layers, calls, set())


def test_fixture_package_bug_is_found_through_the_sibling_on_torch_line():
    path = PACKAGE / "model_wrong_inplanes.py"
    expected = oracle.parse_expectations(path)
    outcome = oracle.run_model(import_fixture("model_wrong_inplanes").TinyResNet(),
                               (3, 64, 64), path)
    assert outcome.error is not None and outcome.line in expected
    assert oracle.codes_for_error(outcome.error) & expected[outcome.line]
    for shape in ((3, 64, 64), None):
        found = {(f.line, f.code) for f in lint(path, shape).findings}
        assert found == {(line, code) for line, codes in expected.items() for code in codes}


def test_without_a_file_name_there_are_no_siblings():
    source = (PACKAGE / "model_wrong_inplanes.py").read_text()
    assert analyse(source, "<stdin>", (3, 64, 64)).findings == []


@pytest.mark.parametrize("importer", [
    "from .blocks import Block",
    "from . import blocks\nBlock = blocks.Block",
    "from pkg.blocks import Block",
    "import pkg.blocks as B\nBlock = B.Block",
    "from .layers import Block",  # re-exported by layers/__init__.py, two hops
    "from .blocks import *",
    "from pkg.blocks import *",
    "from .layers import *",  # layers/__init__.py's own import, starred on
    "from ..pkg.blocks import Block",  # beyond the top package: unknown
])
def test_import_forms_resolve_a_sibling_class(tmp_path, importer):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": """
            import torch.nn as nn

            WIDTH = 8


            class Block(nn.Module):
                def __init__(self, cin, cout=WIDTH):
                    super().__init__()
                    self.conv = nn.Conv2d(cin, cout, 3, padding=1)

                def forward(self, x):
                    return self.conv(x)
            """,
        "pkg/layers/__init__.py": "from .inner import Block\n",
        "pkg/layers/inner.py": "from ..blocks import Block\n",
        "pkg/model.py": "import torch.nn as nn\n" + importer + textwrap.dedent("""


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.a = Block(3)
                    self.b = Block(4)

                def forward(self, x):
                    return self.b(self.a(x))
            """),
    })
    path = tmp_path / "pkg" / "model.py"
    findings = [(f.line, f.code) for f in lint(path, (3, 16, 16)).findings]
    if importer.startswith("from ..pkg"):
        assert findings == []  # unknown stays silent
        return
    sys.path.insert(0, str(tmp_path))
    try:  # torch agrees: block b was built for 4 channels and receives the 8 of block a
        net = importlib.import_module("pkg.model").Net()
        outcome = oracle.run_model(net, (3, 16, 16), path)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
            del sys.modules[name]
    assert oracle.codes_for_error(outcome.error) == {"CNV101"}
    assert findings == [(outcome.line, "CNV101")]


def test_construction_error_inside_a_sibling_points_at_the_constructor_call(tmp_path):
    write_package(tmp_path, {
        "proj/__init__.py": "",
        "proj/blocks.py": """
            import torch.nn as nn


            def grouped(cin, cout, groups):
                return nn.Conv2d(cin, cout, 3, groups=groups)


            class Base(nn.Module):
                def __init__(self, cin, cout, groups=1):
                    super().__init__()
                    self.conv = grouped(cin, cout, groups)
            """,
        "proj/net.py": """
            import torch.nn as nn
            from proj.blocks import Base


            class Net(Base):
                def __init__(self):
                    super().__init__(6, 9, groups=4)

                def forward(self, x):
                    return self.conv(x)
            """,
    })
    path = tmp_path / "proj" / "net.py"
    sys.path.insert(0, str(tmp_path))
    try:
        outcome = oracle.run_root(importlib.import_module("proj.net"),
                                  oracle.Root("Net", (6, 8, 8), False, 0), path)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "proj" or n.startswith("proj.")]:
            del sys.modules[name]
    assert outcome.stage == "construct" and oracle.codes_for_error(outcome.error) == {"CNV109"}
    assert [(f.line, f.code) for f in lint(path).findings] == [(outcome.line, "CNV109")]


def test_missing_or_broken_siblings_are_unknown(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/broken.py": "class (:\n",
        "pkg/model.py": """
            import torch.nn as nn
            from .broken import Block
            from .missing import Other


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.a = Block(3, 8)
                    self.b = Other(4)
                    self.c = nn.Conv2d(5, 8, 3)

                def forward(self, x):
                    return self.c(self.b(self.a(x)))
            """,
    })
    analysis = lint(tmp_path / "pkg" / "model.py", (3, 16, 16))
    assert analysis.findings == [] and analysis.error is None


def test_a_sibling_is_parsed_once_and_again_when_it_changes(tmp_path):
    target = tmp_path / "m.py"
    target.write_text("X = 1\n")
    first = parsing.parse_file(str(target))
    assert parsing.parse_file(str(target)) is first
    target.write_text("X = 22\n")
    os.utime(target, ns=(1, 10 ** 18))
    assert parsing.parse_file(str(target)) is not first


def test_the_top_package_root_is_found_by_walking_up(tmp_path):
    write_package(tmp_path, {"a/__init__.py": "", "a/b/__init__.py": "", "a/b/c.py": "",
                             "a/b/d/__init__.py": ""})
    found = project.Project(str(tmp_path / "a" / "b" / "c.py"))
    assert (found.root, found.package) == (str(tmp_path), "a.b")
    assert found.module_path("a.b.d") == str(tmp_path / "a" / "b" / "d" / "__init__.py")
    assert found.module_path("a.nothing") is None and found.module_path("torch.nn") is None
    assert project.Project("<stdin>").root is None


def test_a_star_import_binds_only_what_all_lists(tmp_path):
    write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": """
            import torch.nn as nn

            __all__ = ["stem"]


            def stem():
                return nn.Conv2d(3, 8, 3)


            def head():
                return nn.Linear(7, 10)
            """,
        "pkg/model.py": """
            import torch.nn as nn
            from .blocks import *


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.stem = stem()
                    self.head = head()

                def forward(self, x):
                    return self.head(self.stem(x).mean((2, 3)))
            """,
    })
    analysis = lint(tmp_path / "pkg" / "model.py", (3, 16, 16))
    assert analysis.findings == []  # head is not exported: unknown, silent
    rows = {row.name: row.output_shape for row in analysis.models[0].layers}
    import torch

    assert rows == {"stem": list(torch.nn.Conv2d(3, 8, 3)(torch.zeros(1, 3, 16, 16)).shape[1:])}
