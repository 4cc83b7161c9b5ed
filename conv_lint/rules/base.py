"""What a design rule reads (one model's forward run) and what it may be configured with."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Optional

PADDING_POLICIES = ("consistent", "strict", "off")


@dataclass(frozen=True)
class Options:
    """Limits and policies of the CNV2xx rules; every field is a flake8 option and a
    ``[tool.conv-lint]`` key (``padding_policy`` -> ``--conv-padding-policy`` / ``padding-policy``).
    """

    padding_policy: str = "consistent"  # consistent | strict | off (CNV201)
    early_layers: int = 2  # weight layers (convs, linears) from the input that are early (CNV203)
    max_early_stride: int = 4  # largest stride one early layer may have (CNV203)
    max_early_downsampling: int = 8  # largest total downsampling before the last early conv (CNV203)

    def __post_init__(self) -> None:
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


@dataclass
class ModelRun:
    """One model's forward, as the design rules see it.

    ``calls`` are the layer and torch-function applications of forward, in execution order,
    each a ``flow.Call`` with its arguments, input and output shapes and the call that fed it.
    Calls made under an ``if`` the interpreter could not decide are left out.
    """

    cls_name: str
    calls: list
    names: dict = field(default_factory=dict)  # id(module) -> named_modules() name
    concrete: bool = False  # an input shape was given: sizes are ints

    def parent(self, call) -> Optional[str]:
        """The name of the module that holds ``call``'s layer ("" for the model itself)."""
        if call.layer is None:
            return None
        name = self.names.get(id(call.layer))
        if name is None:
            return None
        return name.rsplit(".", 1)[0] if "." in name else ""


class Rule:
    """A design rule: subclasses set ``code`` and implement ``check``."""

    code: str = ""
    # Fixit-style examples: source that must stay quiet / must warn (`# expect: CNV2xx` lines).
    VALID: tuple = ()
    INVALID: tuple = ()

    def check(self, run: ModelRun, options: Options) -> Iterable[tuple[Any, dict]]:
        raise NotImplementedError
