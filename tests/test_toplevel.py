"""A module's top-level values are read when first needed (conv_lint/toplevel.py), and dicts and
lists change through their methods: each model below is run by torch, and conv-lint's errors
must be torch's (same line, a code meaning torch's error) or, where it cannot tell, none."""

from __future__ import annotations

import textwrap

import pytest

import oracle
from conv_lint.engine import analyse

SHAPE = (3, 16, 16)

# name -> (source, what conv-lint must say: "torch" = exactly torch's error, "silent" = nothing
# although torch fails: the value is not known any more, never a wrong one)
CASES = {
    # WIDTHS is read first (as of its line, C = 8), C afterwards (as of the end, C = 4).
    "rebound_after_an_earlier_read": ("""
        C = 8
        WIDTHS = [C, C * 2]
        C = 4

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, WIDTHS[0], 3)
                self.b = nn.Conv2d(C, 16, 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch"),
    # C is read first, as of the end (4); WIDTHS then needs C as it was on line 2: gone.
    "rebound_read_in_the_other_order": ("""
        C = 8
        WIDTHS = [C, C * 2]
        C = 4

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.b = nn.Conv2d(C, 16, 3)
                self.a = nn.Conv2d(3, WIDTHS[0], 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "silent"),
    "rebound_fits": ("""
        C = 4
        WIDTHS = [C]
        C = 8

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.b = nn.Conv2d(4, C, 3)
                self.a = nn.Conv2d(3, WIDTHS[0], 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch"),
    "augmented_at_top_level": ("""
        WIDTH = 8
        WIDTH += 8
        WIDTH *= 2

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(WIDTH, 8, 3)
                self.c = nn.Conv2d(16, 8, 3)

            def forward(self, x):
                return self.c(self.b(self.a(x)))
        """, "torch"),
    "dict_changed_by_item_and_update": ("""
        CFG = {"width": 8, "depth": 2}
        CFG["width"] = 16
        CFG.update(width=32, depth=3)
        CFG.update({"depth": 1})

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(CFG["width"], 8, 3)
                self.c = nn.Conv2d(8 * CFG["depth"], 8, 3)

            def forward(self, x):
                return self.c(self.b(self.a(x)))
        """, "torch"),
    "dict_changed_by_a_function": ("""
        CFG = {"width": 8}

        def widen(cfg, by):
            cfg["width"] = cfg["width"] * by

        widen(CFG, 4)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(CFG["width"], 8, 3)
                self.c = nn.Conv2d(16, 8, 3)

            def forward(self, x):
                return self.c(self.b(self.a(x)))
        """, "torch"),
    "dict_changed_in_a_way_not_followed": ("""
        CFG = {"width": 8}
        CFG.popitem()
        CFG.setdefault("width", 32)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(CFG["width"], 8, 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch-or-silent"),
    "dict_methods_in_init": ("""
        class Net(nn.Module):
            def __init__(self, **kwargs):
                super().__init__()
                cfg = {"width": 8, "extra": 1}
                cfg.update(width=32)
                cfg.pop("extra")
                width = cfg.get("width", 8)
                depth = cfg.setdefault("depth", 2)
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(width, 8 * depth, 3)
                self.c = nn.Conv2d(kwargs.get("mid", 8), 8, 3)

            def forward(self, x):
                return self.c(self.b(self.a(x)))
        """, "torch"),
    "list_changed_by_methods_not_followed": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                widths = [8, 32]
                widths.pop(0)
                widths.reverse()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(widths[0], 8, 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch"),
    "dict_item_with_an_unknown_key": ("""
        class Net(nn.Module):
            def __init__(self, key="width"):
                super().__init__()
                cfg = {"width": 8}
                cfg[key.strip()] = 32
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(cfg["width"], 8, 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch"),
    "deleted_item": ("""
        CFG = {"width": 8}
        del CFG["width"]
        CFG["width"] = 32

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 32, 3)
                self.b = nn.Conv2d(CFG["width"], 8, 3)

            def forward(self, x):
                return self.b(self.a(x))
        """, "torch-or-silent"),
}


def torch_errors(path, source: str) -> set:
    module = oracle.load_fixture(path)
    root = oracle.Root("Net", SHAPE, False, 0)
    outcome = oracle.run_root(module, root, path)
    if outcome.error is None:
        return set()
    return {(outcome.line, code) for code in oracle.codes_for_error(outcome.error)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_top_level_and_container_values_are_what_python_runs(name, tmp_path):
    body, expected = CASES[name]
    source = "import torch.nn as nn\n" + textwrap.dedent(body)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    torch_says = torch_errors(path, source)
    found = {(f.line, f.code) for f in analyse(source, str(path), SHAPE).findings
             if oracle.is_error_code(f.code)}
    if expected == "silent":
        assert torch_says and not found
    elif expected == "torch-or-silent":
        assert not found or (len(found) == 1 and found <= torch_says)
    else:
        assert (len(found) == 1 and found <= torch_says) if torch_says else not found, \
            (torch_says, found)


def test_the_cases_cover_models_torch_runs_and_models_it_rejects(tmp_path):
    outcomes = []
    for name, (body, _) in CASES.items():
        path = tmp_path / f"{name}.py"
        source = "import torch.nn as nn\n" + textwrap.dedent(body)
        path.write_text(source)
        outcomes.append(bool(torch_errors(path, source)))
    assert 3 <= sum(outcomes) <= len(outcomes) - 3


def test_tables_nobody_reads_are_never_evaluated(tmp_path):
    """ImageNet's class names, a thousand strings, are never run for a model that does not
    read them: the line is still pending after the analysis."""
    from conv_lint.interpreter.file import FileInterpreter
    from conv_lint.source.parsing import parse

    source = "import torch.nn as nn\nNAMES = [" + ", ".join(f'"c{i}"' for i in range(1000)) \
        + "]\nWIDTH = 8\n\nclass Net(nn.Module):\n    def __init__(self):\n" \
        "        super().__init__()\n        self.a = nn.Conv2d(3, WIDTH, 3)\n"
    interpreter = FileInterpreter(parse(source), str(tmp_path / "m.py"))
    interpreter.instantiate(interpreter.module_classes()[0], [], {})
    top = interpreter.home.top
    assert top.done == [False, False, True]  # the import, the names, WIDTH
    assert interpreter.home.constants == {"WIDTH": 8}
