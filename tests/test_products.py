"""Products of tensors in forward: a @ b, matmul, mm, bmm, addmm, baddbmm, einsum, torch.stack
and F.linear. Each expression runs in torch and in conv-lint on the same two inputs ``a`` and
``c`` (jaxtyping annotations give conv-lint their shapes, a name is a symbolic size): the shape
conv-lint gives (read off an nn.Identity it is fed to) must be torch's, an error it claims must
be one torch raises (oracle.codes_for_error), and on concrete sizes every error torch raises in
a product is claimed, but for the few named below."""

from __future__ import annotations

import itertools
import random

import oracle
import pytest
import torch
import torch.nn.functional as F

from conv_lint.engine import analyse

SOURCE = """import torch
import torch.nn as nn
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.probe = nn.Identity()

    def forward(self, a: Float[Tensor, "b {a}"], c: Float[Tensor, "b {c}"]):
        y = {expression}
        return self.probe(y)
"""
BATCH = 2  # torch's batch; conv-lint's is N


def run_torch(expression: str, a_shape: tuple, c_shape: tuple):
    """torch's output shape (the batch left out, or None when it is not axis 0), else the
    error torch raises."""
    a, c = torch.zeros((BATCH,) + a_shape), torch.zeros((BATCH,) + c_shape)
    try:
        out = eval(expression, {"torch": torch, "F": F, "a": a, "c": c})
    except (RuntimeError, IndexError, ValueError) as error:
        return error
    return tuple(out.shape)[1:] if tuple(out.shape)[:1] == (BATCH,) else None


def run_conv_lint(expression: str, a_axes: str, c_axes: str):
    """(the probe's shape as the table shows it, the CNV1xx findings)."""
    analysis = analyse(SOURCE.format(a=a_axes, c=c_axes, expression=expression), "probe.py")
    assert analysis.error is None
    rows = {row.name: row.output_shape for row in analysis.models[0].layers}
    errors = [f for f in analysis.findings if f.code.startswith("CNV1")]
    return rows["probe"], errors


def axes(shape: tuple) -> str:
    return " ".join(map(str, shape))


def assert_agree(expression: str, a_shape: tuple, c_shape: tuple, silent: bool = False):
    """Concrete sizes: conv-lint's shape is torch's; an error torch raises is claimed with a
    code meaning it (``silent``: torch's error here is not claimed, the shape is unknown)."""
    real = run_torch(expression, a_shape, c_shape)
    shape, errors = run_conv_lint(expression, axes(a_shape), axes(c_shape))
    if isinstance(real, Exception):
        assert shape is None, f"{expression}: a shape {shape} where torch raises {real}"
        if silent:
            assert errors == [], f"{expression}: claimed {errors[0].message}"
        else:
            assert len(errors) == 1, f"{expression}: torch raises {real}, nothing claimed"
            assert errors[0].code in oracle.codes_for_error(real), (
                f"{expression}: {errors[0].code} {errors[0].message} for {real}")
        return
    assert errors == [], f"{expression}: claimed {errors[0].message}, torch gives {real}"
    if real is not None:
        assert shape is not None and tuple(shape) == real, f"{expression}: {shape} vs {real}"


