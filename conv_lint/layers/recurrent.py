"""Recurrent layers: RNN, LSTM, GRU and their cells.

Their forward gives a structure (LSTM: ``(output, (h_n, c_n))``), so they are judged by
``Family.forward``. An initial state (``hx``) is accepted and not checked.
"""

from __future__ import annotations

from typing import Optional

from conv_lint.algebra import sizes, symbols
from conv_lint.interpreter.values import UNKNOWN
from conv_lint.layers.base import (
    Family, Problem, Shaped, as_channels, as_flag, as_int, demand, dim_text, differs, invalid,
    too_small, wrong_rank,
)
from conv_lint.records import record

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}  # weight blocks per layer: w_ih is (gates*hidden, in)
NONLINEARITIES = ("tanh", "relu")


def times(*factors):
    """The product of ints and channel counts (Polys); None if any is unknown."""
    total = 1
    for factor in factors:
        value = as_channels(factor)
        if value is None:
            return None
        total = symbols.multiply(total, value)
    return total


def features_mismatch(expected, got, arg: str) -> Optional[Problem]:
    """CNV112: the last axis is not the size the layer was built for."""
    expected = as_channels(expected)
    if expected is None or not differs(expected, got):
        return None
    return Problem("CNV112", {"expected": expected, "got": dim_text(got)}, arg)


def undecided(expected, got) -> bool:
    """A last axis that may or may not be the size expected (symbolic, the batch, unknown):
    whether torch runs depends on the input, so nothing after it is known (a later layer's
    claim would hold only for the inputs that pass this one)."""
    expected = as_channels(expected)
    return expected is not None and got != expected and not sizes.proven_equal(got, expected) \
        and not differs(expected, got)  # a mismatch: torch raises there


def _not_bool(b: dict, name: str) -> Optional[Problem]:
    value = b[name]
    if value is UNKNOWN or isinstance(value, bool) or not isinstance(
            value, (int, float, str, tuple, type(None))):
        return None
    return invalid(name, f"{name} should be of type bool (got {value!r})", "init")


def _size_problem(b: dict, name: str) -> Optional[Problem]:
    """RNNBase's checks of input_size / hidden_size: an int greater than zero."""
    value = b[name]
    if isinstance(value, (float, str, tuple, type(None))):
        return invalid(name, f"{name} should be of type int (got {value!r})", "init")
    if as_int(value) is not None and value <= 0:
        return invalid(name, f"{name} must be greater than zero (got {value})", "init")
    return None


