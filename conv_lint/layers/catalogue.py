"""The catalogue's tables: every torch layer, function and tensor method it knows,
registered by qualified name."""

from __future__ import annotations

from typing import Optional

from conv_lint.layers.attention import MultiheadAttention
from conv_lint.layers.axes import Expand, MatrixTranspose, MoveDim, Repeat
from conv_lint.layers.base import Family
from conv_lint.layers.convolution import Conv
from conv_lint.layers.einmix import EinMix
from conv_lint.layers.einops import Einops
from conv_lint.layers.elementwise import GLU, ChannelShuffle, Elementwise, PReLU
from conv_lint.layers.embedding import Embedding, EmbeddingFunction
from conv_lint.layers.entry import LayerType
from conv_lint.layers.fold import Fold, Unfold
from conv_lint.layers.lazy import Lazy
from conv_lint.layers.linear import Linear
from conv_lint.layers.normalisation import (
    BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LocalResponseNorm,
)
from conv_lint.layers.pooling import AdaptivePool, Pool
from conv_lint.layers.recurrent import Recurrent, RecurrentCell
from conv_lint.layers.reshaping import (
    Flatten, Permute, Reduce, Squeeze, Transpose, Unflatten, Unsqueeze,
)
from conv_lint.layers.resizing import Pad, PixelShuffle, Upsample
from conv_lint.layers.transformer import (
    Decoder, DecoderLayer, Encoder, EncoderLayer, Transformer,
)
from conv_lint.layers.weighted import WeightedConv, WeightedLinear

LAYERS: dict = {}
FUNCTIONS: dict = {}
METHODS: dict = {}


def _nn(name: str, signature: str, family: Family, call: Optional[str] = None) -> None:
    """``call``: forward's parameters, for a layer given several tensors or giving a tuple."""
    LAYERS[f"torch.nn.{name}"] = LayerType(name, f"torch.nn.{name}", signature, family,
                                           call=call)


def _fn(qualname: str, signature: str, family: Family) -> None:
    name = qualname.rsplit(".", 1)[1]
    FUNCTIONS[qualname] = LayerType(name, qualname, signature, family, is_call=True)


def _method(name: str, signature: str, family: Family) -> None:
    METHODS[name] = LayerType(name, f"torch.Tensor.{name}", signature, family, is_call=True)


def lookup(qualname: str) -> Optional[LayerType]:
    """The catalogue entry for a qualified name: a layer first, then a function."""
    return LAYERS.get(qualname) or FUNCTIONS.get(qualname)


# ---- torch.nn layers (signatures copied from torch 2.13)

_CONV = "in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, " \
        "bias=True, padding_mode='zeros', device=None, dtype=None"
_CONV_T = "in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, " \
          "groups=1, bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None"
_BATCH_NORM = "num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, " \
              "device=None, dtype=None, *, bias=True"
_INSTANCE_NORM = "num_features, eps=1e-05, momentum=0.1, affine=False, " \
                 "track_running_stats=False, device=None, dtype=None, *, bias=True"
_DROPOUT = "p=0.5, inplace=False"
_INPLACE = "inplace=False"

for _n in (1, 2, 3):
    _nn(f"Conv{_n}d", _CONV, Conv(_n))
    _nn(f"ConvTranspose{_n}d", _CONV_T, Conv(_n, transposed=True))
    _nn(f"MaxPool{_n}d", "kernel_size, stride=None, padding=0, dilation=1, "
                         "return_indices=False, ceil_mode=False", Pool(_n, "max"))
    _nn(f"AvgPool{_n}d", "kernel_size, stride=None, padding=0, ceil_mode=False, "
                         "count_include_pad=True" + (", divisor_override=None" if _n > 1 else ""),
        Pool(_n, "avg"))
    _nn(f"LPPool{_n}d", "norm_type, kernel_size, stride=None, ceil_mode=False", Pool(_n, "lp"))
    _nn(f"AdaptiveAvgPool{_n}d", "output_size", AdaptivePool(_n))
    _nn(f"AdaptiveMaxPool{_n}d", "output_size, return_indices=False", AdaptivePool(_n))
    _nn(f"BatchNorm{_n}d", _BATCH_NORM, BatchNorm((2, 3) if _n == 1 else (_n + 2,)))
    _nn(f"InstanceNorm{_n}d", _INSTANCE_NORM, InstanceNorm(_n))
    _nn(f"ZeroPad{_n}d", "padding", Pad(_n, "constant"))
    _nn(f"ConstantPad{_n}d", "padding, value", Pad(_n, "constant"))
    _nn(f"ReflectionPad{_n}d", "padding", Pad(_n, "reflect"))
    _nn(f"ReplicationPad{_n}d", "padding", Pad(_n, "replicate"))
    _nn(f"CircularPad{_n}d", "padding", Pad(_n, "circular"))

