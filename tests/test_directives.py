"""Input shapes from option values and `# conv-lint: input-shape=` comments."""

from __future__ import annotations

import textwrap

import pytest

from conv_lint.source.directives import bad_directives, class_input_shapes, parse_shape


@pytest.mark.parametrize(
    "text, shape",
    [
        ("3,32,32", (3, 32, 32)),
        (" 3, 32 ,32 ", (3, 32, 32)),
        ("1,100", (1, 100)),  # C,L for Conv1d
        ("50", (50,)),  # L: token ids for an Embedding, features for a Linear
        ("2,8,16,16", (2, 8, 16, 16)),  # C,D,H,W for Conv3d
        ("03,32,32", (3, 32, 32)),
    ],
)
def test_parse_shape_accepts_one_to_four_positive_integers(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize(
    "text",
    ["abc", "", "0", "-3", "1,2,3,4,5", "3,0,32", "3,-1,32", "3x32x32", "3,,32", "3.0,32", "3,32,",
     "3,²,2", "3 2,2"],
)
def test_parse_shape_rejects_anything_else_naming_the_value(text):
    with pytest.raises(ValueError) as raised:
        parse_shape(text)
    assert str(raised.value) == (
        f"input shape must be 1 to 4 positive integers like 3,32,32, got {text!r}"
    )


def shapes_and_problems(source: str):
    source = textwrap.dedent(source)
    return class_input_shapes(source), bad_directives(source)


def test_directive_on_the_class_line_and_directly_above():
    shapes, problems = shapes_and_problems("""\
        import torch.nn as nn

        # conv-lint: input-shape=3,32,32
        class LeNet(nn.Module):
            pass

        class Tiny(nn.Module):  # conv-lint: input-shape=1, 28, 28
            pass

        class Plain(nn.Module):
            pass
        """)
    assert shapes == {"LeNet": (3, 32, 32), "Tiny": (1, 28, 28)}
    assert problems == []


def test_directive_may_stand_above_decorators_comments_and_blank_lines():
    shapes, problems = shapes_and_problems("""\
        # conv-lint: input-shape=3,224,224
        # oracle: something another tool reads
        @register(
            name="net",
        )

        @other
        class Net(nn.Module):
            pass
        """)
    assert shapes == {"Net": (3, 224, 224)}
    assert problems == []


def test_nested_class_and_trailing_comment_after_the_value():
    shapes, problems = shapes_and_problems("""\
        def factory():
            # conv-lint: input-shape=1,64  # a 1-d signal
            class Inner(nn.Module):
                pass
            return Inner
        """)
    assert shapes == {"Inner": (1, 64)}
    assert problems == []


def test_malformed_directive_is_ignored_and_reported_on_its_line():
    shapes, problems = shapes_and_problems("""\
        # conv-lint: input-shape=3x32x32
        class A(nn.Module):
            pass

        class B(nn.Module):  # conv-lint: input-shape=
            pass
        """)
    assert shapes == {}
    assert problems == [
        (1, "conv-lint directive ignored: input shape must be 1 to 4 positive integers "
            "like 3,32,32, got '3x32x32'"),
        (5, "conv-lint directive ignored: input shape must be 1 to 4 positive integers "
            "like 3,32,32, got ''"),
    ]


def test_stray_and_unknown_directives_are_reported():
    shapes, problems = shapes_and_problems("""\
        # conv-lint: input-shape=3,32,32
        def helper():
            x = 1  # conv-lint: input-shape=3,32,32
            return x

        # conv-lint: frobnicate=1
        class C(nn.Module):
            pass
        """)
    assert shapes == {}
    assert problems == [
        (1, "conv-lint directive ignored: it is neither on nor directly above a class statement "
            "or a module-level assignment"),
        (3, "conv-lint directive ignored: it is neither on nor directly above a class statement "
            "or a module-level assignment"),
        (6, "conv-lint directive ignored: unknown directive 'frobnicate' (known: input-shape)"),
    ]


def test_second_directive_for_a_class_wins_and_the_first_is_reported():
    shapes, problems = shapes_and_problems("""\
        # conv-lint: input-shape=3,32,32
        class D(nn.Module):  # conv-lint: input-shape=1,28,28
            pass
        """)
    assert shapes == {"D": (1, 28, 28)}
    assert problems == [
        (1, "conv-lint directive ignored: the one on line 2 for class D wins"),
    ]


def test_no_directive_no_work():
    assert shapes_and_problems("import torch\nclass E(torch.nn.Module):\n    pass\n") == ({}, [])


TWO_INPUTS = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class MotionEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.flow = nn.Conv2d(2, 8, 3, padding=1)
            self.corr = nn.Conv2d(16, 8, 3, padding=1)

        def forward(self, flow, corr):
            return torch.cat([self.flow(flow), self.corr(corr)], dim=1)
    """)


def test_a_shape_set_for_every_model_is_not_given_to_a_two_input_forward():
    """Which input would it be? Here the first takes 2 channels: torch runs it on a real flow."""
    import torch

    from conv_lint.engine import analyse

    namespace: dict = {}
    exec(TWO_INPUTS, namespace)
    out = namespace["MotionEncoder"]()(torch.zeros(1, 2, 32, 32), torch.zeros(1, 16, 32, 32))
    assert tuple(out.shape) == (1, 16, 32, 32)
    assert analyse(TWO_INPUTS, "<stdin>", (3, 32, 32)).findings == []
    with pytest.raises(RuntimeError):  # the shape, had it been the first input's, would fail
        namespace["MotionEncoder"]()(torch.zeros(1, 3, 32, 32), torch.zeros(1, 16, 32, 32))
    directed = TWO_INPUTS.replace(
        "class MotionEncoder(nn.Module):",
        "class MotionEncoder(nn.Module):  # conv-lint: input-shape=3,32,32")
    assert [f.code for f in analyse(directed, "<stdin>").findings] == ["CNV101"]


def test_a_one_axis_directive_is_a_sequence_length():
    shapes, problems = shapes_and_problems("""\
        # conv-lint: input-shape=50
        class TextCNN(nn.Module):
            pass

        class Bag(nn.Module):  # conv-lint: input-shape=0
            pass
        """)
    assert shapes == {"TextCNN": (50,)}
    assert problems == [(5, "conv-lint directive ignored: input shape must be 1 to 4 positive "
                            "integers like 3,32,32, got '0'")]
