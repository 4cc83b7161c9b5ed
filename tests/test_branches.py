"""Lists and containers built under an `if` the interpreter cannot decide: each branch starts
from what they held before it, and what differs between the branches is unknown after it
(a list appended to in both branches of `if flag:` held both appends, and a model whose
layers torch builds one way or the other got a false error)."""

from __future__ import annotations

import textwrap

import pytest
import torch

from conv_lint.engine import analyse

SOURCE = textwrap.dedent("""
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, wide):
            super().__init__()
            layers = [nn.Conv2d(3, 8, 3)]
            body = nn.Sequential(nn.ReLU())
            if wide:
                layers.append(nn.Conv2d(8, 32, 3))
                body.append(nn.Conv2d(32, 4, 1))
            else:
                layers.append(nn.Conv2d(8, 16, 3))
                body.append(nn.Conv2d(16, 4, 1))
            layers.append({after})
            self.features = nn.Sequential(*layers)
            self.body = body

        def forward(self, x):
            return self.body(self.features(x))
""")


@pytest.mark.parametrize("after", ["nn.ReLU()", "nn.Identity()"])
def test_appends_in_undecided_branches_are_not_all_kept(after):
    source = SOURCE.format(after=after)
    namespace: dict = {}
    exec(source, namespace)
    for wide in (True, False):  # torch runs the model built either way
        namespace["Net"](wide)(torch.zeros(2, 3, 16, 16))
    analysis = analyse(source, "net.py", (3, 16, 16))
    assert [f for f in analysis.findings if f.code.startswith("CNV1")] == []
    rows = {row.name for row in analysis.models[0].layers}
    assert "features.3" not in rows and "body.2" not in rows  # no branch built them


def test_what_both_branches_leave_alike_stays_known():
    source = textwrap.dedent("""
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self, flag):
                super().__init__()
                layers = [nn.Conv2d(3, 8, 3)]
                if flag:
                    width = 8
                else:
                    width = 8
                layers.append(nn.Conv2d(width, 4, 3))
                self.features = nn.Sequential(*layers)

            def forward(self, x):
                return self.features(x)
    """)
    namespace: dict = {}
    exec(source, namespace)
    real = namespace["Net"](True)(torch.zeros(2, 3, 16, 16)).shape[1:]
    (table,) = analyse(source, "net.py", (3, 16, 16)).models
    assert [row.output_shape for row in table.layers if row.name == "features"] == [list(real)]


def test_an_undecided_if_inside_an_undecided_branch():
    source = textwrap.dedent("""
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self, a, b):
                super().__init__()
                layers = [nn.Conv2d(3, 8, 3)]
                if a:
                    if b:
                        layers.append(nn.Conv2d(8, 8, 3))
                    layers.append(nn.ReLU())
                self.features = nn.Sequential(*layers)

            def forward(self, x):
                return self.features(x)
    """)
    namespace: dict = {}
    exec(source, namespace)
    for a in (True, False):
        for b in (True, False):
            namespace["Net"](a, b)(torch.zeros(2, 3, 16, 16))
    analysis = analyse(source, "net.py", (3, 16, 16))
    assert analysis.error is None and analysis.findings == []
