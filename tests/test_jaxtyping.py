"""Input shapes from jaxtyping annotations, with torch as the oracle.

The models in ``jaxtyping_models/`` are fixtures like the core ones: `# expect:` on the lines
the linter must report, `# oracle: input-shape=` giving torch a sample of the annotated shape
(every forward input gets it). torch confirms each expectation; the linter, given no input
shape, finds exactly them from the annotations; with the annotations taken out, it finds none
of the errors (they are found only because the annotation gives the sizes).
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import oracle
from conv_lint.algebra import sizes
from conv_lint.engine import analyse
from conv_lint.source.jaxtyped import parse_dims
from test_fixtures import compare_rows

MODELS = sorted((Path(__file__).parent / "jaxtyping_models").glob("*.py"))
# `x: Float[Tensor, "..."]` and the return annotation: what "unannotated" takes out
ANNOTATION = re.compile(r":\s*(?:\w+\.)?(?:Float|Shaped|F|Int|Int64)\[[^\]]*\]|"
                        r"->\s*Float\[[^\]]*\]")


def by_name(paths):
    return pytest.mark.parametrize("path", paths, ids=[path.name for path in paths])


def load(path: Path):
    """Import a model file. jaxtyping only names types there (annotations are not evaluated
    under `from __future__ import annotations`): where it is not installed, a stand-in serves
    while the file is imported, and is taken out again."""
    if importlib.util.find_spec("jaxtyping") is not None:
        return oracle.load_fixture(path)
    stand_in = types.ModuleType("jaxtyping")
    stand_in.__getattr__ = _dtype  # Float, Shaped...
    sys.modules["jaxtyping"] = stand_in
    try:
        return oracle.load_fixture(path)
    finally:
        del sys.modules["jaxtyping"]


def _dtype(name: str):
    if not name[:1].isupper():
        raise AttributeError(name)
    return object


def run(path: Path, root: oracle.Root):
    """torch's outcome: the root built and run with every forward input of the root's shape."""
    model = oracle.build(load(path), root.cls)
    inputs = len(inspect.signature(model.forward).parameters)
    try:
        with torch.no_grad():
            model(*[oracle.zeros_for(root.shape, model)] * inputs)
    except Exception as error:  # noqa: BLE001 - torch raises several kinds
        return error, oracle.deepest_line_in(error, path)
    return None, None


def reported(source: str) -> set:
    return {(f.line, f.code) for f in analyse(source, tables=False).findings}


@by_name(MODELS)
def test_torch_confirms_the_expectations(path):
    (root,) = oracle.find_root_classes(path)
    error, line = run(path, root)
    expected = oracle.error_expectations(path)
    if not expected:
        assert error is None, f"{path.name}: torch fails: {error}"
        return
    assert line in expected, f"{path.name}: torch fails on line {line}: {error}"
    assert oracle.codes_for_error(error) & expected[line], f"{path.name}: {error}"


@by_name(MODELS)
def test_annotations_give_the_input_shape(path):
    source = path.read_text()
    expected = {(line, code) for line, codes in oracle.parse_expectations(path).items()
                for code in codes}
    assert reported(source) == expected


@by_name([path for path in MODELS if oracle.error_expectations(path)])
def test_errors_are_found_only_through_the_annotation(path):
    source = path.read_text()
    stripped = ANNOTATION.sub("", source)
    assert stripped != source and "Tensor, " not in stripped.split('"""', 2)[-1]
    assert reported(stripped) == set()


@by_name([path for path in MODELS if not oracle.error_expectations(path)])
def test_explain_uses_the_annotated_shape(path):
    (root,) = oracle.find_root_classes(path)
    model = oracle.build(load(path), root.cls)
    (table,) = analyse(path.read_text(), str(path)).models
    annotated = [sizes.describe(d) if d is not None else None
                 for d in parse_dims(_annotation_text(path))[1:]]
    assert table.input_shape == annotated
    if all(type(d) is int for d in annotated):
        assert tuple(annotated) == root.shape
        assert compare_rows(root.cls, table.layers, oracle.trace_calls(model, root.shape),
                            set()) == []
    else:
        assert any(isinstance(d, str) for row in table.layers for d in row.output_shape or [])