# lazy layers: the eager constructor's parameters without the in-size (see layers/lazy.py)
_LAZY_NORM = "eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, " \
             "dtype=None, *, bias=True"
for _n in (1, 2, 3):
    for _kind, _params in (("Conv", _CONV), ("ConvTranspose", _CONV_T)):
        _eager = LAYERS[f"torch.nn.{_kind}{_n}d"]
        _nn(f"Lazy{_kind}{_n}d", _params.replace("in_channels, ", ""),
            Lazy(_eager, "in_channels", ("in_channels", "out_channels"), rank=_n))
    for _kind in ("BatchNorm", "InstanceNorm"):
        _nn(f"Lazy{_kind}{_n}d", _LAZY_NORM,
            Lazy(LAYERS[f"torch.nn.{_kind}{_n}d"], "num_features", ("num_features",)))

_nn("SyncBatchNorm", "num_features, eps=1e-05, momentum=0.1, affine=True, "
                     "track_running_stats=True, process_group=None, device=None, dtype=None, *, "
                     "bias=True", BatchNorm(()))
_nn("GroupNorm", "num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None, *, "
                 "bias=True", GroupNorm())
_nn("LayerNorm", "normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None, "
                 "dtype=None", LayerNorm())
_nn("RMSNorm", "normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None",
    LayerNorm(bias_param=False))
_nn("LocalResponseNorm", "size, alpha=0.0001, beta=0.75, k=1.0", LocalResponseNorm())
_nn("Linear", "in_features, out_features, bias=True, device=None, dtype=None", Linear())
_nn("Bilinear", "in1_features, in2_features, out_features, bias=True, device=None, dtype=None",
    Linear(("in1_features", "in2_features")))
_nn("LazyLinear", "out_features, bias=True, device=None, dtype=None",
    Lazy(LAYERS["torch.nn.Linear"], "in_features", ("in_features", "out_features"), axis=-1))
_nn("Embedding", "num_embeddings, embedding_dim, padding_idx=None, max_norm=None, "
                 "norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None, "
                 "_freeze=False, device=None, dtype=None", Embedding())
_nn("EmbeddingBag", "num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, "
                    "scale_grad_by_freq=False, mode='mean', sparse=False, _weight=None, "
                    "include_last_offset=False, padding_idx=None, device=None, dtype=None",
    Embedding(bag=True))
_nn("Fold", "output_size, kernel_size, dilation=1, padding=0, stride=1", Fold())
_nn("Unfold", "kernel_size, dilation=1, padding=0, stride=1", Unfold())
_nn("Identity", "*args, **kwargs", Elementwise())
_nn("Flatten", "start_dim=1, end_dim=-1", Flatten())
_nn("Unflatten", "dim, unflattened_size", Unflatten())
_nn("Upsample", "size=None, scale_factor=None, mode='nearest', align_corners=None, "
                "recompute_scale_factor=None", Upsample(module=True))
_nn("UpsamplingNearest2d", "size=None, scale_factor=None",
    Upsample((("mode", "nearest"),), module=True))
_nn("UpsamplingBilinear2d", "size=None, scale_factor=None",
    Upsample((("mode", "bilinear"), ("align_corners", True)), module=True))
_nn("PixelShuffle", "upscale_factor", PixelShuffle("upscale_factor"))
_nn("PixelUnshuffle", "downscale_factor", PixelShuffle("downscale_factor"))
_nn("ChannelShuffle", "groups", ChannelShuffle())
_nn("Dropout", _DROPOUT, Elementwise(checks=("probability",)))
_nn("Dropout1d", _DROPOUT, Elementwise(ranks=(2, 3), checks=("probability",)))
_nn("Dropout2d", _DROPOUT, Elementwise(min_rank=2, checks=("probability",)))
_nn("Dropout3d", _DROPOUT, Elementwise(checks=("probability",)))
_nn("AlphaDropout", _DROPOUT, Elementwise(checks=("probability",)))
_nn("FeatureAlphaDropout", _DROPOUT, Elementwise(min_rank=2, checks=("probability",)))

