"""Which files `conv-lint check` reads: the paths given, folders walked for `*.py`.

A walk leaves out the default folders (virtualenvs, caches, build output), whatever the
`.gitignore` files of the tree (and of its parent folders up to the repository root) exclude,
and the `exclude` patterns. A file named on the command line is checked unless an `exclude`
pattern names it (so a pre-commit hook passing every staged file respects the config).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

from conv_lint.check.patterns import PatternList, decide

# Left out of every walk, whatever the configuration says.
ALWAYS_SKIPPED = (".git", ".hg", ".svn", ".conv_lint_cache")
# Left out unless the configuration's `exclude` replaces them (ruff's convention).
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".mypy_cache", ".nox", ".pytest_cache", ".ruff_cache", ".tox",
    ".venv", "venv", "__pycache__", "__pypackages__", "_build", "build", "dist", "node_modules",
    "site-packages", "*.egg-info/",
)
GITIGNORE = ".gitignore"


def python_files(root: Path, excludes: Sequence[PatternList]) -> Iterator[Path]:
    """The `*.py` files under the folder ``root``, sorted, with the excludes applied."""
    stack = _parent_gitignores(root)
    yield from _walk(root, stack, excludes)


def is_excluded(path: Path, excludes: Sequence[PatternList]) -> bool:
    """Whether an explicitly named file is excluded by an `exclude` pattern."""
    return any(patterns.excludes(path, is_folder=False) for patterns in excludes)


def _walk(folder: Path, gitignores: list, excludes: Sequence[PatternList]) -> Iterator[Path]:
    if (folder / GITIGNORE).is_file():
        gitignores = gitignores + [PatternList.from_file(folder / GITIGNORE)]
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:  # unreadable folder: nothing to check in it
        return
    for entry in entries:
        path = folder / entry.name
        is_folder = entry.is_dir(follow_symlinks=False)
        if is_folder and entry.name in ALWAYS_SKIPPED:
            continue
        if not is_folder and not (entry.name.endswith(".py") and entry.is_file()):
            continue
        if decide(gitignores, path, is_folder):
            continue
        if any(patterns.decide(path, is_folder) for patterns in excludes):
            continue
        if is_folder:
            yield from _walk(path, gitignores, excludes)
        else:
            yield path


def _parent_gitignores(root: Path) -> list:
    """The `.gitignore` files above ``root`` up to its repository's top (none outside a repo)."""
    if (root / ".git").exists():
        return []
    found = []
    for folder in root.parents:
        if (folder / GITIGNORE).is_file():
            found.append(PatternList.from_file(folder / GITIGNORE))
        if (folder / ".git").exists():
            return found[::-1]
    return []
