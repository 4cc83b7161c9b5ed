"""`conv-lint stats`: conv sites found, how each was resolved, and why not."""

from __future__ import annotations

import json
import textwrap

from conv_lint import cli, stats
from conv_lint.engine import analyse

SOURCE = textwrap.dedent("""\
    import torch.nn as nn
    from torchvision.ops.misc import Conv2dNormActivation
    from mylib import make_width


    def conv3x3(cin, cout):
        return nn.Conv2d(cin, cout, 3, padding=1)


    class Stem(nn.Module):
        def __init__(self, cfg, **kwargs):
            super().__init__()
            self.a = nn.Conv2d(3, cfg.width, 3)
            self.b = nn.Conv2d(3, make_width(16), 3)
            self.c = nn.Conv2d(3, 8, **kwargs)
            self.d = nn.ConvTranspose2d(8, 4, 2, stride=2)


    class Net(nn.Module):
        def __init__(self, width=16):
            super().__init__()
            self.blocks = nn.Sequential(*[nn.Conv2d(width, width, 3, padding=1) for _ in range(3)])
            self.head = Conv2dNormActivation(width, 32, stride=2)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(self.head(self.blocks(x)))


    class Factory:
        def make(self, cin):
            return nn.Conv2d(cin, 8, 3)


    class SqueezeExcite(nn.Module):
        def __init__(self, channels, ratio=0.25):
            super().__init__()
            hidden = channels * ratio
            self.fc = nn.Conv2d(channels, hidden, 1)
    """)
EXPECTED = {  # line: (status, reason)
    7: ("symbolic", None),  # called by no model: run alone, its parameters are symbols
    13: ("unresolved", stats.REASONS["config"]),
    14: ("unresolved", stats.REASONS["call"]),
    15: ("unresolved", stats.REASONS["unbuilt"]),  # **kwargs is {} when Stem is built alone
    16: ("resolved", None),
    22: ("resolved", None),  # built three times in a loop: one site
    23: ("resolved", None),  # a well-known block that builds a conv
    32: ("unresolved", stats.NEVER_REACHED),  # a method of a class that is not a module
    39: ("unresolved", stats.REASONS["arith"]),  # channels * 0.25: a float, not a size
}


def test_each_conv_site_is_judged_once_with_its_reason():
    found = stats.file_stats(SOURCE, "<stdin>")
    assert found.error is None
    assert {site.line: (site.status, site.reason) for site in found.sites} == EXPECTED


def test_a_sibling_modules_convs_are_its_own_sites(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "blocks.py").write_text(textwrap.dedent("""\
        import torch.nn as nn


        class Block(nn.Module):
            def __init__(self, cin):
                super().__init__()
                self.conv = nn.Conv2d(cin, 8, 3)
        """))
    model = tmp_path / "pkg" / "model.py"
    model.write_text(textwrap.dedent("""\
        import torch.nn as nn
        from .blocks import Block


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block(3)
                self.conv = nn.Conv2d(8, 8, 1)
        """))
    found = stats.file_stats(model.read_text(), str(model))
    assert [(site.line, site.status) for site in found.sites] == [(9, "resolved")]


def test_broken_source_is_a_skipped_file_not_a_crash():
    found = stats.file_stats("class (:\n", "<stdin>")
    assert found.error.startswith("syntax error") and found.sites == []


def test_cli_prints_per_file_lines_reasons_and_the_exact_last_line(tmp_path, capsys):
    (tmp_path / "a.py").write_text(SOURCE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("import torch.nn as nn\nc = nn.Conv2d(1, 2, 3)\n")
    (tmp_path / "sub" / "notes.txt").write_text("not python")
    assert cli.main(["stats", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    models = analyse(SOURCE, str(tmp_path / "a.py")).models  # explain's forward census
    calls, known = sum(m.calls for m in models), sum(m.known_calls for m in models)
    assert calls > 0
    assert lines[0] == (f"{tmp_path / 'a.py'}: layers=9 resolved=3 symbolic=1 unresolved=5 "
                        f"calls={calls} known={known}")
    assert lines[1] == (f"{tmp_path / 'sub' / 'b.py'}: layers=1 resolved=1 symbolic=0 "
                        f"unresolved=0 calls=0 known=0")
    assert f"       1  {stats.NEVER_REACHED}" in lines
    assert lines[-1] == f"layers=10 resolved=4 symbolic=1 unresolved=5 calls={calls} known={known}"


def test_cli_json_totals_add_up(tmp_path, capsys):
    (tmp_path / "a.py").write_text(SOURCE)
    assert cli.main(["stats", "--format", "json", "--jobs", "2", str(tmp_path / "a.py"),
                     str(tmp_path / "a.py")]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [f["layers"] for f in document["files"]] == [9, 9]
    assert document["layers"] == 18 == sum(document[k] for k in
                                           ("resolved", "symbolic", "unresolved"))
    assert sum(document["reasons"].values()) == document["unresolved"] == 10


def test_cli_stats_usage_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["stats", str(tmp_path / "missing.py")]) == 2
    assert cli.main(["stats", "--jobs", "0", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "missing.py" in errors[0] and "--jobs" in errors[1]
