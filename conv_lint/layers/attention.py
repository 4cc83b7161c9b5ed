"""nn.MultiheadAttention: query, key and value in, ``(attn_output, attn_weights)`` out.

Masks are accepted and not checked. Where torch raises about how key and value agree with each
other or with the query's batch (not about a size the layer was built for), no claim is made:
the result is unknown.
"""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.interpreter.values import UNKNOWN
from conv_lint.layers.base import (
    Family, Shaped, as_channels, as_flag, as_int, invalid, wrong_rank,
)
from conv_lint.layers.recurrent import features_mismatch, undecided
from conv_lint.records import record

QUERY_RANKS = "2D (unbatched) or 3D (batched)"


def attention_check(b: dict, embed: str = "embed_dim", heads: str = "num_heads") -> list:
    """MultiheadAttention.__init__'s checks: sizes above zero, embed_dim divisible by heads."""
    e, h = as_int(b[embed]), as_int(b[heads])
    if e is None or h is None:
        return []
    if e <= 0 or h <= 0:
        return [invalid(embed if e <= 0 else heads, f"{embed} and {heads} must be greater than "
                                                    f"0 (got {embed}={e}, {heads}={h})", "init")]
    if e % h:
        return [invalid(heads, f"{embed} must be divisible by {heads} (got {embed}={e}, "
                               f"{heads}={h})", "init")]
    return []


def attention_params(e, kdim, vdim, bias, bias_kv=False) -> Optional[int]:
    """MultiheadAttention's parameters: in-projections (packed when kdim == vdim == e),
    their bias, out_proj, bias_k and bias_v."""
    e, kdim, vdim = as_int(e), as_int(e if kdim is None else kdim), \
        as_int(e if vdim is None else vdim)
    bias, bias_kv = as_flag(bias), as_flag(bias_kv)
    if None in (e, kdim, vdim, bias, bias_kv) or min(e, kdim, vdim) < 0:
        return None
    return e * (e + kdim + vdim) + e * e + (4 * e if bias else 0) + (2 * e if bias_kv else 0)


def shapes_equal(a, b) -> bool:
    """Two shapes equal for every input size."""
    return len(a) == len(b) and all(x == y or sizes.proven_equal(x, y) for x, y in zip(a, b))


def attend(query, key, value, embed, kdim=None, vdim=None) -> tuple:
    """The checks of F.multi_head_attention_forward on shapes in torch's (L, N, E) order (or
    unbatched): (True, []) when it runs; (False, problems) when it raises, problems empty where
    no claim is made or whether it runs depends on the input size."""
    if len(query) not in (2, 3):
        return False, [wrong_rank(QUERY_RANKS, query)]
    for other in (key, value):
        if len(other) != len(query):
            return False, [wrong_rank(f"{len(query)}D key and value for a {len(query)}D query",
                                      other)]
    problem = features_mismatch(embed, query[-1], "embed_dim")
    if problem is not None or undecided(embed, query[-1]):
        return False, [problem] if problem else []
    separate = kdim is not None or vdim is not None
    if not shapes_equal(key[:-1], value[:-1]) if separate else not shapes_equal(key, value):
        return False, []  # torch's error here is not claimed
    for shape, size, arg in ((key, kdim, "kdim"), (value, vdim, "vdim")):
        expected = embed if size is None else size
        problem = features_mismatch(expected, shape[-1], arg)
        if problem is not None or undecided(expected, shape[-1]):
            return False, [problem] if problem else []
    if len(query) == 3 and not shapes_equal(query[1:2], key[1:2]):
        return False, []  # the batches differ: not claimed
    return True, []


def batch_major(shape, batch_first) -> Optional[tuple]:
    """A 3-D shape in torch's (L, N, E) order; 2-D as it is; None if batch_first is unknown."""
    if len(shape) != 3:
        return shape
    if batch_first is None:
        return None
    return (shape[1], shape[0], shape[2]) if batch_first else shape


def separate_dims(b: dict) -> tuple:
    """(kdim, vdim) when the key and value projections are separate, else (None, None)."""
    e = as_channels(b["embed_dim"])
    kdim, vdim = (e if b[k] is None else as_channels(b[k]) for k in ("kdim", "vdim"))
    if kdim == e and vdim == e:
        return None, None
    return kdim, vdim


@record(frozen=True)
class MultiheadAttention(Family):

    def check(self, b: dict) -> list:
        problems = attention_check(b)
        for name in ("kdim", "vdim"):
            value = as_int(b[name])
            if not problems and value is not None and value < 0:
                problems = [invalid(name, f"{name} must not be negative (got {value})", "init")]
        return problems

    def forward(self, b: dict, call: dict) -> tuple:
        tensors = [call[k] for k in ("query", "key", "value")]
        if not all(isinstance(t, Shaped) for t in tensors) or call["is_causal"] is not False \
                or any(b[k] is UNKNOWN for k in ("kdim", "vdim")) \
                or as_int(b["embed_dim"]) is None and (b["kdim"], b["vdim"]) != (None, None):
            return UNKNOWN, []  # whether key and value have projections of their own is unknown
        weights_wanted = as_flag(call["need_weights"])
        if any(t.shape is None for t in tensors):
            return (Shaped(), UNKNOWN if weights_wanted is None else
                    Shaped() if weights_wanted else None), []
        batch_first = as_flag(b["batch_first"])
        shapes = [batch_major(t.shape, batch_first) for t in tensors]
        if None in shapes:
            return (Shaped(), Shaped() if weights_wanted else UNKNOWN), []
        query, key, _ = shapes
        runs, problems = attend(*shapes, b["embed_dim"], *separate_dims(b))
        if not runs:
            return (None, problems) if problems else (UNKNOWN, [])
        if weights_wanted is None:
            return (Shaped(tensors[0].shape), UNKNOWN), []
        if not weights_wanted:
            return (Shaped(tensors[0].shape), None), []
        extra = [as_flag(b["add_bias_kv"]), as_flag(b["add_zero_attn"])]
        average = as_flag(call["average_attn_weights"])
        source = None if None in extra else key[0] if not sum(extra) else \
            None if key[0] is sizes.BATCH else sizes.shift(key[0], sum(extra))
        heads = () if average else (as_int(b["num_heads"]),)
        weights = None if average is None else \
            heads + (query[0], source) if len(query) == 2 else \
            (query[1],) + heads + (query[0], source)
        return (Shaped(tensors[0].shape), Shaped(weights)), []

    def params(self, b: dict) -> Optional[int]:
        return attention_params(b["embed_dim"], b["kdim"], b["vdim"], b["bias"],
                                b["add_bias_kv"])

    def in_channels(self, b: dict):
        return as_channels(b["embed_dim"])
