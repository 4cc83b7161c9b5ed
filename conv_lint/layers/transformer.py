"""Transformer layers: TransformerEncoderLayer / DecoderLayer, the stacks built from one
(TransformerEncoder / Decoder) and nn.Transformer. Each keeps the shape of its src (tgt).

A layer reads d_model, nhead, dim_feedforward, dropout, activation, batch_first, norm_first and
bias; nn.Transformer names them alike, so its encoder and decoder layers are judged from its own
arguments. Masks are accepted and not checked; a causal hint makes the result unknown.
"""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.interpreter.values import UNKNOWN
from conv_lint.layers.attention import attend, attention_check, attention_params, batch_major
from conv_lint.layers.base import Family, Shaped, as_flag, as_int, invalid, wrong_rank
from conv_lint.layers.recurrent import features_mismatch, undecided
from conv_lint.records import record

ACTIVATIONS = ("relu", "gelu")


def layer_check(b: dict) -> list:
    """TransformerEncoderLayer.__init__ (and the decoder's, and nn.Transformer's) in torch's
    order: the attention, the feed-forward Linear, Dropout, the activation's name."""
    problems = attention_check(b, "d_model", "nhead")
    if problems:
        return problems
    ff, p, activation = as_int(b["dim_feedforward"]), b["dropout"], b["activation"]
    if ff is not None and ff < 0:
        return [invalid("dim_feedforward", f"dim_feedforward must not be negative (got {ff})",
                        "init")]
    if type(p) in (int, float) and not 0 <= p <= 1:
        return [invalid("dropout", f"dropout probability has to be between 0 and 1 (got {p})",
                        "init")]
    if isinstance(activation, str) and activation not in ACTIVATIONS:
        return [invalid("activation", f"activation should be relu/gelu, not {activation}",
                        "init")]
    return []


def layer_params(b: dict, attentions: int) -> Optional[int]:
    """An encoder layer (one attention, two norms) or a decoder layer (two and three)."""
    d, ff, bias = as_int(b["d_model"]), as_int(b["dim_feedforward"]), as_flag(b["bias"])
    attention = attention_params(d, None, None, b["bias"])
    if None in (d, ff, bias, attention):
        return None
    feed_forward = 2 * d * ff + (ff + d if bias else 0)
    norms = (attentions + 1) * (2 * d if bias else d)
    return attentions * attention + feed_forward + norms


def _self_attention(b: dict, src) -> tuple:
    """(runs, problems) of a layer's first block on ``src``: a norm before it when norm_first
    (LayerNorm raises first on the features), then the self-attention."""
    norm_first = as_flag(b["norm_first"])
    mismatch = features_mismatch(b["d_model"], src[-1], "d_model")
    if norm_first and mismatch is not None:
        return False, [mismatch]
    if undecided(b["d_model"], src[-1]):
        return False, []
    if norm_first is None and mismatch is not None and len(src) not in (2, 3):
        return False, []  # which of two errors torch raises first is not known
    shape = batch_major(src, as_flag(b["batch_first"]))
    if shape is None:
        return False, []
    return attend(shape, shape, shape, b["d_model"])


def encode(b: dict, src) -> tuple:
    """(output, problems) of one encoder layer on a src shape: the shape kept, or None."""
    runs, problems = _self_attention(b, src)
    return (src if runs else None), problems


def decode(b: dict, tgt, memory) -> tuple:
    """(output, problems) of one decoder layer: self-attention on tgt, then attention to
    ``memory`` (torch's order; LayerNorm runs on tgt only)."""
    runs, problems = _self_attention(b, tgt)
    if not runs:
        return None, problems
    batch_first = as_flag(b["batch_first"])
    query, keys = batch_major(tgt, batch_first), batch_major(memory, batch_first)
    if keys is None:
        return None, []
    runs, problems = attend(query, keys, keys, b["d_model"])
    return (tgt if runs else None), problems


def result(output, problems) -> tuple:
    """A layer's (result, problems): one tensor (of unknown shape where no claim is made)."""
    return (None, problems) if problems else (Shaped(output), [])


def _shapes(call: dict, names) -> Optional[list]:
    """The shapes of the tensors named, None unless each is a tensor."""
    tensors = [call[name] for name in names]
    return [t.shape for t in tensors] if all(isinstance(t, Shaped) for t in tensors) else None


def _causal(call: dict, names) -> bool:
    return any(call[name] not in (False, None) for name in names)


@record(frozen=True)
class EncoderLayer(Family):
    """nn.TransformerEncoderLayer: src (S, N, E), (N, S, E) with batch_first, or (S, E)."""

    def check(self, b: dict) -> list:
        return layer_check(b)

    def forward(self, b: dict, call: dict) -> tuple:
        shapes = _shapes(call, ("src",))
        if shapes is None or _causal(call, ("is_causal",)):
            return UNKNOWN, []
        if shapes[0] is None:
            return Shaped(), []
        return result(*encode(b, shapes[0]))

    def params(self, b: dict) -> Optional[int]:
        return layer_params(b, 1)


@record(frozen=True)
class DecoderLayer(Family):
    """nn.TransformerDecoderLayer: tgt as an encoder's src, memory of the same rank."""

    def check(self, b: dict) -> list:
        return layer_check(b)

    def forward(self, b: dict, call: dict) -> tuple:
        shapes = _shapes(call, ("tgt", "memory"))
        if shapes is None or _causal(call, ("tgt_is_causal", "memory_is_causal")):
            return UNKNOWN, []
        if None in shapes:
            return Shaped(), []
        return result(*decode(b, *shapes))

    def params(self, b: dict) -> Optional[int]:
        return layer_params(b, 2)


