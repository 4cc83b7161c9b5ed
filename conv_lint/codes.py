"""The rule catalogue: every code conv-lint can report, in one table.

CNV1xx: torch would raise (or, for CNV104, silently corrupt the batch) on this model.
CNV2xx: design warnings (reserved; the model runs but is probably not what was meant).

A message template is filled with ``str.format(**fields)``; the fields are named in the
template itself. ``summary`` is the one-line meaning used by the README and ``conv-lint codes``.
``fix`` says what the automatic fix of a finding changes, and when it is offered ("" for codes
that have none); see ``fixes/proposals.py``.
"""

from __future__ import annotations

from conv_lint.records import record

# Where each code's page lives: `[project.urls] Repository` of pyproject.toml + the docs folder
# (a test keeps the two in step). `conv-lint check` links it from SARIF, rdjson and json.
REPOSITORY = "https://github.com/conv-lint/conv-lint"
DOCS_URL = f"{REPOSITORY}/blob/main/docs/rules/"


@record(frozen=True)
class Code:
    """One code of the table: its name, message template and summary."""

    code: str
    name: str
    template: str
    summary: str
    fix: str = ""

    @property
    def severity(self) -> str:
        """"error" for CNV1xx (torch fails), "warning" for the CNV2xx design warnings."""
        return "error" if self.code.startswith("CNV1") else "warning"

    @property
    def url(self) -> str:
        """The code's documentation page (docs/rules/CNV101.md)."""
        return f"{DOCS_URL}{self.code}.md"

    def message(self, **fields: object) -> str:
        return f"{self.code} {self.template.format(**fields)}"