# activations (torch.nn.modules.activation, except MultiheadAttention)
for _name, _params in (
    ("ReLU", _INPLACE), ("ReLU6", _INPLACE), ("SELU", _INPLACE), ("SiLU", _INPLACE),
    ("Mish", _INPLACE), ("Hardswish", _INPLACE), ("Hardsigmoid", _INPLACE),
    ("Sigmoid", ""), ("Tanh", ""), ("LogSigmoid", ""), ("Softsign", ""), ("Tanhshrink", ""),
    ("ELU", "alpha=1.0, inplace=False"), ("LeakyReLU", "negative_slope=0.01, inplace=False"),
    ("Softplus", "beta=1.0, threshold=20.0"), ("Softshrink", "lambd=0.5"),
    ("Hardshrink", "lambd=0.5"), ("Threshold", "threshold, value, inplace=False"),
):
    _nn(_name, _params, Elementwise())
_nn("CELU", "alpha=1.0, inplace=False", Elementwise(checks=("celu",)))
_nn("GELU", "approximate='none'", Elementwise(checks=("gelu",)))
_nn("RReLU", "lower=0.125, upper=0.3333333333333333, inplace=False",
    Elementwise(checks=("rrelu",)))
_nn("Hardtanh", "min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None",
    Elementwise(checks=("hardtanh",)))
_nn("PReLU", "num_parameters=1, init=0.25, device=None, dtype=None", PReLU())
_nn("GLU", "dim=-1", GLU())
for _name in ("Softmax", "Softmin", "LogSoftmax"):
    _nn(_name, "dim=None", Elementwise(dim="dim"))
_nn("Softmax2d", "", Elementwise(ranks=(3, 4)))

# sequence and attention layers: their forward takes several tensors or gives a tuple
_RNN = "input_size, hidden_size, num_layers=1, {}bias=True, batch_first=False, dropout=0.0, " \
       "bidirectional=False, {}device=None, dtype=None"
_nn("RNN", _RNN.format("nonlinearity='tanh', ", ""), Recurrent("RNN"), "input, hx=None")
_nn("LSTM", _RNN.format("", "proj_size=0, "), Recurrent("LSTM"), "input, hx=None")
_nn("GRU", _RNN.format("", ""), Recurrent("GRU"), "input, hx=None")
_nn("RNNCell", "input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, "
               "dtype=None", RecurrentCell("RNN"), "input, hx=None")
for _name in ("LSTM", "GRU"):
    _nn(f"{_name}Cell", "input_size, hidden_size, bias=True, device=None, dtype=None",
        RecurrentCell(_name), "input, hx=None")
_nn("MultiheadAttention", "embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, "
                          "add_zero_attn=False, kdim=None, vdim=None, batch_first=False, "
                          "device=None, dtype=None", MultiheadAttention(),
    "query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, "
    "average_attn_weights=True, is_causal=False")
# torch's default activation is F.relu itself, which 'relu' names
_LAYER = "dim_feedforward=2048, dropout=0.1, activation='relu', {}layer_norm_eps=1e-05, " \
         "batch_first=False, norm_first=False, bias=True, device=None, dtype=None"
_DECODE = "tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, " \
          "memory_key_padding_mask=None, tgt_is_causal={}, memory_is_causal=False"
_nn("TransformerEncoderLayer", "d_model, nhead, " + _LAYER.format(""), EncoderLayer(),
    "src, src_mask=None, src_key_padding_mask=None, is_causal=False")
_nn("TransformerDecoderLayer", "d_model, nhead, " + _LAYER.format(""), DecoderLayer(),
    _DECODE.format("False"))
_nn("TransformerEncoder", "encoder_layer, num_layers, norm=None, enable_nested_tensor=True, "
                          "mask_check=True", Encoder(),
    "src, mask=None, src_key_padding_mask=None, is_causal=None")
_nn("TransformerDecoder", "decoder_layer, num_layers, norm=None", Decoder(),
    _DECODE.format("None"))
_nn("Transformer", "d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, "
    + _LAYER.format("custom_encoder=None, custom_decoder=None, "), Transformer(),
    "src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None, "
    "tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, "
    "tgt_is_causal=None, memory_is_causal=False")

# ---- torch.nn.functional (the tensor is the first parameter, `input`)

