"""Run conv-lint over files in a child process and say how each one went.

``python tests/survive.py [--plugin]`` reads paths from stdin, one per line, and
for each prints ``start PATH`` before and ``done PATH OUTCOME`` after analysing it, where
OUTCOME is ``ok``, the analysis's ``internal error: ...``, or why it skipped the file
(``skipped: nesting too deep to analyse``), then ``found PATH LINE:CODE ...``. ``--plugin``
also runs the flake8 plugin's ``run()`` on the file (an exception escaping it, or one it had
to swallow, is an internal error).

The parent (see :func:`run`) learns from the last ``start`` line which file hung or crashed
the process: a segfault in a native parser cannot be caught in the process it happens in.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

INTERNAL = "internal error"


class _Swallowed(logging.Handler):
    """Collects what the plugin logs about errors it caught instead of raising them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if INTERNAL in message:
            self.messages.append(message)


def outcome(source: str, filename: str, plugin: bool) -> str:
    """"ok", or what went wrong: an internal error of the engine or of the plugin."""
    from conv_lint.engine import analyse

    return judge(analyse(source, filename), source, filename, plugin)


def judge(analysis, source: str, filename: str, plugin: bool) -> str:
    if analysis.error and analysis.error.startswith(INTERNAL):
        return analysis.error
    if plugin:
        result = plugin_outcome(source, filename)
        if result != "ok":
            return result
    return f"skipped: {analysis.error}" if analysis.error else "ok"


def plugin_outcome(source: str, filename: str) -> str:
    from conv_lint.plugin import LOG, ConvLintPlugin

    handler = _Swallowed()
    LOG.addHandler(handler)
    level = LOG.level
    LOG.setLevel(logging.DEBUG)
    try:
        list(ConvLintPlugin(None, source.splitlines(keepends=True), filename).run())
    except Exception as error:  # noqa: BLE001 - what escapes the plugin aborts flake8's run
        return f"{INTERNAL} escaped the plugin: {type(error).__name__}: {error}"
    finally:
        LOG.removeHandler(handler)
        LOG.setLevel(level)
    return handler.messages[0] if handler.messages else "ok"


def main(argv: list) -> None:
    from conv_lint.engine import analyse

    plugin = "--plugin" in argv
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            source = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        print(f"start {path}", flush=True)
        analysis = analyse(source, path)
        result = judge(analysis, source, path, plugin).replace("\n", " ")
        found = " ".join(f"{f.line}:{f.code}" for f in analysis.findings)
        print(f"done {path} {result}\nfound {path} {found}", flush=True)


@dataclass
class Report:
    done: dict = field(default_factory=dict)  # path -> outcome
    found: dict = field(default_factory=dict)  # path -> ["14:CNV103", ...]
    crashed: Optional[str] = None  # the file being analysed when the process died or hung
    how: str = ""

    def failures(self) -> list:
        found = [f"{path}: {result}" for path, result in self.done.items()
                 if result.startswith(INTERNAL)]
        if self.crashed is not None:
            found.append(f"{self.crashed}: {self.how}")
        return found


def run(paths: list, *, plugin: bool = False, timeout: float = 600) -> Report:
    """Analyse ``paths`` in a child process; ``timeout`` (s) catches a hang."""
    command = [sys.executable, __file__] + (["--plugin"] if plugin else [])
    text = "".join(f"{path}\n" for path in paths)
    try:
        result = subprocess.run(command, input=text, capture_output=True, text=True,
                                timeout=timeout)
        stdout, how = result.stdout, "" if result.returncode == 0 else (
            f"the process died (exit {result.returncode}): {result.stderr[-500:]}")
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (
            expired.stdout or "")
        how = f"no answer within {timeout} s (a hang)"
    return read_report(stdout, how)


def read_report(stdout: str, how: str = "") -> Report:
    """The child's ``start`` / ``done`` lines as a Report; ``how``: why it stopped, if early."""
    report, current = Report(), None
    for line in stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "start":
            current = rest
        elif kind == "done" and current is not None:
            report.done[current] = rest[len(current) + 1:]
        elif kind == "found" and current is not None:
            report.found[current] = rest[len(current) + 1:].split()
            current = None
    if how:
        report.crashed, report.how = current or "(before the first file)", how
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