# (expression, a's shape, c's shape), the batch left out; torch raises on some of them
CASES = [
    ("a @ c", (3, 4), (4, 5)), ("a @ c", (3, 4), (5, 4)),
    ("a @ c.transpose(-2, -1)", (3, 4), (5, 4)), ("a @ c", (4, 3, 4), (4, 4, 6)),
    ("a @ c", (1, 3, 4), (5, 4, 6)), ("a @ c", (2, 3, 4), (5, 4, 6)),
    ("a @ c[0]", (3, 4), (4, 5)), ("a @ c[0, 0]", (3, 4), (4, 5)), ("a @ c[0, 0]", (3, 4), (5, 4)),
    ("a[0] @ c", (3, 4), (4, 5)), ("a[0, 0] @ c[0, :, 0]", (3, 4), (4, 5)),
    ("a[0, 0] @ c[0, 0]", (3, 4), (5, 4)), ("a[0] @ c[0]", (3, 4), (4, 5)),
    ("a[0] @ c[0]", (3, 4), (5, 4)), ("a @ torch.zeros(4)", (3, 4), (1,)),
    ("torch.zeros(4) @ a", (4, 3), (1,)), ("a @ torch.zeros(4, 6)", (5, 3, 4), (1,)),
    ("torch.matmul(a, c)", (3, 4), (4, 2)), ("a.matmul(c)", (3, 4), (3, 2)),
    ("torch.matmul(a, other=c)", (3, 4), (4, 2)), ("a.matmul(other=c)", (3, 4), (4, 2)),
    ("torch.mm(a[0], c[0])", (3, 4), (4, 2)), ("torch.mm(a[0], c[0])", (3, 4), (3, 2)),
    ("a[0].mm(c[0])", (3, 4), (4, 2)), ("torch.mm(a, c[0])", (4,), (4, 2)),
    ("torch.mm(a, c)", (3, 4), (4, 2)),
    ("torch.bmm(a, c)", (3, 4), (4, 6)), ("torch.bmm(a, c)", (3, 4), (3, 6)),
    ("a.bmm(c)", (3, 4), (4, 6)),
    ("torch.bmm(a, c)", (2, 3, 4), (4, 6)), ("torch.bmm(a, c.transpose(1, 2))", (3, 4), (6, 4)),
    ("torch.addmm(torch.zeros(6), a[0], c[0])", (3, 4), (4, 6)),
    ("torch.addmm(torch.zeros(5), a[0], c[0])", (3, 4), (4, 6)),
    ("torch.addmm(torch.zeros(3, 1), a[0], c[0])", (3, 4), (4, 6)),
    ("torch.addmm(torch.zeros(6), a[0], c[0], beta=0.5)", (3, 4), (4, 6)),
    ("torch.baddbmm(torch.zeros(1, 3, 6), a, c)", (3, 4), (4, 6)),
    ("torch.baddbmm(torch.zeros(3, 1), a, c)", (3, 4), (4, 6)),
    ("torch.baddbmm(torch.zeros(4, 6), a, c)", (3, 4), (4, 6)),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", (4, 5, 8), (4, 6, 8)),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", (4, 5, 8), (4, 6, 7)),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", (4, 5, 8), (1, 6, 8)),
    ("torch.einsum('bhid,bhjd->bhij', [a, c])", (4, 5, 8), (4, 6, 8)),
    ("torch.einsum('bhid,bhjd->bhij', (a, c))", (4, 5, 8), (4, 6, 8)),
    ("torch.einsum('b i d, b j d -> b i j', a, c)", (5, 8), (6, 8)),
    ("torch.einsum('bij,bjk', a, c)", (5, 8), (8, 3)),
    ("torch.einsum('bij,bkj', a, c)", (5, 8), (8, 3)),
    ("torch.einsum('...ij,...jk->...ik', a, c)", (2, 3, 4), (1, 4, 5)),
    ("torch.einsum('...ij,...jk->...ik', a, c)", (2, 3, 4), (3, 4, 5)),
    ("torch.einsum('...ij,...jk', a, c)", (2, 3, 4), (2, 4, 5)),
    ("torch.einsum('bi...,bj...->bij', a, c)", (3, 4, 5), (2, 4, 5)),
    ("torch.einsum('bii->bi', a)", (3, 3), (1,)), ("torch.einsum('bii->bi', a)", (3, 4), (1,)),
    ("torch.einsum('bij->b', a)", (3, 4), (1,)), ("torch.einsum('bij->bji', a)", (3, 4), (1,)),
    ("torch.einsum('bc,bc->bc', a, c)", (1,), (5,)), ("torch.einsum('Bi,Bj', a, c)", (3,), (4,)),
    ("torch.stack([a, c], 1)", (3, 4), (3, 4)), ("torch.stack((a, c), dim=-1)", (3, 4), (3, 4)),
    ("torch.stack([a, c, a], 3)", (3, 4), (3, 4)),
    ("torch.stack([a, a], dim=0)[0]", (3, 4), (3, 4)),
    ("torch.stack(tensors=[a, c], dim=2)", (3, 4), (3, 4)),
    ("F.linear(a, torch.zeros(6, 4))", (3, 4), (1,)),
    ("F.linear(a, torch.zeros(6, 5))", (3, 4), (1,)),
    ("F.linear(a, torch.zeros(6, 4), torch.zeros(6))", (3, 4), (1,)),
    ("F.linear(a, c[0])", (3, 4), (6, 4)), ("F.linear(a, c[0].t())", (3, 4), (6, 4)),
    ("a.reshape_as(c)", (3, 4), (4, 3)), ("a.view_as(c)", (3, 4), (2, 6)),
    ("a.expand_as(c)", (1, 4), (3, 4)), ("a.expand_as(c)", (2, 4), (3, 4)),
    ("a.expand_as(c.flatten(1).sum(1, keepdim=True).unsqueeze(1) * c)", (1, 4), (3, 4)),
    ("(a @ c.transpose(-2, -1) / 8).softmax(-1) @ c", (5, 8), (6, 8)),
    ("(a @ c.transpose(-2, -1)).softmax(-1) @ a", (5, 8), (6, 8)),
]
# torch raises, conv-lint gives an unknown shape and no claim
SILENT = {
    ("torch.stack([a, c], 1)", (3, 4), (3, 5)), ("torch.stack([a, c], 4)", (3, 4), (3, 4)),
    ("torch.einsum('bij,bjk->bikl', a, c)", (5, 8), (8, 3)),
    ("torch.einsum('bijk,bjk->bik', a, c)", (5, 8), (8, 3)),
    ("F.linear(a, torch.zeros(6, 4), torch.zeros(5))", (3, 4), (1,)),
    ("torch.addmm(torch.zeros(2, 3, 6), a[0], c[0])", (3, 4), (4, 6)),
}