def _annotation_text(path: Path) -> str:
    return re.search(r'forward\(self, \w+: [^"]*"([^"]*)"', path.read_text()).group(1)


def test_an_annotation_wins_over_the_option_and_a_directive_over_it():
    source = (Path(__file__).parent / "jaxtyping_models" / "lenet_annotated_linear.py").read_text()
    assert {code for _, code in reported(source)} == {"CNV103"}
    assert analyse(source, input_shape=(3, 32, 32), tables=False).findings != []
    directed = source.replace("# oracle: input-shape=3,64,64", "# conv-lint: input-shape=3,32,32")
    assert analyse(directed, tables=False).findings == []


@pytest.mark.parametrize("text, expected", [
    ("batch 3 32 32", ("N", 3, 32, 32)),
    ("b c h w", ("N", "c", "h", "w")),
    ("*batch 3 h w", ("N", 3, "h", "w")),
    ("... 784", ("N", 784)),
    ("B 3 h h", ("N", 3, "h", "h")),
    ("batch #c _h _", ("N", None, None, None)),
    ("n 3 h+1 w", ("N", 3, None, "w")),
    ("3 32 32", None),  # no batch first: unbatched or a fixed batch, nothing tells
    ("1 3 224 224", None),
    ("c h w", None),
    ("batch", None),
    ("", None),
])
def test_shape_strings(text, expected):
    dims = parse_dims(text)
    described = None if dims is None else tuple(
        "N" if d is sizes.BATCH else sizes.describe(d) if d is not None else None for d in dims)
    assert described == expected


def test_one_name_is_one_symbol():
    dims = parse_dims("b c h h")
    assert sizes.proven_equal(dims[2], dims[3])
    assert not sizes.proven_equal(dims[1], dims[2])


@pytest.mark.parametrize("annotation", [
    'Float[Tensor, "b 3 32 32"]',  # not imported from jaxtyping
    'Float[Tensor, 3]',
    'Float[Tensor]',
    '"Float[Tensor, \'b 3 32 32\']"',
    'list[int]',
])
def test_other_annotations_are_ignored(annotation):
    imports = "from torch import Tensor\n" if "jaxtyping" not in annotation else ""
    source = (
        "import torch.nn as nn\n" + imports +
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(1000, 10)\n"
        f"    def forward(self, x: {annotation}):\n"
        "        return self.fc(x.flatten(1))\n")
    analysis = analyse(source)
    assert analysis.error is None and analysis.findings == []
    assert analysis.models[0].input_shape is None


@pytest.mark.parametrize("annotation, ids", [
    ('Int[Tensor, "b 50"]', (50,)), ('Int64[Tensor, "batch seq"]', ("seq",)),
    ('jaxtyping.Int[torch.Tensor, "bs 7 50"]', (7, 50)),
])
def test_an_integer_annotation_gives_token_ids(annotation, ids):
    """Token ids: `Int[Tensor, "b 50"]` is (N, 50), as the directive `input-shape=50`."""
    source = ("import jaxtyping\nimport torch\nimport torch.nn as nn\nfrom jaxtyping import Int, "
              "Int64\nfrom torch import Tensor\n\n\nclass Ids(nn.Module):\n"
              "    def __init__(self):\n        super().__init__()\n"
              "        self.embedding = nn.Embedding(100, 16)\n\n"
              f"    def forward(self, ids: {annotation}):\n        return self.embedding(ids)\n")
    (table,) = analyse(source).models
    concrete = [40 if d == "seq" else d for d in ids]
    real = nn.Embedding(100, 16)(torch.zeros(2, *concrete, dtype=torch.long)).shape
    assert list(real[1:-1]) == concrete
    assert table.layers[0].output_shape == [*ids, real[-1]]  # per sample, as explain shows