def _layer_of(value, family: type):
    """The bound arguments of a catalogue layer of ``family`` given as an argument, or None."""
    kind = getattr(value, "kind", None)
    return value.bound if kind is not None and isinstance(kind.family, family) else None


def _normed(norm, shape) -> tuple:
    """(shape, problems) after a stack's final ``norm``: none, or a catalogue layer."""
    if norm is None or shape is None:
        return shape, []
    if getattr(norm, "kind", None) is None or norm.kind.call is not None:
        return None, []
    return norm.kind.apply(norm.bound, shape)


def _stack_params(layer: Optional[dict], family: Family, count, norm) -> Optional[int]:
    """num_layers copies of a layer, and the final norm."""
    count = as_int(count)
    each = None if layer is None else family.params(layer)
    if norm is not None and getattr(norm, "kind", None) is None:
        return None
    last = 0 if norm is None else norm.kind.params(norm.bound)
    if None in (count, each, last):
        return None
    return max(count, 0) * each + last


@record(frozen=True)
class Encoder(Family):
    """nn.TransformerEncoder(encoder_layer, num_layers, norm): the layer copied num_layers
    times (each keeps the shape), then the norm."""

    takes_layers = True

    def forward(self, b: dict, call: dict) -> tuple:
        layer, count = _layer_of(b["encoder_layer"], EncoderLayer), as_int(b["num_layers"])
        shapes = _shapes(call, ("src",))
        if layer is None or layer_check(layer) or count is None or count < 1 or shapes is None \
                or _causal(call, ("is_causal",)):
            return UNKNOWN, []
        if shapes[0] is None:
            return Shaped(), []
        if len(shapes[0]) == 1 and as_flag(layer["batch_first"]):  # its sequence axis is read
            return None, [wrong_rank("2D (unbatched) or 3D (batched)", shapes[0])]
        output, problems = encode(layer, shapes[0])
        if output is None:
            return result(output, problems)
        return result(*_normed(b["norm"], output))

    def params(self, b: dict) -> Optional[int]:
        layer = _layer_of(b["encoder_layer"], EncoderLayer)
        return _stack_params(layer, EncoderLayer(), b["num_layers"], b["norm"])


@record(frozen=True)
class Decoder(Family):
    """nn.TransformerDecoder(decoder_layer, num_layers, norm)."""

    takes_layers = True

    def forward(self, b: dict, call: dict) -> tuple:
        layer, count = _layer_of(b["decoder_layer"], DecoderLayer), as_int(b["num_layers"])
        shapes = _shapes(call, ("tgt", "memory"))
        if layer is None or layer_check(layer) or count is None or count < 1 or shapes is None \
                or _causal(call, ("tgt_is_causal", "memory_is_causal")):
            return UNKNOWN, []
        if None in shapes:
            return Shaped(), []
        output, problems = decode(layer, *shapes)
        if output is None:
            return result(output, problems)
        return result(*_normed(b["norm"], output))

    def params(self, b: dict) -> Optional[int]:
        layer = _layer_of(b["decoder_layer"], DecoderLayer)
        return _stack_params(layer, DecoderLayer(), b["num_layers"], b["norm"])


@record(frozen=True)
class Transformer(Family):
    """nn.Transformer: src through the encoder, tgt and the memory through the decoder; the
    output has tgt's shape."""

    def check(self, b: dict) -> list:
        return layer_check(b)

    def forward(self, b: dict, call: dict) -> tuple:
        shapes = _shapes(call, ("src", "tgt"))
        counts = [as_int(b[k]) for k in ("num_encoder_layers", "num_decoder_layers")]
        if shapes is None or b["custom_encoder"] is not None or b["custom_decoder"] is not None \
                or None in counts or min(counts) < 1 \
                or _causal(call, ("src_is_causal", "tgt_is_causal", "memory_is_causal")):
            return UNKNOWN, []
        if None in shapes:
            return Shaped(), []
        src, tgt = shapes
        batch_first = as_flag(b["batch_first"])
        if len(src) == 3:
            if batch_first is None or len(tgt) < 2:
                return UNKNOWN, []
            axis = 0 if batch_first else 1
            if src[axis] != tgt[axis] and not sizes.proven_equal(src[axis], tgt[axis]):
                return Shaped(), []  # "the batch number of src and tgt must be equal"
        for shape in (src, tgt):
            problem = features_mismatch(b["d_model"], shape[-1], "d_model")
            if problem is not None:
                return None, [problem]
        if any(undecided(b["d_model"], shape[-1]) for shape in (src, tgt)):
            return Shaped(), []
        if len(src) not in (2, 3):
            return None, [wrong_rank("2D (unbatched) or 3D (batched)", src)]
        memory, problems = encode(b, src)
        if memory is None:
            return result(memory, problems)
        return result(*decode(b, tgt, memory))

    def params(self, b: dict) -> Optional[int]:
        counts = [as_int(b[k]) for k in ("num_encoder_layers", "num_decoder_layers")]
        d, bias = as_int(b["d_model"]), as_flag(b["bias"])
        encoder, decoder = layer_params(b, 1), layer_params(b, 2)
        if b["custom_encoder"] is not None or b["custom_decoder"] is not None \
                or None in counts + [d, bias, encoder, decoder]:
            return None
        norm = 2 * d if bias else d
        return max(counts[0], 0) * encoder + max(counts[1], 0) * decoder + 2 * norm
