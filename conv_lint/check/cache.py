"""The content cache: a file's findings, stored under the hash of what produced them.

The key is the file's text, conv-lint's version and code, the input shape and the rule options:
anything else (path, select, noqa) is applied after the cache, so a renamed or copied file is
still a hit. One small JSON file per entry, written atomically (a temporary file renamed over
it); an entry that does not read back is a miss. The folder holds a `.gitignore` of `*`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from conv_lint import __version__
from conv_lint.engine import Edit, Finding, Fix

FOLDER = ".conv_lint_cache"
_PACKAGE = Path(__file__).resolve().parent.parent


def salt(input_shape: Optional[tuple[int, ...]], options: Any) -> str:
    """Everything besides the source that decides a file's findings."""
    return json.dumps({"version": __version__, "code": _code_stamp(),
                       "input_shape": input_shape, "options": repr(options)}, sort_keys=True)


def _code_stamp() -> str:
    """conv-lint's own files (size and time): an edited checker never reads stale entries."""
    stamp = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        info = path.stat()
        stamp.update(f"{path.relative_to(_PACKAGE)}:{info.st_size}:{info.st_mtime_ns};".encode())
    return stamp.hexdigest()


class Cache:
    """Findings by content key in ``folder``; a None folder (--no-cache) stores nothing."""

    def __init__(self, folder: Optional[Path], salt_text: str) -> None:
        self.folder = folder
        self.salt = salt_text.encode()
        self.hits = 0
        self.misses = 0

    def key(self, source: str, filename: str = "") -> str:
        """By content, salt and place: the same text elsewhere may import other siblings."""
        text = source.encode("utf-8", "surrogatepass")
        place = filename.encode("utf-8", "surrogatepass")
        return hashlib.sha256(self.salt + b"\0" + place + b"\0" + text).hexdigest()

    def get(self, key: str) -> Optional[tuple[list[Finding], Optional[str]]]:
        """(findings, analysis error) stored under ``key``, or None."""
        if self.folder is None:
            return None
        try:
            entry = json.loads((self.folder / key[:2] / f"{key}.json").read_text("utf-8"))
            found = [_finding(item) for item in entry["findings"]], entry["error"]
            if fingerprints(entry.get("read", {})) != entry.get("read", {}):
                raise ValueError("a sibling module changed")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1  # absent or corrupt: analyse again (and overwrite it)
            return None
        self.hits += 1
        return found

    def put(self, key: str, findings: list[Finding], error: Optional[str],
            read: Optional[dict] = None) -> None:
        """``read``: the fingerprints of the sibling files the analysis read."""
        if self.folder is None:
            return
        entry = {"findings": [finding_json(finding) for finding in findings], "error": error,
                 "read": read or {}}
        try:
            self._prepare()
            folder = self.folder / key[:2]
            folder.mkdir(exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out)
            os.replace(temporary, folder / f"{key}.json")
        except OSError:  # a read-only tree: run without a cache
            self.folder = None

    def _prepare(self) -> None:
        assert self.folder is not None
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text("# created by conv-lint\n*\n")
            (self.folder / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# conv-lint cache\n")


def fingerprints(paths) -> dict:
    """Path -> hash of its bytes ("" if unreadable): what a cached result read besides its own
    source, compared again before the result is reused."""
    prints = {}
    for path in sorted(paths):
        try:
            prints[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            prints[path] = ""
    return prints


def finding_json(finding: Finding) -> dict:
    """A Finding as plain data (the cache's form; the formats build their own)."""
    fix = finding.fix
    return {
        "line": finding.line, "col": finding.col, "code": finding.code,
        "message": finding.message,
        "fix": None if fix is None else {
            "description": fix.description,
            "edits": [[e.line, e.col, e.end_line, e.end_col, e.text] for e in fix.edits],
        },
    }


def _finding(item: dict) -> Finding:
    fix = item["fix"]
    if fix is not None:
        fix = Fix(str(fix["description"]), tuple(Edit(*edit) for edit in fix["edits"]))
    return Finding(int(item["line"]), int(item["col"]), str(item["code"]), str(item["message"]),
                   fix)
