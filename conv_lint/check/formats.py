"""The output formats of `conv-lint check`: text, json, sarif, github and rdjson.

Each takes the reports (one per file: its display path, source and shown findings, in output
order) and returns the whole text to print. Findings carry 1-based lines and 0-based columns
counted in characters; each format converts to its own convention: 1-based characters for text
(as flake8 prints), json, github and SARIF (which says so with `columnKind`), 1-based UTF-8
bytes for rdjson (reviewdog's convention).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, NamedTuple, Optional
from urllib.parse import quote

from conv_lint import __version__
from conv_lint.check.sources import split_lines
from conv_lint.codes import CODES, REPOSITORY

TOOL = "conv-lint"


class Report(NamedTuple):
    path: str  # as shown: relative to the working directory when under it
    source: str
    findings: list  # engine.Finding, shown ones only, sorted by line and column


def render(name: str, reports: list[Report]) -> str:
    return FORMATS[name](reports)


# -- text and github ---------------------------------------------------------------------------

def text(reports: list[Report]) -> str:
    return "".join(f"{report.path}:{f.line}:{f.col + 1}: {f.code} {f.message}\n"
                   for report in reports for f in report.findings)


def github(reports: list[Report]) -> str:
    """GitHub Actions workflow commands: an annotation on the line of each finding."""
    lines = []
    for report in reports:
        for f in report.findings:
            level = CODES[f.code].severity  # GitHub's commands are `::error` and `::warning`
            properties = ",".join(f"{key}={_github_property(str(value))}" for key, value in (
                ("file", report.path), ("line", f.line), ("col", f.col + 1), ("title", f.code)))
            lines.append(f"::{level} {properties}::{_github_data(f.message)}\n")
    return "".join(lines)


def _github_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(value: str) -> str:
    return _github_data(value).replace(":", "%3A").replace(",", "%2C")


# -- json --------------------------------------------------------------------------------------

def json_list(reports: list[Report]) -> str:
    """A list of findings; lines and columns 1-based, `fix` null or its edits (README)."""
    items = []
    for report in reports:
        for f in report.findings:
            code = CODES[f.code]
            items.append({
                "path": report.path, "line": f.line, "column": f.col + 1,
                "code": f.code, "name": code.name, "message": f.message,
                "severity": code.severity, "url": code.url,
                "fix": None if f.fix is None else {
                    "description": f.fix.description,
                    "edits": [{"line": e.line, "column": e.col + 1, "end_line": e.end_line,
                               "end_column": e.end_col + 1, "text": e.text}
                              for e in f.fix.edits],
                },
            })
    return json.dumps(items, indent=2) + "\n"


# -- SARIF 2.1.0 -------------------------------------------------------------------------------

_MEANING = {"error": "torch raises on such a model.",  # severity: the SARIF level
            "warning": "A design warning: the model runs, but the layer is probably not what "
                       "was meant."}


def sarif(reports: list[Report]) -> str:
    codes = list(CODES.values())
    index = {code.code: number for number, code in enumerate(codes)}
    rules = [{
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": f"{code.summary} {_MEANING[code.severity]}"},
        "helpUri": code.url,
        "defaultConfiguration": {"level": code.severity},
    } for code in codes]
    results = []
    for report in reports:
        location = {"uri": _uri(report.path)}
        for f in report.findings:
            result = {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": CODES[f.code].severity,
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": f.line, "startColumn": f.col + 1},
                }}],
            }
            if f.fix is not None:
                result["fixes"] = [{
                    "description": {"text": f.fix.description},
                    "artifactChanges": [{"artifactLocation": location, "replacements": [{
                        "deletedRegion": {"startLine": e.line, "startColumn": e.col + 1,
                                          "endLine": e.end_line, "endColumn": e.end_col + 1},
                        "insertedContent": {"text": e.text},
                    } for e in f.fix.edits]}],
                }]
            results.append(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": __version__,
                                "informationUri": REPOSITORY, "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


def _uri(path: str) -> str:
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return quote(Path(path).as_posix())


# -- rdjson (reviewdog) ------------------------------------------------------------------------

def rdjson(reports: list[Report]) -> str:
    """reviewdog's Diagnostic Format: https://github.com/reviewdog/reviewdog/tree/master/proto."""
    diagnostics = []
    for report in reports:
        position = _byte_position(split_lines(report.source))
        for f in report.findings:
            code = CODES[f.code]
            diagnostic = {
                "message": f.message,
                "location": {"path": report.path,
                             "range": {"start": position(f.line, f.col)}},
                "severity": code.severity.upper(),
                "code": {"value": f.code, "url": code.url},
            }
            if f.fix is not None:
                diagnostic["suggestions"] = [{
                    "range": {"start": position(e.line, e.col),
                              "end": position(e.end_line, e.end_col)},
                    "text": e.text,
                } for e in f.fix.edits]
            diagnostics.append(diagnostic)
    document = {"source": {"name": TOOL, "url": REPOSITORY}, "diagnostics": diagnostics}
    return json.dumps(document, indent=2) + "\n"


def _byte_position(lines: list[str]) -> Callable[[int, int], dict]:
    """(1-based line, 0-based character column) -> reviewdog's 1-based UTF-8 byte position."""
    def position(line: int, col: int) -> dict:
        text: Optional[str] = lines[line - 1] if 1 <= line <= len(lines) else None
        column = col if text is None else len(text[:col].encode("utf-8", "surrogatepass"))
        return {"line": line, "column": column + 1}

    return position


FORMATS: dict[str, Callable[[list[Report]], str]] = {
    "text": text, "json": json_list, "sarif": sarif, "github": github, "rdjson": rdjson,
}