_F = "torch.nn.functional."
for _name, _params in (
    ("relu", "input, inplace=False"), ("relu6", "input, inplace=False"),
    ("selu", "input, inplace=False"), ("silu", "input, inplace=False"),
    ("mish", "input, inplace=False"), ("hardswish", "input, inplace=False"),
    ("hardsigmoid", "input, inplace=False"), ("sigmoid", "input"), ("tanh", "input"),
    ("logsigmoid", "input"), ("softsign", "input"), ("tanhshrink", "input"),
    ("elu", "input, alpha=1.0, inplace=False"),
    ("leaky_relu", "input, negative_slope=0.01, inplace=False"),
    ("softplus", "input, beta=1, threshold=20"),
):
    _fn(_F + _name, _params, Elementwise())
_fn(_F + "gelu", "input, approximate='none'", Elementwise(checks=("gelu",)))
_fn(_F + "celu", "input, alpha=1.0, inplace=False", Elementwise(checks=("celu",)))
_fn(_F + "hardtanh", "input, min_val=-1.0, max_val=1.0, inplace=False",
    Elementwise(checks=("hardtanh_function",)))
for _name in ("softmax", "softmin", "log_softmax"):
    _fn(_F + _name, "input, dim=None, _stacklevel=3, dtype=None", Elementwise(dim="dim"))
_fn(_F + "glu", "input, dim=-1", GLU())
_fn(_F + "normalize", "input, p=2.0, dim=1, eps=1e-12, out=None", Elementwise(dim="dim"))
_fn(_F + "dropout", "input, p=0.5, training=True, inplace=False",
    Elementwise(checks=("probability",)))
_fn(_F + "alpha_dropout", "input, p=0.5, training=False, inplace=False",
    Elementwise(checks=("probability",)))
_fn(_F + "dropout1d", "input, p=0.5, training=True, inplace=False",
    Elementwise(ranks=(2, 3), checks=("probability",)))
_fn(_F + "dropout2d", "input, p=0.5, training=True, inplace=False",
    Elementwise(min_rank=2, checks=("probability",)))
_fn(_F + "dropout3d", "input, p=0.5, training=True, inplace=False",
    Elementwise(checks=("probability",)))
for _n in (1, 2, 3):
    _fn(f"{_F}max_pool{_n}d", "input, kernel_size, stride=None, padding=0, dilation=1, "
                              "ceil_mode=False, return_indices=False", Pool(_n, "max"))
    _fn(f"{_F}avg_pool{_n}d", "input, kernel_size, stride=None, padding=0, ceil_mode=False, "
                              "count_include_pad=True"
                              + (", divisor_override=None" if _n > 1 else ""), Pool(_n, "avg"))
    _fn(f"{_F}adaptive_avg_pool{_n}d", "input, output_size", AdaptivePool(_n))
    _fn(f"{_F}adaptive_max_pool{_n}d", "input, output_size, return_indices=False",
        AdaptivePool(_n))
for _n in (1, 2):
    _fn(f"{_F}lp_pool{_n}d", "input, norm_type, kernel_size, stride=None, ceil_mode=False",
        Pool(_n, "lp"))
_fn(_F + "interpolate", "input, size=None, scale_factor=None, mode='nearest', "
                        "align_corners=None, recompute_scale_factor=None, antialias=False",
    Upsample())
_fn(_F + "upsample", "input, size=None, scale_factor=None, mode='nearest', align_corners=None",
    Upsample())
_fn(_F + "pad", "input, pad, mode='constant', value=None", Pad())
_fn(_F + "layer_norm", "input, normalized_shape, weight=None, bias=None, eps=1e-05",
    LayerNorm(functional=True))
_fn(_F + "group_norm", "input, num_groups, weight=None, bias=None, eps=1e-05", GroupNorm())
_fn(_F + "embedding", "input, weight, padding_idx=None, max_norm=None, norm_type=2.0, "
                      "scale_grad_by_freq=False, sparse=False", EmbeddingFunction())
_fn(_F + "fold", "input, output_size, kernel_size, dilation=1, padding=0, stride=1", Fold())
_fn(_F + "unfold", "input, kernel_size, dilation=1, padding=0, stride=1", Unfold())
_fn(_F + "pixel_shuffle", "input, upscale_factor", PixelShuffle("upscale_factor"))
_fn(_F + "pixel_unshuffle", "input, downscale_factor", PixelShuffle("downscale_factor"))
_fn(_F + "linear", "input, weight, bias=None", WeightedLinear())
for _n in (1, 2, 3):  # the weight tensor gives the sizes (layers/weighted.py)
    for _prefix in (_F, "torch."):
        _fn(f"{_prefix}conv{_n}d", "input, weight, bias=None, stride=1, padding=0, dilation=1, "
                                   "groups=1", WeightedConv(_n))
        _fn(f"{_prefix}conv_transpose{_n}d", "input, weight, bias=None, stride=1, padding=0, "
                                             "output_padding=0, groups=1, dilation=1",
            WeightedConv(_n, transposed=True))

