"""The linted file's project: its sibling modules, found on disk and read (never imported).

``from .blocks import ConvBnAct``, ``from mypkg.layers import X`` and ``import mypkg.layers as L``
name modules of the same project. The top package root is found by walking up from the linted
file while ``__init__.py`` exists; ``mypkg.layers`` is then ``root/mypkg/layers.py`` or
``root/mypkg/layers/__init__.py``. Each file is parsed once per process, cached by path, mtime and
size; a missing file or a parse failure means unknown (silent).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import field
from typing import Iterator, Optional

import libcst as cst

from conv_lint import skim
from conv_lint.imports import ImportMap
from conv_lint.records import record
from conv_lint.toplevel import ABSENT, TopLevel

_PARSED: dict[str, tuple[tuple[int, int], Optional[cst.Module]]] = {}
# The packages a project may not shadow: their names are never looked for on disk.
_FOREIGN = ("torch", "torchvision.transforms", "numpy", "math", "collections", "typing",
            "functools", "itertools", "dataclasses")


@record(eq=False)
class Scope:
    """One module's globals: what its top level defines, imports and assigns."""

    module: cst.Module
    imports: ImportMap
    name: str = ""  # dotted module name ("mypkg.blocks"); "" for the linted file of no package
    stub: bool = False  # a well-known block's stand-in (conv_lint/known), not the user's code
    classes: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)  # the top-level names evaluated so far
    top: Optional[TopLevel] = None  # the top-level lines, run as their names are read

    def function(self, name: str) -> Optional[cst.FunctionDef]:
        """The top-level function ``name``, parsed now if the parse left it for later."""
        value = self.functions.get(name)
        if isinstance(value, skim.Deferred):
            value = value.node()
            if value is None:  # its text is not one function after all: unknown
                del self.functions[name]
            else:
                self.functions[name] = value
        return value


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


class Project:
    """Where the linted file sits: the directory above its top package, and its package name."""

    def __init__(self, filename: str) -> None:
        self.root: Optional[str] = None
        self.package: Optional[str] = None  # the linted file's package ("" at the root)
        self._paths: dict[str, Optional[str]] = {}
        if not filename or filename.startswith("<") or not os.path.isfile(filename):
            return  # <stdin>: no siblings
        directory = os.path.dirname(os.path.abspath(filename))
        parts: list[str] = []
        while os.path.isfile(os.path.join(directory, "__init__.py")):
            parts.insert(0, os.path.basename(directory))
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        self.root = directory
        self.package = ".".join(parts)

    def module_path(self, dotted: str) -> Optional[str]:
        """The file of module ``dotted`` in this project, if there is one."""
        if self.root is None or not dotted or _is_foreign(dotted):
            return None
        if dotted not in self._paths:
            base = os.path.join(self.root, *dotted.split("."))
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.isfile(candidate):
                    found = candidate
                    break
            self._paths[dotted] = found
        return self._paths[dotted]

    def package_of(self, dotted: str) -> str:
        """The package a module's relative imports start from (itself, for an __init__.py)."""
        path = self.module_path(dotted)
        if path is not None and os.path.basename(path) == "__init__.py":
            return dotted
        return dotted.rpartition(".")[0]


def _is_foreign(dotted: str) -> bool:
    return any(dotted == name or dotted.startswith(name + ".") for name in _FOREIGN)


class Resolver:
    """Qualified names the file imports -> what the project (or a well-known stub) defines.

    ``build(module, name, package, stub, preset)`` turns a parsed module into its collected
    ``Scope``, and ``read(scope, name)`` gives one of its top-level values (or ABSENT); the
    interpreter does both (module constants need evaluating). Each module is built once per
    resolver; re-exports (``from .conv_bn_act import ConvNormAct`` in an
    ``__init__.py``) are followed to a bounded depth.
    """

    MAX_HOPS = 8

    def __init__(self, project: Project, build, read) -> None:
        self.project = project
        self._build = build
        self._read = read
        self._scopes: dict[str, Optional[Scope]] = {}
        self._found: dict[str, object] = {}

    def lookup(self, qualname: str, hops: int = 0):
        """The class (ClassInfo), function (FunctionDef) or constant ``qualname`` names, with
        the scope it was found in; None when it is not the project's or a known block."""
        if qualname in self._found:
            return self._found[qualname]
        self._found[qualname] = None  # a cycle of re-exports ends here
        found = self._lookup(qualname, hops)
        self._found[qualname] = found
        return found

    def _lookup(self, qualname: str, hops: int):
        from conv_lint import known

        if hops > self.MAX_HOPS:
            return None
        stub = known.KNOWN.get(qualname)
        if stub is not None:
            scope = self._scope(f"<stub {stub.file}>", None, stub.file)
            return None if scope is None else self._member(scope, stub.name, hops)
        module, _, name = qualname.rpartition(".")
        if not module or _is_foreign(module):
            return None
        path = self.project.module_path(module)
        if path is None:
            return None
        scope = self._scope(module, path, None)
        return None if scope is None else self._member(scope, name, hops)

    def _member(self, scope: Scope, name: str, hops: int):
        if name in scope.classes:
            return scope, scope.classes[name]
        function = scope.function(name)
        if function is not None:
            return scope, function
        value = self._read(scope, name)
        if value is not ABSENT:
            return scope, value
        target = scope.imports.names.get(name)
        if target is not None:
            from conv_lint.imports import canonical

            return self.lookup(canonical(target), hops + 1)
        return None

    def _scope(self, key: str, path: Optional[str], stub_file: Optional[str]) -> Optional[Scope]:
        if key not in self._scopes:
            self._scopes[key] = None  # being built: a cyclic import sees nothing yet
            if stub_file is not None:
                from conv_lint import known

                module = known.stub_module(stub_file)
                scope = None if module is None else self._build(
                    module, "", None, True, known.PRESET)
            else:
                module = parse_file(path) if path else None
                scope = None if module is None else self._build(
                    module, key, self.project.package_of(key), False, None)
            self._scopes[key] = scope
        return self._scopes[key]