@pytest.mark.parametrize("expression, a_shape, c_shape", CASES)
def test_products_are_torch_shapes_and_errors(expression, a_shape, c_shape):
    assert_agree(expression, a_shape, c_shape)


@pytest.mark.parametrize("expression, a_shape, c_shape", sorted(SILENT))
def test_errors_not_claimed_stay_unknown(expression, a_shape, c_shape):
    assert_agree(expression, a_shape, c_shape, silent=True)


def random_matmul_pairs(count: int, seed: int) -> list:
    """Shapes of a and c (after the batch, which both lead) for a @ c: batch axes of 1 to 3
    that broadcast or not, inner sizes equal or not."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        lead = rng.randint(0, 2)
        lead_a = tuple(rng.choice((1, 2, 3)) for _ in range(lead))
        lead_c = tuple(rng.choice((1, 2, 3)) for _ in range(lead))
        n, m, k, p = (rng.choice((2, 3, 4)) for _ in range(4))
        pairs.append((lead_a + (n, m), lead_c + (k if rng.random() < 0.3 else m, p)))
    return pairs


@pytest.mark.parametrize("a_shape, c_shape", random_matmul_pairs(40, seed=12))
def test_random_matmul_pairs_against_torch(a_shape, c_shape):
    assert_agree("a @ c", a_shape, c_shape)
    assert_agree("torch.einsum('b...ij,b...jk->b...ik', a, c)", a_shape, c_shape)


# ---------------------------------------------------------------- symbolic sizes

SYMBOLIC = [  # (expression, a's axes, c's axes): names are sizes no input fixes
    ("a @ c", "h w", "w k"), ("a @ c", "h 4", "5 k"), ("a @ c", "h w", "k w"),
    ("a @ c.transpose(-2, -1)", "h w", "k w"), ("a @ c", "1 h 4", "3 4 w"),
    ("a @ c", "2 h 4", "3 4 w"), ("a @ c", "g h 4", "3 4 w"),
    ("torch.bmm(a, c)", "h w", "w k"), ("torch.bmm(a, c)", "h 4", "6 k"),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", "4 i 8", "4 j 8"),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", "4 i 8", "4 j d"),
    ("torch.einsum('bhid,bhjd->bhij', a, c)", "4 i 8", "3 j 8"),
    ("torch.stack([a, c], 1)", "h w", "h w"), ("torch.stack([a, c], 1)", "h w", "w h"),
]


def sized_shape(axes_text: str, env: dict) -> tuple:
    return tuple(int(part) if part.isdigit() else env[part] for part in axes_text.split())


@pytest.mark.parametrize("expression, a_axes, c_axes", SYMBOLIC)
def test_symbolic_sizes_claim_only_what_fails_for_every_size(expression, a_axes, c_axes):
    shape, errors = run_conv_lint(expression, a_axes, c_axes)
    names = sorted({p for p in (a_axes + " " + c_axes).split() if not p.isdigit()})
    runs = 0
    for values in itertools.product((1, 3, 4, 5), repeat=len(names)):
        env = dict(zip(names, values))
        real = run_torch(expression, sized_shape(a_axes, env), sized_shape(c_axes, env))
        if errors:
            assert isinstance(real, Exception), f"{expression}: claimed, torch runs at {env}"
            assert errors[0].code in oracle.codes_for_error(real)
        elif not isinstance(real, Exception):
            runs += 1
            if shape is not None:
                assert tuple(sized_shape(" ".join(map(str, shape)), env)) == real, env
    assert errors or runs  # silent only where some size runs
