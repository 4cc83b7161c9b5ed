"""`--diff-base REF`: the lines each file added or changed since a git ref.

The working tree is compared with REF (`git diff -U0 REF`); the `+` side of each hunk gives the
changed lines. A file git does not track counts as all new. Review bots use this to comment
only on the lines a pull request touches.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from conv_lint.check.sources import split_lines

ALL_LINES = None  # a file that is new as a whole
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class DiffBaseError(Exception):
    """Not a git repository, git missing, or a ref git does not know."""


def changed_lines(ref: str, files: Sequence[Path], where: Path
                  ) -> dict[Path, Optional[set[int]]]:
    """Resolved path -> the lines added or changed since ``ref`` (ALL_LINES for a new file)."""
    top = _top_and_ref(ref, where)
    tracked = {top / name for name in _git(["ls-files", "-z"], top).split("\0") if name}
    diff = _git(["-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff",
                 "--no-renames", "--src-prefix=a/", "--dst-prefix=b/", ref, "--"], top)
    added = parse_diff(diff, top)
    result: dict[Path, Optional[set[int]]] = {}
    for path in files:
        resolved = path.resolve()
        result[resolved] = added.get(resolved, set()) if resolved in tracked else ALL_LINES
    return result


def changed_lines_of_text(ref: str, path: Path, text: str) -> Optional[set[int]]:
    """The lines of ``text`` (stdin, standing for ``path``) added or changed since ``ref``."""
    top = _top_and_ref(ref, path.parent if path.parent.is_dir() else Path.cwd())
    try:
        name = path.resolve().relative_to(top).as_posix()
        old = _git(["show", f"{ref}:{name}"], top)
    except (ValueError, DiffBaseError):  # outside the repository, or not in REF: all new
        return ALL_LINES
    old_lines, new_lines = ([line.rstrip("\r\n") for line in split_lines(each)]
                            for each in (old, text))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    return {line + 1 for tag, _, _, start, end in matcher.get_opcodes() if tag != "equal"
            for line in range(start, end)}


def _top_and_ref(ref: str, where: Path) -> Path:
    """The repository's top folder; DiffBaseError if there is none or it does not know REF."""
    top = Path(_git(["rev-parse", "--show-toplevel"], where,
                    f"--diff-base: {where} is not in a git repository").strip()).resolve()
    if ref.startswith("-"):
        raise DiffBaseError(f"--diff-base: unknown git ref {ref!r}")
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top,
         f"--diff-base: unknown git ref {ref!r}")
    return top


def parse_diff(diff: str, top: Path) -> dict[Path, set[int]]:
    """The added line numbers of each file of a `git diff -U0` (paths under ``top``)."""
    added: dict[Path, set[int]] = {}
    current: Optional[set[int]] = None
    for line in diff.split("\n"):
        if line.startswith("+++ "):
            name = _unquote(line[4:])
            current = None if name == "/dev/null" else added.setdefault(top / name[2:], set())
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match["start"]), int(match["count"] or 1)
                current.update(range(start, start + count))
    return added


def _unquote(name: str) -> str:
    """git quotes a path with `"`, `\\` or control characters in it, C style."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return name


def _git(args: list[str], where: Path, failure: Optional[str] = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                              encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        raise DiffBaseError(f"--diff-base: cannot run git: {error}") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise DiffBaseError(failure or f"--diff-base: git {args[0]} failed: {reason[0]}")
    return done.stdout
