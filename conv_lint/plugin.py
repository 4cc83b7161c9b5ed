"""The flake8 plugin: a thin door onto ``conv_lint.engine``.

flake8 imports every installed plugin at start-up (even for ``flake8 --version``) and runs it on
every file whatever ``--select`` says, so this module imports nothing heavy: the engine (and
libcst with it) is imported inside ``run()``, only for files that may hold a model.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Iterator, Optional

from conv_lint import __version__
from conv_lint.directives import parse_shape

# flake8 attaches its -v handler to the "flake8" logger only: a child of it shows under
# `flake8 -v` (INFO) and `flake8 -vv` (DEBUG, with tracebacks), and nowhere otherwise.
LOG = logging.getLogger("flake8.conv_lint")

_OPTION = "--conv-input-shape"
_MODEL_HINTS = ("torch", "nn")  # a file with neither cannot define or use a torch model


class ConvLintPlugin:
    name = "conv-lint"
    version = __version__
    input_shape: Optional[tuple[int, ...]] = None  # set by parse_options, per sample

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
            "`# conv-lint: input-shape=` directive, e.g. 3,32,32 (C,L / C,H,W / C,D,H,W)",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        # Validated here rather than with argparse's `type=`: flake8 does not pass config-file
        # values through `type=`, and argparse would print its multi-line usage first.
        value = options.conv_input_shape
        try:
            cls.input_shape = None if value is None else parse_shape(value)
        except ValueError as error:
            print(f"flake8: error: {_OPTION}: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if not any(hint in source for hint in _MODEL_HINTS):
            return
        try:
            from conv_lint import engine

            analysis = engine.analyse(source, self.filename, self.input_shape, tables=False)
        except Exception as error:  # an exception here would abort all of flake8's run
            LOG.info("conv-lint skipped %s: internal error: %r", self.filename, error)
            LOG.debug("conv-lint internal error in %s", self.filename, exc_info=True)
            return
        if analysis.error:
            LOG.info("conv-lint skipped %s: %s", self.filename, analysis.error)
        for finding in analysis.findings:
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)
