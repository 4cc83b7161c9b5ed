"""Normalisation: batch, instance, group, layer, RMS and local response norms."""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes
from conv_lint.layers.base import (
    Channels, Family, Problem, Shape, as_channels, as_flag, as_int, as_ints, demand, differs,
    dim_text, first_of, invalid, not_positive, or_higher, outcome, shape_text, spatial_ranks,
    too_small, wrong_rank,
)
from conv_lint.records import record


def _affine_params(b: dict, flag: str, count: Optional[int]) -> Optional[int]:
    """weight and (unless bias=False) bias of ``count`` elements each, when ``flag`` is on."""
    affine, bias = as_flag(b[flag]), as_flag(b.get("bias", True))
    if affine is None or bias is None or count is None:
        return None
    return count * (1 + bias) if affine else 0


def _features_problem(b: dict, got, compared: Optional[bool]) -> Optional[Problem]:
    """CNV102 when weights or running stats (``compared``: the layer has some) are sized for
    other features than the input's ``got``. Without either, torch never compares the two."""
    expected = as_channels(b["num_features"])
    if compared and expected is not None and differs(expected, got):
        return Problem("CNV102", {"expected": expected, "got": dim_text(got),
                                  "what": "features"}, "num_features")
    return None


def _has_stats_or_weights(b: dict) -> Optional[bool]:
    affine, tracked = as_flag(b["affine"]), as_flag(b["track_running_stats"])
    return None if affine is None or tracked is None else affine or tracked


class _FeatureNorm(Family):
    """What batch and instance norms share: num_features channels in and out, and affine
    weights (and bias) of num_features each."""

    elementwise = True

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", as_int(b["num_features"]))

    def parameter_shape(self, b: dict, name: str) -> Optional[tuple]:
        """weight, bias, running_mean, running_var: one value per feature."""
        features = as_channels(b["num_features"])
        flag = {"weight": "affine", "bias": "affine", "running_mean": "track_running_stats",
                "running_var": "track_running_stats"}.get(name)
        if flag is None or features is None or not as_flag(b[flag]):
            return None  # absent (None in torch) or unknown
        return (features,)

    def in_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b["num_features"])

    out_channels = in_channels


@record(frozen=True)
class BatchNorm(_FeatureNorm):
    """BatchNorm1d/2d/3d (and SyncBatchNorm): features on axis 1 of the ranks given."""

    ranks: tuple  # accepted input ranks; () = any rank from 2 up (SyncBatchNorm)

    def apply(self, b: dict, shape: Shape) -> tuple:
        if _rank_ok(shape, self.ranks, 2) is False:
            expected = " or ".join(f"{n}D" for n in self.ranks) if self.ranks else or_higher(2)
            return None, [wrong_rank(expected, shape)]
        return outcome(shape, first_of(_features_problem(b, shape[1], _has_stats_or_weights(b))))

    def demands(self, b: dict, shape: Shape) -> dict:
        return demand("num_features", shape[1]) if _rank_ok(shape, self.ranks, 2) else {}


def _rank_ok(shape: Shape, ranks: tuple, minimum: int) -> bool:
    return len(shape) in ranks if ranks else len(shape) >= minimum


@record(frozen=True)
class InstanceNorm(_FeatureNorm):
    """InstanceNorm1d/2d/3d: one rank, batched or not."""

    rank: int

    def apply(self, b: dict, shape: Shape) -> tuple:
        r = self.rank
        if len(shape) not in (r + 1, r + 2):
            return None, [wrong_rank(spatial_ranks(r), shape)]
        channels, spatial = shape[-r - 1], shape[-r:]
        one_element = all(type(n) is int for n in spatial) and sizes.product(spatial) == 1
        # torch's order: the affine weights, the spatial size, then the running stats
        return outcome(shape, first_of(
            _features_problem(b, channels, as_flag(b["affine"])),
            too_small(f"needs more than 1 spatial element per channel (got "
                       f"{' x '.join(map(str, spatial))})") if one_element else None,
            _features_problem(b, channels, _has_stats_or_weights(b)),
        ))

    def demands(self, b: dict, shape: Shape) -> dict:
        r = self.rank
        return demand("num_features", shape[-r - 1]) if len(shape) in (r + 1, r + 2) else {}


class GroupNorm(Family):
    """nn.GroupNorm (num_groups, num_channels) and F.group_norm (num_groups only)."""

    elementwise = True

    def check(self, b: dict) -> list:
        groups, channels = as_int(b["num_groups"]), as_int(b.get("num_channels"))
        if groups is None or channels is None:
            return []
        if groups == 0:
            return [invalid("num_groups", "num_groups must not be zero", "init")]
        if channels % groups:
            return [Problem("CNV109", {"what": "num_channels", "value": channels,
                                       "groups": groups}, "num_groups", "init")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 2:
            return None, [wrong_rank(or_higher(2), shape)]
        groups, channels = as_int(b["num_groups"]), as_channels(b.get("num_channels"))
        got = shape[1]
        if groups and type(got) is int and got % groups:  # torch checks this first
            return None, [Problem("CNV109", {"what": "input channels", "value": got,
                                             "groups": groups}, "num_groups")]
        if channels is not None and as_flag(b.get("affine")) and differs(channels, got):
            return None, [Problem("CNV102", {"expected": channels, "got": dim_text(got),
                                             "what": "channels"}, "num_channels")]
        return shape, []

    def demands(self, b: dict, shape: Shape) -> dict:
        groups = as_int(b["num_groups"])
        got = shape[1] if len(shape) >= 2 and "num_channels" in b else None
        if not groups or type(got) is not int or got % groups:
            return {}
        return demand("num_channels", got)

    def params(self, b: dict) -> Optional[int]:
        return _affine_params(b, "affine", as_int(b.get("num_channels")))

    def in_channels(self, b: dict) -> Optional[Channels]:
        return as_channels(b.get("num_channels"))

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
        return (value,) if as_int(value) is not None else as_ints(value)

    def check(self, b: dict) -> list:
        if b["normalized_shape"] == ():
            return [invalid("normalized_shape", "normalized_shape must not be empty")]
        if self.functional and as_int(b["normalized_shape"]) is not None:
            return [invalid("normalized_shape", "normalized_shape must be a tuple of ints")]
        return []

    def apply(self, b: dict, shape: Shape) -> tuple:
        normalized = self._normalized(b)
        if normalized is None:
            return shape, []
        if len(shape) < len(normalized):
            return None, [wrong_rank(or_higher(len(normalized)), shape)]
        got = shape[len(shape) - len(normalized):]
        if any(differs(e, g) for e, g in zip(normalized, got)):
            if len(normalized) == 1:
                fields = {"expected": normalized[0], "got": dim_text(got[0]),
                          "what": "features on the last axis"}
            else:
                fields = {"expected": shape_text(normalized), "got": shape_text(got),
                          "what": "as the last axes"}
            return None, [Problem("CNV102", fields, "normalized_shape")]
        return shape, []

    def params(self, b: dict) -> Optional[int]:
        normalized, affine = self._normalized(b), as_flag(b.get("elementwise_affine"))
        bias = as_flag(b.get("bias", True)) if self.bias_param else False
        if normalized is None or affine is None or bias is None:
            return None
        count = 1
        for n in normalized:
            count *= n
        return count * (1 + bias) if affine else 0


class LocalResponseNorm(Family):
    elementwise = True

    def check(self, b: dict) -> list:
        return not_positive(b, "size")

    def apply(self, b: dict, shape: Shape) -> tuple:
        if len(shape) < 3:
            return None, [wrong_rank(or_higher(3), shape)]
        return shape, []
