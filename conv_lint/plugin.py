"""The flake8 plugin: a thin door onto ``conv_lint.engine``.

flake8 imports every installed plugin at start-up (even for ``flake8 --version``) and runs it on
every file whatever ``--select`` says, so this module imports nothing heavy: the engine (and
libcst with it) is imported inside ``run()``, only for files that may hold a model.

Options: ``--conv-input-shape``, and one ``--conv-<field>`` per field of the design rules'
``options.Options`` (``padding_policy`` -> ``--conv-padding-policy``, setup.cfg key
``conv-padding-policy``), all validated in ``parse_options``: a bad value is one line, exit 2.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from typing import Any, Callable, Iterator, NoReturn, Optional

from conv_lint import __version__

# flake8 attaches its -v handler to the "flake8" logger only: a child of it shows under
# `flake8 -v` (INFO) and `flake8 -vv` (DEBUG, with tracebacks), and nowhere otherwise.
LOG = logging.getLogger("flake8.conv_lint")

_OPTION = "--conv-input-shape"
# A file without the word `torch` or `nn` cannot define or use a torch model ("connection" or
# "annotations" must not count, or nearly every file would be parsed).
MODEL_HINT = re.compile(r"\b(?:torch|nn)\b")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")  # configparser's words


def option_name(field_name: str) -> str:
    """``padding_policy`` -> ``--conv-padding-policy``."""
    return "--conv-" + field_name.replace("_", "-")


def rule_option_fields() -> list[dataclasses.Field]:
    from conv_lint.options import Options

    return list(dataclasses.fields(Options))


def parse_rule_options(values: dict[str, Any], name: Callable[[str], str] = option_name) -> Any:
    """``options.Options`` from option texts by field name (None: the default).

    Raises ValueError naming the option (``name(field)``, by default ``--conv-early-layers``) of
    the first bad value; `conv-lint check` names its own flags and config keys.
    """
    from conv_lint.options import Options

    given = {}
    for field in rule_option_fields():
        text = values.get(field.name)
        if text is None:
            continue
        try:
            given[field.name] = _convert(str(text).strip(), field.default)
            Options(**{field.name: given[field.name]})  # this field alone: the error is its own
        except ValueError as error:
            raise ValueError(f"{name(field.name)}: {error}") from None
    try:
        return Options(**given)
    except ValueError as error:  # a rule between fields
        raise ValueError(f"conv-lint options: {error}") from None


def _convert(text: str, default: Any) -> Any:
    """The option text as a value of the default's type (Options validates the value itself)."""
    if isinstance(default, bool):
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"must be true or false, got {text!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"must be an integer, got {text!r}") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"must be a number, got {text!r}") from None
    return text


class ConvLintPlugin:
    name = "conv-lint"
    version = __version__
    input_shape: Optional[tuple[int, ...]] = None  # set by parse_options, per sample
    options: Any = None  # options.Options, set by parse_options; None: the defaults
    # Codes flake8 leaves out unless the user selects them (`--select CNV`, `--extend-select
    # CNV205`); docs/rules.md ("Off by default") says why each one is here. Not `off_by_default`:
    # that flake8 attribute would switch the whole plugin off.
    default_ignore: tuple[str, ...] = ()

    def __init__(self, tree: Any, lines: list[str], filename: str) -> None:
        # `tree` makes this an AST plugin (run after flake8's own parse, not on syntax errors);
        # the engine reads `lines`, which hold the editor's unsaved buffer under --stdin.
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            _OPTION,
            default=None,
            parse_from_config=True,
            metavar="C,H,W",
            help="per-sample input shape for every model class without a "
            "`# conv-lint: input-shape=` directive or a jaxtyping annotation on forward's "
            "input, e.g. 3,32,32 (C,L / C,H,W / C,D,H,W; L for token ids: 50)",
        )
        for field in rule_option_fields():
            parser.add_option(
                option_name(field.name),
                default=None,  # None: Options' own default (flake8 gives strings, not types)
                parse_from_config=True,
                metavar="N" if type(field.default) is int else "VALUE",
                help=field.metadata.get("help", "design warnings (CNV2xx) option, see "
                                                "docs/rules.md")
                + f" (default: {field.default})",
            )
        parser.extend_default_ignore(list(cls.default_ignore))

    @classmethod
    def parse_options(cls, options: Any) -> None:
        # Validated here rather than with argparse's `type=`: flake8 does not pass config-file
        # values through `type=`, and argparse would print its multi-line usage first.
        value = options.conv_input_shape
        try:
            if value is None:
                cls.input_shape = None
            else:
                from conv_lint.source.directives import parse_shape  # not at start-up: --version

                cls.input_shape = parse_shape(value)
        except ValueError as error:
            _fail(f"{_OPTION}: {error}")
        texts = {field.name: getattr(options, "conv_" + field.name, None)
                 for field in rule_option_fields()}
        try:
            cls.options = parse_rule_options(texts)
        except ValueError as error:
            _fail(str(error))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if not may_hold_model(source):
            return
        try:
            from conv_lint import engine

            analysis = engine.analyse(source, self.filename, self.input_shape, tables=False,
                                      options=self.options, fixes=False)
        except Exception as error:  # an exception here would abort all of flake8's run
            LOG.info("conv-lint skipped %s: internal error: %r", self.filename, error)
            LOG.debug("conv-lint internal error in %s", self.filename, exc_info=True)
            return
        if analysis.error:
            LOG.info("conv-lint skipped %s: %s", self.filename, analysis.error)
        for finding in analysis.findings:
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)


_MODEL_WORDS = ("torch", "nn")


def may_hold_model(source: str) -> bool:
    """Does the word `torch` or `nn` occur in ``source``?

    ``MODEL_HINT.search(source)`` is the definition, but a regex starting with ``\\b`` is tried at
    every position (~4 ms for 100 KB); str.find jumps from one candidate to the next, and the
    regex only judges the word boundaries there (``pos`` lets ``\\b`` see the character before).
    """
    for word in _MODEL_WORDS:
        at = source.find(word)
        while at >= 0:
            if MODEL_HINT.match(source, at, at + len(word) + 1):
                return True
            at = source.find(word, at + 1)
    return False


def _fail(message: str) -> NoReturn:
    print(f"flake8: error: {message}", file=sys.stderr)
    raise SystemExit(2) from None
