"""Options of the design rules (CNV2xx): a record (a dataclass) with no heavy imports.

flake8 imports the plugin, and the plugin this module, at every start-up (even for
``--version``): it must not pull in the rules, the layer catalogue or libcst.
"""

from __future__ import annotations

from dataclasses import fields

from conv_lint.records import record

PADDING_POLICIES = ("consistent", "strict", "off")
# CNV206: "explicit" judges only convs whose bias is written out (bias=True, bias=flag); "any" also
# the default bias, which tutorial code leaves in front of nearly every BatchNorm.
BIAS_POLICIES = ("explicit", "any", "off")


@record(frozen=True)
class Options:
    """Limits and policies of the CNV2xx rules; every field is a flake8 option and a setup.cfg
    key (``padding_policy`` -> ``--conv-padding-policy`` / ``conv-padding-policy``).
    """

    padding_policy: str = "consistent"  # consistent | strict | off (CNV201)
    early_layers: int = 2  # weight layers (convs, linears) from the input that are early (CNV203)
    max_early_stride: int = 4  # largest stride one early layer may have (CNV203)
    max_early_downsampling: int = 8  # most downsampling before the last early conv (CNV203)
    bias_before_norm: str = "explicit"  # explicit | any | off (CNV206)

    def __post_init__(self) -> None:
        if self.bias_before_norm not in BIAS_POLICIES:
            raise ValueError(f"bias-before-norm must be one of {', '.join(BIAS_POLICIES)}, "
                             f"got {self.bias_before_norm!r}")
        if self.padding_policy not in PADDING_POLICIES:
            raise ValueError(f"padding-policy must be one of {', '.join(PADDING_POLICIES)}, "
                             f"got {self.padding_policy!r}")
        for name in ("early_layers", "max_early_stride", "max_early_downsampling"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name.replace('_', '-')} must be a positive integer, "
                                 f"got {value!r}")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
