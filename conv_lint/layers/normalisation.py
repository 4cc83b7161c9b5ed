"""Normalisation: batch, instance, group, layer, RMS and local response norms."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Channels, Family, Problem, Shape, _channels, _differs, _first, _flag, _int, _ints, _invalid,
    _not_positive, _or_higher, _received, _result, _spatial_ranks, _too_small, _wrong_rank,
    dim_text, shape_text,
)
from conv_lint.records import record


def _affine_params(b: dict, flag: str, count: Optional[int]) -> Optional[int]:
    """weight and (unless bias=False) bias of ``count`` elements each, when ``flag`` is on."""
    affine, bias = _flag(b[flag]), _flag(b.get("bias", True))
    if affine is None or bias is None or count is None:
        return None
    return count * (1 + bias) if affine else 0


def _features_problem(b: dict, got, compared: Optional[bool]) -> Optional[Problem]:
    """CNV102 when weights or running stats (``compared``: the layer has some) are sized for
    other features than the input's ``got``. Without either, torch never compares the two."""
    expected = _channels(b["num_features"])
    if compared and expected is not None and _differs(expected, got):
        return Problem("CNV102", {"expected": expected, "got": dim_text(got),
                                  "what": "features"}, "num_features")
    return None


def _has_stats_or_weights(b: dict) -> Optional[bool]:
    affine, tracked = _flag(b["affine"]), _flag(b["track_running_stats"])
    return None if affine is None or tracked is None else affine or tracked


class _FeatureNorm(Family):
    """What batch and instance norms share: num_features channels in and out, and affine
    weights (and bias) of num_features each."""

    elementwise = True

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", _int(b["num_features"]))

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        """weight, bias, running_mean, running_var: one value per feature."""
        features = _channels(b["num_features"])
        flag = {"weight": "affine", "bias": "affine", "running_mean": "track_running_stats",
                "running_var": "track_running_stats"}.get(name)
        if flag is None or features is None or not _flag(b[flag]):
            return None  # absent (None in torch) or unknown
        return (features,)

    def in_channels(self, b: dict) -> Optional[Channels]:
        return _channels(b["num_features"])

    out_channels = in_channels


@record(frozen=True)
class BatchNorm(_FeatureNorm):
    """BatchNorm1d/2d/3d (and SyncBatchNorm): features on axis 1 of the ranks given."""

    ranks: tuple  # accepted input ranks; () = any rank from 2 up (SyncBatchNorm)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if _rank_ok(shape, self.ranks, 2) is False:
            expected = " or ".join(f"{n}D" for n in self.ranks) if self.ranks else _or_higher(2)
            return None, [_wrong_rank(expected, shape)]
        return _result(shape, _first(_features_problem(b, shape[1], _has_stats_or_weights(b))))

    def demands(self, b: dict, shape: Shape) -> dict:
        return _received("num_features", shape[1]) if _rank_ok(shape, self.ranks, 2) else {}


def _rank_ok(shape: Shape, ranks: tuple, minimum: int) -> bool:
    return len(shape) in ranks if ranks else len(shape) >= minimum


@record(frozen=True)
class InstanceNorm(_FeatureNorm):
    """InstanceNorm1d/2d/3d: one rank, batched or not."""

    rank: int

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [_wrong_rank(_spatial_ranks(r), shape)]
        channels, spatial = shape[-r - 1], shape[-r:]
        one_element = all(type(n) is int for n in spatial) and sizes.product(spatial) == 1
        # torch's order: the affine weights, the spatial size, then the running stats
        return _result(shape, _first(
            _features_problem(b, channels, _flag(b["affine"])),
            _too_small(f"needs more than 1 spatial element per channel (got "
                       f"{' x '.join(map(str, spatial))})") if one_element else None,
            _features_problem(b, channels, _has_stats_or_weights(b)),
        ))

    def demands(self, b: dict, shape: Shape) -> dict:
        r = self.rank
        return _received("num_features", shape[-r - 1]) if len(shape) in (r + 1, r + 2) else {}


class GroupNorm(Family):
    """nn.GroupNorm (num_groups, num_channels) and F.group_norm (num_groups only)."""

    elementwise = True

    def check(self, b: dict) -> list:
        groups, channels = _int(b["num_groups"]), _int(b.get("num_channels"))
        if groups is None or channels is None:
            return []
        if groups == 0:
            return [_invalid("num_groups", "num_groups must not be zero", "init")]
        if channels % groups:
            return [Problem("CNV109", {"what": "num_channels", "value": channels,
                                       "groups": groups}, "num_groups", "init")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 2:
            return None, [_wrong_rank(_or_higher(2), shape)]
        groups, channels, got = _int(b["num_groups"]), _channels(b.get("num_channels")), shape[1]
        if groups and type(got) is int and got % groups:  # torch checks this first
            return None, [Problem("CNV109", {"what": "input channels", "value": got,
                                             "groups": groups}, "num_groups")]
        if channels is not None and _flag(b.get("affine")) and _differs(channels, got):
            return None, [Problem("CNV102", {"expected": channels, "got": dim_text(got),
                                             "what": "channels"}, "num_channels")]
        return shape, []

    def demands(self, b: dict, shape: Shape) -> dict:
        groups = _int(b["num_groups"])
        got = shape[1] if len(shape) >= 2 and "num_channels" in b else None
        if not groups or type(got) is not int or got % groups:
            return {}
        return _received("num_channels", got)

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", _int(b.get("num_channels")))

    def in_channels(self, b: dict) -> Optional[Channels]:
        return _channels(b.get("num_channels"))

    out_channels = in_channels


@record(frozen=True)
class LayerNorm(Family):
    """LayerNorm, RMSNorm, F.layer_norm: the last axes must equal normalized_shape."""

    bias_param: bool = True  # RMSNorm has a weight only
    functional: bool = False  # F.layer_norm takes a tuple only

    elementwise = True

    @staticmethod
    def _normalized(b: dict) -> Optional[tuple]:
        value = b["normalized_shape"]
        return (value,) if _int(value) is not None else _ints(value)

    def check(self, b: dict) -> list:
        if b["normalized_shape"] == ():
            return [_invalid("normalized_shape", "normalized_shape must not be empty")]
        if self.functional and _int(b["normalized_shape"]) is not None:
            return [_invalid("normalized_shape", "normalized_shape must be a tuple of ints")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        normalized = self._normalized(b)
        if normalized is None:
            return shape, []
        if len(shape) < len(normalized):
            return None, [_wrong_rank(_or_higher(len(normalized)), shape)]
        got = shape[len(shape) - len(normalized):]
        if any(_differs(e, g) for e, g in zip(normalized, got)):
            if len(normalized) == 1:
                fields = {"expected": normalized[0], "got": dim_text(got[0]),
                          "what": "features on the last axis"}
            else:
                fields = {"expected": shape_text(normalized), "got": shape_text(got),
                          "what": "as the last axes"}
            return None, [Problem("CNV102", fields, "normalized_shape")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        normalized, affine = self._normalized(b), _flag(b.get("elementwise_affine"))
        bias = _flag(b.get("bias", True)) if self.bias_param else False
        if normalized is None or affine is None or bias is None:
            return None
        count = 1
        for n in normalized:
            count *= n
        return count * (1 + bias) if affine else 0


class LocalResponseNorm(Family):
    elementwise = True

    def check(self, b: dict) -> list:
        return _not_positive(b, "size")

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [_wrong_rank(_or_higher(3), shape)]
        return shape, []