# ---- torch functions

for _name in ("relu", "sigmoid", "tanh"):
    _fn(f"torch.{_name}", "input" if _name == "relu" else "input, *, out=None", Elementwise())
for _name in ("softmax", "log_softmax"):
    _fn(f"torch.{_name}", "input, dim, dtype=None", Elementwise(dim="dim"))
_fn("torch.flatten", "input, start_dim=0, end_dim=-1", Flatten())
_fn("torch.squeeze", "input, dim=None", Squeeze())
_fn("torch.unsqueeze", "input, dim", Unsqueeze())
_fn("torch.transpose", "input, dim0, dim1", Transpose())
_fn("torch.permute", "input, dims", Permute())
_fn("torch.swapaxes", "input, axis0, axis1", Transpose("axis0", "axis1"))
_fn("torch.swapdims", "input, dim0, dim1", Transpose())
_fn("torch.t", "input", MatrixTranspose())
_fn("torch.movedim", "input, source, destination", MoveDim())
_fn("torch.tile", "input, dims", Repeat("dims", pads=True))
for _name in ("amax", "amin"):
    _fn(f"torch.{_name}", "input, dim=None, keepdim=False, *, out=None", Reduce(nonempty=True))
for _name in ("std", "var"):
    _fn(f"torch.{_name}", "input, dim=None, *, correction=1, keepdim=False, out=None", Reduce())
_fn("torch.argmin", "input, dim=None, keepdim=False", Reduce(single=True, nonempty=True))

# ---- tensor methods (the receiver is bound as `self`)

for _name in ("relu", "sigmoid", "tanh"):
    _method(_name, "self", Elementwise())
for _name in ("softmax", "log_softmax"):
    _method(_name, "self, dim, dtype=None", Elementwise(dim="dim"))
_method("contiguous", "self, memory_format=None", Elementwise())
_method("flatten", "self, start_dim=0, end_dim=-1", Flatten())
_method("squeeze", "self, dim=None", Squeeze())
_method("unsqueeze", "self, dim", Unsqueeze())
_method("transpose", "self, dim0, dim1", Transpose())
_method("permute", "self, *dims", Permute())
_method("mean", "self, dim=None, keepdim=False, *, dtype=None", Reduce())
_method("sum", "self, dim=None, keepdim=False, *, dtype=None", Reduce())
for _name in ("amax", "amin"):
    _method(_name, "self, dim=None, keepdim=False", Reduce(nonempty=True))
for _name in ("argmax", "argmin"):
    _method(_name, "self, dim=None, keepdim=False", Reduce(single=True, nonempty=True))
for _name in ("std", "var"):
    _method(_name, "self, dim=None, *, correction=1, keepdim=False", Reduce())
_method("logsumexp", "self, dim, keepdim=False", Reduce())
_method("swapaxes", "self, axis0, axis1", Transpose("axis0", "axis1"))
_method("swapdims", "self, dim0, dim1", Transpose())
_method("t", "self", MatrixTranspose())
for _name in ("movedim", "moveaxis"):
    _method(_name, "self, source, destination", MoveDim())
_method("repeat", "self, *repeats", Repeat("repeats"))
_method("tile", "self, *dims", Repeat("dims", pads=True))
_method("expand", "self, *size", Expand())

# ---- einops: its functions, and the layers of einops.layers.torch (signatures of einops 0.8)

_fn("einops.rearrange", "tensor, pattern, **axes_lengths", Einops("rearrange"))
_fn("einops.repeat", "tensor, pattern, **axes_lengths", Einops("repeat"))
_fn("einops.reduce", "tensor, pattern, reduction, **axes_lengths", Einops())
for _name, _params, _family in (("Rearrange", "pattern, **axes_lengths", Einops("rearrange", True)),
                                ("Reduce", "pattern, reduction, **axes_lengths", Einops("", True)),
                                ("EinMix", "pattern, weight_shape, bias_shape=None, **axes_lengths",
                                 EinMix())):
    LAYERS[f"einops.layers.torch.{_name}"] = LayerType(_name, f"einops.layers.torch.{_name}",
                                                       _params, _family)
