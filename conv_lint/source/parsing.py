"""Parsing the files an analysis reads: the linted source, and sibling modules from disk.

Each file on disk is parsed once per process, cached by path, mtime and size; a missing file or
a parse failure means unknown (silent). ``reading()`` records the paths read inside it, for a
content cache that must check them.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator, Optional

import libcst as cst

from conv_lint.source import skim

_PARSED: dict[str, tuple[tuple[int, int], Optional[cst.Module]]] = {}

_READ: Optional[set] = None  # the files read while a recording is on (see reading())


@contextmanager
def reading() -> Iterator[set]:
    """The paths of the files the analysis reads inside the block: what its result depends on
    besides the linted source (a content cache must check them)."""
    global _READ
    previous, _READ = _READ, set()
    try:
        yield _READ
    finally:
        _READ = previous


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off inside the block (as it was, after it). Parsing and
    analysing make few garbage cycles, and every pass of the collector walks every tree held
    in the parse cache: a fifth of the parse of a 10,000-line file, and a tenth of the whole
    analysis of torchvision's models. What cycles there are go at the next pass after it."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def parse_whole(source: str) -> cst.Module:
    """libcst's parse, with the cycle collector paused."""
    with collector_paused():
        return cst.parse_module(source)


def parse(source: str) -> cst.Module:
    """The parse the analysis reads: the top level in pieces, functions left for when they are
    looked up (skim.py); the cycle collector paused."""
    with collector_paused():
        return skim.parse(source, cst.parse_module)


def parse_file(path: str) -> Optional[cst.Module]:
    """``path`` parsed by libcst, cached while its mtime and size stay; None if unreadable."""
    path = os.path.abspath(path)
    if _READ is not None:
        _READ.add(path)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _PARSED.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as handle:
            module: Optional[cst.Module] = parse(handle.read())
    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
        module = None
    _PARSED[path] = (stamp, module)
    return module


def parsed_if_unchanged(filename: str, source: str) -> Optional[cst.Module]:
    """The cached tree of ``filename`` when ``source`` is its text on disk, else None (an
    editor's unsaved buffer is parsed afresh by the caller)."""
    if not filename or filename.startswith("<"):
        return None
    try:
        with open(filename, encoding="utf-8") as handle:
            if handle.read() != source:
                return None
    except (OSError, UnicodeDecodeError):
        return None
    return parse_file(filename)