@record(frozen=True)
class Recurrent(Family):
    """nn.RNN, nn.LSTM, nn.GRU: input (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in)."""

    mode: str  # "RNN", "LSTM" or "GRU"

    def check(self, b: dict) -> list:
        """RNN's nonlinearity first, then RNNBase.__init__'s checks in its order."""
        if self.mode == "RNN" and isinstance(b["nonlinearity"], str) \
                and b["nonlinearity"] not in NONLINEARITIES:
            return [invalid("nonlinearity", f"unknown nonlinearity {b['nonlinearity']!r} "
                                            "(select from 'tanh' or 'relu')", "init")]
        dropout = b["dropout"]
        if isinstance(dropout, bool) or isinstance(dropout, (str, tuple, type(None))) or (
                type(dropout) in (int, float) and not 0 <= dropout <= 1):
            return [invalid("dropout", f"dropout should be a number in range [0, 1] "
                                       f"(got {dropout!r})", "init")]
        problems = [_not_bool(b, "bias"), _not_bool(b, "batch_first"),
                    _size_problem(b, "input_size"), _size_problem(b, "hidden_size")]
        layers_, proj, hidden = (as_int(v) for v in (b["num_layers"], self._proj(b),
                                                     b["hidden_size"]))
        if layers_ is not None and layers_ <= 0:
            problems.append(invalid("num_layers", f"num_layers must be greater than zero "
                                                  f"(got {layers_})", "init"))
        if proj is not None and proj < 0:
            problems.append(invalid("proj_size", f"proj_size must not be negative (got {proj})",
                                    "init"))
        elif proj is not None and hidden is not None and proj >= hidden:
            problems.append(invalid("proj_size", f"proj_size ({proj}) has to be smaller than "
                                                 f"hidden_size ({hidden})", "init"))
        return [p for p in problems if p is not None][:1]

    def _proj(self, b: dict):
        return b["proj_size"] if self.mode == "LSTM" else 0

    def _directions(self, b: dict) -> Optional[int]:
        flag = as_flag(b["bidirectional"])
        return None if flag is None else 2 if flag else 1

    def _hidden_out(self, b: dict):
        """H_out: proj_size when there is a projection, else hidden_size."""
        proj = as_int(self._proj(b))
        if proj is None:
            return None
        return proj if proj > 0 else as_channels(b["hidden_size"])

    def forward(self, b: dict, call: dict) -> tuple:
        x = call["input"]
        if not isinstance(x, Shaped):
            return UNKNOWN, []
        shape = x.shape
        batch_first = as_flag(b["batch_first"])
        if shape is not None and len(shape) not in (2, 3):
            return None, [wrong_rank("2D (unbatched) or 3D (batched)", shape)]
        if shape is not None:
            problem = features_mismatch(b["input_size"], shape[-1], "input_size")
            if problem is not None:
                return None, [problem]
            if undecided(b["input_size"], shape[-1]):
                shape = None
        if shape is not None:
            length = shape[1 if batch_first and len(shape) == 3 else 0]
            if length == 0 and batch_first is not None:
                return None, [too_small("expects a sequence length larger than 0")]
        d, h_out, hidden = self._directions(b), self._hidden_out(b), as_channels(b["hidden_size"])
        states = times(d, b["num_layers"])
        if shape is None or batch_first is None:
            out = h = c = None
        elif len(shape) == 2:
            out, h, c = (shape[0], times(d, h_out)), (states, h_out), (states, hidden)
        else:
            batch = shape[0] if batch_first else shape[1]
            out = shape[:2] + (times(d, h_out),)
            h, c = (states, batch, h_out), (states, batch, hidden)
        if self.mode == "LSTM":
            return (Shaped(out), (Shaped(h), Shaped(c))), []
        return (Shaped(out), Shaped(h)), []

    def demands(self, b: dict, shape) -> dict:
        return demand("input_size", shape[-1]) if shape else {}

    def params(self, b: dict) -> Optional[int]:
        """Per layer and direction: w_ih, w_hh (and w_hr with a projection), two biases."""
        gates = GATES[self.mode]
        size, hidden, layers_ = (as_int(b[k]) for k in ("input_size", "hidden_size", "num_layers"))
        d, h_out, bias = self._directions(b), self._hidden_out(b), as_flag(b["bias"])
        proj = as_int(self._proj(b))
        if None in (size, hidden, layers_, d, h_out, bias, proj) or type(h_out) is not int:
            return None
        if layers_ < 1:
            return None

        def one_layer(fan_in: int) -> int:  # both directions
            weights = gates * hidden * (fan_in + h_out) + (2 * gates * hidden if bias else 0)
            return d * (weights + proj * hidden)

        return one_layer(size) + (layers_ - 1) * one_layer(d * h_out)  # no loop: 10**8 layers

    def in_channels(self, b: dict):
        return as_channels(b["input_size"])


@record(frozen=True)
class RecurrentCell(Family):
    """nn.RNNCell, nn.LSTMCell, nn.GRUCell: one step, input (N, H_in) or (H_in,)."""

    mode: str

    def check(self, b: dict) -> list:
        """The weights are allocated at construction; RNNCell's nonlinearity is read at the
        call."""
        for name in ("input_size", "hidden_size"):
            value = as_int(b[name])
            if value is not None and value < 0:
                return [invalid(name, f"{name} must not be negative (got {value})", "init")]
        if self.mode == "RNN" and isinstance(b["nonlinearity"], str) \
                and b["nonlinearity"] not in NONLINEARITIES:
            return [invalid("nonlinearity", f"unknown nonlinearity {b['nonlinearity']!r}",
                            "forward")]
        return []

    def forward(self, b: dict, call: dict) -> tuple:
        x = call["input"]
        if not isinstance(x, Shaped):
            return UNKNOWN, []
        shape, out = x.shape, None
        if shape is not None:
            if len(shape) not in (1, 2):
                return None, [wrong_rank("1D (unbatched) or 2D (batched)", shape)]
            problem = features_mismatch(b["input_size"], shape[-1], "input_size")
            if problem is not None:
                return None, [problem]
            if not undecided(b["input_size"], shape[-1]):
                out = shape[:-1] + (as_channels(b["hidden_size"]),)
        if self.mode == "LSTM":
            return (Shaped(out), Shaped(out)), []
        return Shaped(out), []

    def demands(self, b: dict, shape) -> dict:
        return demand("input_size", shape[-1]) if shape else {}

    def params(self, b: dict) -> Optional[int]:
        gates, size, hidden = GATES[self.mode], as_int(b["input_size"]), as_int(b["hidden_size"])
        bias = as_flag(b["bias"])
        if None in (size, hidden, bias) or size < 0 or hidden < 0:
            return None
        return gates * hidden * (size + hidden) + (2 * gates * hidden if bias else 0)

    def in_channels(self, b: dict):
        return as_channels(b["input_size"])
