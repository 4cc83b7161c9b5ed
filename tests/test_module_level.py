"""Models built at module level, as tutorials write them (`model = nn.Sequential(...)`, no
class): checked like a class, named by their variable (rows `model.0`, `model.3`), an error
pointing at the layer torch fails in. Each source runs in torch too."""

from __future__ import annotations

import textwrap

import pytest
import torch

import oracle
from conv_lint.engine import analyse

MNIST_CNN = """
    import torch
    import torch.nn as nn

    # conv-lint: input-shape=1,28,28
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear({features}, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
"""
CIFAR_NESTED = """
    import torch.nn as nn

    # conv-lint: input-shape=3,32,32
    net = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
        nn.MaxPool2d(2),
        nn.Conv2d({channels}, 32, 3, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )
"""
SOURCES = [
    ("model", MNIST_CNN.format(features="32 * 13 * 13")),
    ("model", MNIST_CNN.format(features="32 * 14 * 14")),  # the pool halves 26, not 28
    ("net", CIFAR_NESTED.format(channels=16)),
    ("net", CIFAR_NESTED.format(channels=3)),  # a conv sized for the image, after the stem
]


def torch_run(source: str, name: str, shape: tuple):
    """(the model, the index path of the child torch fails in, or None when it runs)."""
    namespace: dict = {}
    exec(textwrap.dedent(source), namespace)
    model = namespace[name]
    entered: list = []
    names = {id(module): path for path, module in model.named_modules()}
    handles = [module.register_forward_pre_hook(
        lambda module, args: entered.append(names[id(module)])) for module in model.modules()]
    try:
        model(torch.zeros(oracle.BATCH, *shape))
        return model, None
    except RuntimeError:
        return model, entered[-1]  # the innermost module entered: the one that raised
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.parametrize("name, source", SOURCES)
def test_a_module_level_sequential_is_a_model_torch_agrees_with(name, source):
    source = textwrap.dedent(source)
    shape = (1, 28, 28) if name == "model" else (3, 32, 32)
    model, failing = torch_run(source, name, shape)
    analysis = analyse(source, "tutorial.py")
    errors = [f for f in analysis.findings if f.code.startswith("CNV1")]
    (table,) = analysis.models
    assert (table.cls, table.input_shape) == (name, list(shape))
    if failing is None:
        assert errors == []
        calls = oracle.trace_calls(model, shape)
        assert [(row.name, row.output_shape) for row in table.layers] == [
            (f"{name}.{call.name}", list(call.shape)) for call in calls]
        return
    (error,) = errors
    layer = f"{name}.{failing}"
    assert error.message.split()[0] == layer
    constructor = {"Linear": "nn.Linear(", "Conv2d": "nn.Conv2d("}[
        type(model.get_submodule(failing)).__name__]
    lines = source.splitlines()
    assert constructor in lines[error.line - 1] and "{" not in lines[error.line - 1]


def test_a_sequential_a_class_builds_with_is_not_a_model_of_its_own():
    source = textwrap.dedent("""
        import torch.nn as nn

        features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = features
                self.head = nn.Linear(8, 10)

            def forward(self, x):
                return self.head(self.features(x).mean((2, 3)))
    """)
    assert [table.cls for table in analyse(source, "net.py").models] == ["Net"]


def test_a_directive_on_a_module_level_model_is_not_ignored():
    from conv_lint.source.directives import bad_directives, class_input_shapes

    source = MNIST_CNN.format(features="32 * 13 * 13")
    assert class_input_shapes(textwrap.dedent(source)) == {"model": (1, 28, 28)}
    assert bad_directives(textwrap.dedent(source)) == []
