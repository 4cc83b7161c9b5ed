"""gitignore-style path patterns: `.gitignore` files, `--exclude` and `per-file-ignores` globs.

The subset of gitignore's syntax a Python project uses: `*`, `?`, `[abc]`, `**`, a leading or
inner `/` that anchors the pattern to its base folder, a trailing `/` for folders only, `!` to
take a path back, `#` comments and backslash escapes. Paths are matched relative to the base
folder (the `.gitignore`'s, the config file's, or the working directory), with `/` separators.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, NamedTuple, Optional


class Pattern(NamedTuple):
    regex: re.Pattern
    negated: bool  # `!pattern`: takes back what an earlier pattern excluded
    folders_only: bool  # `pattern/`
    anchored: bool  # has a `/` before its end: relative to the base folder only


def compile_pattern(text: str) -> Optional[Pattern]:
    """One line of a `.gitignore` (or one glob) as a Pattern; None for blanks and comments."""
    text = _strip_trailing_spaces(text.rstrip("\n\r"))
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    elif text.startswith("\\"):  # `\#file`, `\!file`: the character itself
        text = text[1:] if text[1:2] in ("#", "!") else text
    folders_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text  # a slash at the start or in the middle anchors to the base folder
    body = _translate(text.lstrip("/"))
    prefix = "" if anchored else "(?:.*/)?"  # a bare name matches at any depth
    return Pattern(re.compile(f"^{prefix}{body}$", re.S), negated, folders_only, anchored)


def _strip_trailing_spaces(text: str) -> str:
    stripped = text.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(text):  # `name\ `: an escaped space
        return stripped + " "
    return stripped


def _translate(glob: str) -> str:
    """The regex of a gitignore glob: `*` and `?` stop at `/`, `**` crosses folders."""
    out, i, n = [], 0, len(glob)
    while i < n:
        char = glob[i]
        if glob.startswith("**", i) and (i == 0 or glob[i - 1] == "/"):
            if glob.startswith("**/", i):  # `**/` : zero or more folders
                out.append("(?:.*/)?")
                i += 3
                continue
            if i + 2 == n:  # trailing `/**`: everything inside
                out.append(".*")
                i += 2
                continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", i + 2 if glob[i + 1:i + 2] in ("!", "^", "]") else i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                inner = glob[i + 1:end]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        elif char == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


class PatternList:
    """Patterns relative to one base folder; the last matching pattern decides, as in git."""

    def __init__(self, base: Path, lines: Iterable[str]) -> None:
        self.base = base
        self.patterns = [pattern for pattern in map(compile_pattern, lines) if pattern]

    @classmethod
    def from_file(cls, path: Path) -> "PatternList":
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        return cls(path.parent, lines)

    def decide(self, path: Path, is_folder: bool) -> Optional[bool]:
        """True: excluded, False: taken back by `!`, None: no pattern says.

        Outside the base folder only the patterns without a `/` (a name at any depth) apply."""
        try:
            relative, inside = path.relative_to(self.base).as_posix(), True
        except ValueError:
            relative, inside = path.as_posix().lstrip("/"), False
        decision = None
        for pattern in self.patterns:
            if (pattern.folders_only and not is_folder) or (pattern.anchored and not inside):
                continue
            if pattern.regex.match(relative):
                decision = not pattern.negated
        return decision

    def excludes(self, path: Path, is_folder: bool) -> bool:
        """Whether ``path`` or one of its folders below the base is excluded (explicit paths)."""
        if self.decide(path, is_folder):
            return True
        return any(self.decide(parent, True) for parent in path.parents
                   if self.base in parent.parents)


def decide(lists: Iterable[PatternList], path: Path, is_folder: bool) -> bool:
    """Excluded by a stack of lists (shallow to deep): the deepest list that has a say wins."""
    excluded = False
    for patterns in lists:
        decision = patterns.decide(path, is_folder)
        if decision is not None:
            excluded = decision
    return excluded
