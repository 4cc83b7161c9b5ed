"""Which findings are shown: `select` / `ignore` code prefixes, per-file ignores, `# noqa`.

Prefixes work as in ruff and flake8: `CNV` is every code, `CNV2` the design warnings, `CNV201`
one code. When a code matches both lists, the longer (more specific) prefix wins, and `ignore`
wins a tie: `--select CNV --ignore CNV2` keeps the errors, `--ignore CNV2 --select CNV201` keeps
CNV201 among the warnings.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable, Sequence, Union

from conv_lint.check.sources import split_lines
from conv_lint.codes import CODES

ALL = ("CNV",)
# flake8's own patterns (flake8/defaults.py), so `# noqa` means here what it means there.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.I)
_NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.I)


def parse_codes(value: Union[str, Sequence[object]]) -> tuple[str, ...]:
    """``"CNV1, CNV201"`` or a list of them -> ``("CNV1", "CNV201")``.

    ValueError for a prefix that names no code (a typo would otherwise silently select nothing).
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    prefixes = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"expected code prefixes like CNV1 or CNV201, got {item!r}")
        prefix = item.strip().upper()
        if not prefix:
            continue
        if not any(code.startswith(prefix) for code in CODES):
            raise ValueError(f"{item.strip()!r} is not a conv-lint code or code prefix")
        prefixes.append(prefix)
    return tuple(prefixes)


def is_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    chosen = max((len(prefix) for prefix in select if code.startswith(prefix)), default=-1)
    dropped = max((len(prefix) for prefix in ignore if code.startswith(prefix)), default=-1)
    return chosen > dropped


def noqa_filter(source: str, findings: Iterable) -> list:
    """The findings a `# noqa` comment does not silence, exactly as flake8 decides.

    A `# noqa` anywhere in a statement spanning several lines covers all of them (flake8 maps
    each line to its logical line's text); `# flake8: noqa` on a line of its own skips the file.
    """
    findings = list(findings)
    if not findings or "noqa" not in source.lower():
        return findings
    lines = split_lines(source)
    if any(_NOQA_FILE.match(line) for line in lines):
        return []
    texts = _noqa_texts(source, lines)
    kept = []
    for finding in findings:
        match = _NOQA.search(texts.get(finding.line, ""))
        if match is None:
            kept.append(finding)
            continue
        codes = match.group("codes")
        if codes is None:
            continue  # a bare `# noqa` silences every code on the line
        listed = tuple(code for code in re.split(r"[,\s]+", codes.strip()) if code)
        if not finding.code.startswith(listed):
            kept.append(finding)
    return kept


def _noqa_texts(source: str, lines: list) -> dict:
    """Line number -> the text flake8 searches for `noqa` there (the whole logical line)."""
    texts: dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first, last = min(first, token.start[0]), max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1:last])
                texts.update(dict.fromkeys(range(first, last + 1), joined))
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError):
        return {}
    return texts
