"""The forward census (explain's `Forward` line, `conv-lint stats`' calls figure): the calls a
model's forward makes on tensors, counted as torch makes them, which got a known shape, and
where and why the analysis lost one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

import oracle
from conv_lint.engine import analyse


def census(source: str, shape=None):
    (model,) = analyse(textwrap.dedent(source), "net.py", shape).models
    return model


def torch_sites(tmp_path: Path, source: str, cls: str, shape: tuple) -> list:
    """The call sites torch's run makes, ordered by line."""
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(source))
    module = oracle.load_fixture(path)
    return sorted(oracle.forward_call_sites(oracle.build(module, cls), shape),
                  key=lambda site: site[0])


def fully_known_fixtures() -> list:
    """Roots that torch runs, built with their defaults on their directive's input."""
    cases = []
    for path in oracle.fixture_paths():
        if oracle.parse_expectations(path):
            continue
        dynamic = oracle.dynamic_classes(path)
        for root in oracle.find_root_classes(path):
            if root.is_directive and not root.args and root.cls not in dynamic:
                cases.append(pytest.param(path, root, id=f"{path.name}:{root.cls}"))
    return cases


@pytest.mark.parametrize("path, root", fully_known_fixtures())
def test_every_call_of_a_model_torch_runs_is_counted_and_known(path, root):
    module = oracle.load_fixture(path)
    sites = oracle.forward_call_sites(oracle.build(module, root.cls), root.shape)
    (model,) = [m for m in analyse(path.read_text(), str(path)).models if m.cls == root.cls]
    assert (model.calls, model.known_calls, model.lost) == (len(sites), len(sites), [])


FFT_NET = """
    import torch
    import torch.nn as nn


    class SpectralNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.lift = nn.Conv2d(3, 16, 1)
            self.mix = nn.Conv2d(16, 16, 1)
            self.head = nn.Conv2d(16, 3, 1)

        def forward(self, x):
            x = torch.relu(self.lift(x))
            y = torch.fft.rfft2(x).abs()
            y = self.mix(y)
            return self.head(torch.relu(y))
"""


def test_a_function_outside_the_catalogue_is_where_shapes_are_lost(tmp_path):
    model = census(FFT_NET, (3, 32, 32))
    sites = torch_sites(tmp_path, FFT_NET, "SpectralNet", (3, 32, 32))
    loss_line = 15  # torch.fft.rfft2: the calls before it are known, those after pass it on
    assert model.calls == len(sites)
    assert model.known_calls == sum(1 for line, *_ in sites if line < loss_line)
    assert [(lost.line, lost.call, lost.reason) for lost in model.lost] == [
        (loss_line, "torch.fft.rfft2(...)", "torch.fft.rfft2 not modelled")]
    assert model.loss_reasons.count("after a shape lost earlier") == \
        sum(1 for line, *_ in sites if line >= loss_line) - 1  # .abs() on its line, and later


SIAMESE = """
    import torch.nn as nn


    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Sequential(nn.Conv2d(1, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.similarity = nn.CosineSimilarity(dim=1)

        def forward(self, a, b):
            return self.similarity(self.embed(a), self.embed(b))
"""


def test_a_library_module_not_modelled_has_its_row_and_says_why():
    model = census(SIAMESE)
    rows = {row.name: row for row in model.layers}
    assert (rows["similarity"].type, rows["similarity"].output_shape) == ("CosineSimilarity", None)
    assert rows["similarity"].params is None  # not counted as 0: the total says it is missing
    assert rows["embed"].params == sum(
        p.numel() for p in torch.nn.Conv2d(1, 8, 3).parameters())
    assert [lost.reason for lost in model.lost] == ["nn.CosineSimilarity not modelled"]


def test_an_input_no_layer_gives_a_rank_is_the_reason():
    model = census("""
        import torch.nn as nn


        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """)
    assert (model.calls, model.known_calls) == (3, 0)
    assert [lost.reason for lost in model.lost] == [
        "the input's shape is not set (no input shape given, and no layer fixes its rank)"]
    assert census("""
        import torch.nn as nn


        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)

            def forward(self, x):
                return self.fc1(x).relu()
    """, (784,)).known_calls == 2


def test_a_value_computed_at_run_time_is_named():
    model = census("""
        import torch.nn as nn
        import torch.nn.functional as F
        from settings import output_size


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.size = output_size()

            def forward(self, x):
                return F.interpolate(self.conv(x), size=self.size)
    """, (3, 32, 32))
    assert [lost.reason for lost in model.lost] == [
        "F.interpolate: an argument is a value computed at run time"]


def test_explain_json_and_stats_carry_the_census(tmp_path):
    from conv_lint import stats

    path = tmp_path / "spectral.py"
    path.write_text(textwrap.dedent(FFT_NET))
    figures = stats.file_stats(path.read_text(), str(path))
    model = census(FFT_NET)
    assert (figures.calls, figures.known_calls) == (model.calls, model.known_calls)
    assert figures.losses["torch.fft.rfft2 not modelled"] == 1
    totals = stats.Totals([figures, figures])
    last = stats.render_text(totals).splitlines()[-1]
    assert last.endswith(f" calls={2 * model.calls} known={2 * model.known_calls}")
    document = stats.render_json(totals)
    assert (document["calls"], document["known"]) == (2 * model.calls, 2 * model.known_calls)
    assert document["losses"]["torch.fft.rfft2 not modelled"] == 2


def test_a_module_passed_to_the_constructor_is_the_reason_when_it_was_not_given():
    model = census("""
        import torch
        import torch.nn as nn


        class VGG(nn.Module):
            def __init__(self, features, num_classes=1000):
                super().__init__()
                self.features = features
                self.classifier = nn.Linear(512 * 7 * 7, num_classes)

            def forward(self, x):
                x = self.features(x)
                return self.classifier(torch.flatten(x, 1))
    """)
    assert [(lost.call, lost.reason) for lost in model.lost] == [
        ("self.features(...)",
         "self.features comes from a constructor argument the model was built without")]
    assert (model.calls, model.known_calls) == (3, 0)
