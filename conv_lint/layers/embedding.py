"""Embeddings: nn.Embedding, nn.EmbeddingBag and F.embedding, looking up rows of token ids.

Whether the input holds integers is not modelled: torch rejects a float tensor, but the
shapes say nothing about the dtype, so no such claim is made."""

from __future__ import annotations

from typing import Optional

from conv_lint.interpreter.values import Tensor
from conv_lint.layers.base import (
    Channels, Family, Shape, as_channels, as_int, invalid, shape_text, sized, too_small,
    wrong_rank,
)
from conv_lint.records import record

_BAG_MODES = ("sum", "mean", "max")


def _padding_problem(padding_idx, rows, message: str, when: str):
    """CNV110 when ``padding_idx`` is outside [-rows, rows), as torch asserts it."""
    index, rows = as_int(padding_idx), as_int(rows)
    if index is None or rows is None or -rows <= index < rows:
        return None
    return invalid("padding_idx", f"{message} (padding_idx={index}, num_embeddings={rows})",
                   when)


@record(frozen=True)
class Embedding(Family):
    """nn.Embedding and nn.EmbeddingBag: a (num_embeddings, embedding_dim) weight.

    Embedding maps ids of any shape ``(*)`` to ``(*, embedding_dim)``. A bag reduces the last
    axis of a 2-D input ``(B, N)`` to ``(B, embedding_dim)``; a 1-D input needs ``offsets``,
    a second input the catalogue does not see (the interpreter leaves such calls unknown)."""

    bag: bool = False
    token_ids = True

    @property
    def extra_inputs(self) -> bool:
        """A bag's forward takes offsets and per_sample_weights beside the ids."""
        return self.bag

    def check(self, b: dict) -> list:
        for name in ("num_embeddings", "embedding_dim"):  # the weight's axes, in torch's order
            value = as_int(b[name])
            if value is not None and value < 0:
                return [invalid(name, f"{name} must not be negative (got {value})", "init")]
        wording = "padding_idx must be within num_embeddings" if self.bag else \
            "Padding_idx must be within num_embeddings"
        problem = _padding_problem(b["padding_idx"], b["num_embeddings"], wording, "init")
        if problem is not None:
            return [problem]
        if self.bag and isinstance(b["mode"], str) and b["mode"] not in _BAG_MODES:
            return [invalid("mode", f"mode has to be one of sum, mean or max (got "
                                    f"{b['mode']!r})")]  # raised at the call
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        if b["_weight"] is not None:
            return None, []  # its shape is asserted against the arguments: not followed
        dim = as_channels(b["embedding_dim"])
        if not self.bag:
            return shape + (dim,), []
        if len(shape) == 1:
            return None, [wrong_rank("2D (or 1D with offsets)", shape)]
        if len(shape) != 2:
            return None, [wrong_rank("1D or 2D", shape)]
        if shape[1] == 0 and type(shape[1]) is int:  # torch's offsets step by the bag size
            return None, [too_small(f"cannot make bags of an empty axis (input "
                                    f"{shape_text(shape)})")]
        return (shape[0], dim), []

    def params(self, b: dict) -> Optional[int]:
        rows, dim = as_int(b["num_embeddings"]), as_int(b["embedding_dim"])
        if rows is None or dim is None or rows < 0 or dim < 0 or b["_weight"] is not None:
            return None
        return rows * dim

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        rows, dim = as_channels(b["num_embeddings"]), as_channels(b["embedding_dim"])
        if name != "weight" or rows is None or dim is None or b["_weight"] is not None:
            return None
        return rows, dim

    def out_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b["embedding_dim"])


class EmbeddingFunction(Family):
    """F.embedding(input, weight): ``(*)`` ids to ``(*, weight.size(1))`` for a 2-D weight."""

    token_ids = True

    def _weight_shape(self, b: dict) -> Optional[tuple]:
        weight = b["weight"]
        return weight.shape if isinstance(weight, Tensor) else None

    def apply(self, b: dict, shape: Shape) -> tuple:
        weight = self._weight_shape(b)
        if weight is None:
            return None, []
        if not weight:
            return None, []  # torch reads weight.size(0) first: it raises otherwise
        problem = _padding_problem(b["padding_idx"], weight[0],
                                   "Padding_idx must be within num_embeddings", "forward")
        if problem is not None:
            return None, [problem]
        if len(weight) != 2:
            return None, [invalid("weight", f"'weight' must be 2-D (got a {len(weight)}-D "
                                            "weight)")]
        return shape + (weight[1] if sized(weight[1]) else None,), []

    def out_channels(self, b: dict) -> Optional[Channels]:
        weight = self._weight_shape(b)
        return as_channels(weight[1]) if weight is not None and len(weight) == 2 else None