_TABLE = (
    Code(
        "CNV101", "conv-channel-mismatch",
        "{layer} expects {expected} input channels but receives {got}{source}",
        "A conv layer's in_channels differs from the channels of the tensor it is given.",
        "Sets in_channels to the channels the conv receives, when that count is known, the "
        "argument is an int literal (or literal arithmetic such as 64 * 2), every layer built "
        "by that constructor call receives the same count, and the conv is not grouped.",
    ),
    Code(
        "CNV102", "norm-features-mismatch",
        "{layer} expects {expected} {what} but receives {got}{source}",
        "A BatchNorm/GroupNorm/InstanceNorm/LayerNorm is sized for other features than it gets.",
        "Sets num_features (BatchNorm, InstanceNorm) or num_channels (GroupNorm) to the channels "
        "the norm receives, when that count is known, the argument is an int literal and every "
        "layer built by that constructor call receives the same count. LayerNorm: no fix (a "
        "wrong last axis usually means a missing permute, not a wrong size).",
    ),
    Code(
        "CNV103", "linear-features-mismatch",
        "{layer} expects {expected} input features but receives {got}{source}",
        "A Linear layer's in_features differs from the size of the last axis it is given "
        "(for every input size, when none is configured).",
        "Sets in_features to the size the Linear receives, when that size is a known int (an "
        "input shape is given, or the map is pooled to a fixed size), the argument is an int "
        "literal or literal arithmetic (16 * 5 * 5 becomes 1024) and every layer built by that "
        "constructor call receives the same size.",
    ),
    Code(
        "CNV104", "view-mixes-batch",
        "{call} does not match the {got} values of each sample{detail}",
        "view/reshape(-1, K) with K not the per-sample size: torch raises, or silently "
        "regroups values across samples of the batch.",
    ),
    Code(
        "CNV105", "map-too-small",
        "{layer} {detail}",
        "A kernel larger than the padded map, or an output size below 1.",
    ),
    Code(
        "CNV106", "broadcast-mismatch",
        "cannot {op} tensors of shapes {left} and {right}: {detail}",
        "An elementwise operation (residual add, multiply) of tensors that cannot broadcast.",
    ),
    Code(
        "CNV107", "cat-mismatch",
        "torch.cat along dim {dim} of shapes {shapes}: {detail}",
        "torch.cat of tensors that differ on an axis other than the one concatenated.",
    ),
    Code(
        "CNV108", "same-padding-strided",
        "{layer}: padding='same' is not supported for strided convolutions (stride={stride})",
        "padding='same' with a stride other than 1 raises at construction.",
    ),
    Code(
        "CNV109", "groups-not-dividing",
        "{layer}: {what} ({value}) must be divisible by groups ({groups})",
        "A grouped conv or GroupNorm whose channel counts are not divisible by the groups.",
    ),
    Code(
        "CNV110", "invalid-argument",
        "{layer}: {detail}",
        "An argument torch rejects: kernel/stride/dilation <= 0, an unknown padding string, "
        "output_padding not smaller than stride or dilation, pool padding over half the kernel.",
    ),
    Code(
        "CNV111", "rank-mismatch",
        "{layer} expects a {expected} input but receives shape {got}{source}",
        "A layer given a tensor with the wrong number of axes (e.g. a conv after flatten).",
    ),
    Code(
        "CNV112", "sequence-features-mismatch",
        "{layer} expects {expected} features on the last axis but receives {got}{source}",
        "A recurrent or attention layer (LSTM, GRU, RNN, their cells, MultiheadAttention, "
        "Transformer layers) is sized for other features than the last axis it is given.",
        "Sets input_size of a recurrent layer or cell to the size it receives, when that size "
        "is a known int, the argument is an int literal and every layer built by that "
        "constructor call receives the same size.",
    ),
    Code(
        "CNV113", "matmul-mismatch",
        "{op} of shapes {shapes}: {detail}",
        "A matrix product (@, matmul, mm, bmm, einsum) whose inner sizes, bmm batch sizes or "
        "einsum subscript sizes do not fit.",
    ),
    Code(
        "CNV114", "einops-pattern-mismatch",
        "{layer} '{pattern}' does not fit shape {got}: {detail}{source}",
        "An einops rearrange/reduce/repeat whose axis lengths do not fit the tensor: an axis not "
        "divisible by the lengths given for its group, or a given length contradicting it.",
    ),
    Code(
        "CNV201", "padding-changes-size",
        "{layer}: padding={padding} changes the map size ({before} -> {after}) while {peers} "
        "keep it; padding={fix} keeps it",
        "A stride-1 conv whose padding changes the map size among convs that preserve it.",
        "Sets padding to the value that keeps the size (or adds padding=N), when the padding is "
        "a literal or absent, every layer built by that constructor call gets the same "
        "warning, and the fixed file, analysed again, gains no error and still has every layer "
        "after the conv sized by known ints or fixed sizes.",
    ),
    Code(
        "CNV202", "even-kernel-padding",
        "{layer}: kernel {kernel} with padding {padding} grows the map by {growth} "
        "({before} -> {after}); an even kernel cannot keep the size with symmetric padding",
        "A stride-1 conv with an even kernel and symmetric padding that grows the map.",
    ),
    Code(
        "CNV203", "excessive-early-stride",
        "{layer}: {detail}",
        "Downsampling too aggressive in the first layers: detail is thrown away before any "
        "feature is learned.",
    ),
    Code(
        "CNV204", "stride-over-kernel",
        "{layer}: stride {stride} is larger than kernel {kernel}, so {skipped} of every "
        "{stride} input rows/columns are never read",
        "A conv or pool whose stride exceeds its kernel (1x1 projection shortcuts excepted).",
    ),
    Code(
        "CNV205", "floor-drops-input",
        "{layer}: the last {dropped} {what} of its {size} input are never read; "
        "an input of {fix} would be read whole",
        "With a known input size, a conv/pool whose last window ends before the end of its input.",
    ),
    Code(
        "CNV206", "bias-before-norm",
        "{layer} has a bias that {norm} cancels; use bias=False",
        "A conv with a bias directly followed by BatchNorm, whose mean subtraction removes it.",
        "Sets bias=False (or adds it), when the bias is a literal or absent, every layer built by "
        "that constructor call gets the same warning, and the file reads no .bias other than to "
        "test it against None.",
    ),
)

CODES: dict[str, Code] = {code.code: code for code in _TABLE}


def message(code: str, **fields: object) -> str:
    """The full flake8 message ("CNV101 ...") for ``code`` filled with ``fields``."""
    return CODES[code].message(**fields)
