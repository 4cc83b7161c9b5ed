"""The house keeps its rooms (docs/architecture.md): what each room may import, no module
reaching into another's private names, the Python evaluator free of torch, no room the size
the interpreter once was. Read from the source with ast; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conv_lint"
MODULES = sorted(PACKAGE.rglob("*.py"))
# The Python evaluator: it knows Python's semantics over the abstract values, not torch's.
EVALUATOR = ("evaluator", "definitions", "statements", "expressions", "calls", "callables",
             "frames")
TORCH_ROOMS = ("conv_lint.layers", "conv_lint.interpreter.modules",
               "conv_lint.interpreter.forward", "conv_lint.interpreter.tensor_shapes",
               "conv_lint.rules", "conv_lint.known")
MAX_LINES = 500  # interpret.py had 1,277 before the house was built


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import statement of ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def strings_in_code(path: Path) -> list[str]:
    """The string constants of ``path`` that are not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(body[0].value) for body in (
        [tree.body] + [n.body for n in ast.walk(tree)
                       if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


def in_room(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


@pytest.mark.parametrize("path", MODULES, ids=dotted)
def test_no_module_imports_another_modules_private_names(path):
    private = [(module, name) for module, names in imports(path) if module.startswith("conv_lint")
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert private == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "algebra").glob("*.py")), ids=dotted)
def test_algebra_is_pure_python(path):
    outside = [module for module, _ in imports(path)
               if module.split(".")[0] == "libcst" or (
                   in_room(module, "conv_lint") and not in_room(module, "conv_lint.algebra")
                   and module != "conv_lint.records")]
    assert outside == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "source").glob("*.py")), ids=dotted)
def test_source_reads_without_interpreting(path):
    judging_rooms = ("conv_lint.interpreter", "conv_lint.layers", "conv_lint.rules",
                     "conv_lint.engine")
    judging = [module for module, _ in imports(path)
               if any(in_room(module, room) for room in judging_rooms)]
    assert judging == []


@pytest.mark.parametrize("name", EVALUATOR)
def test_the_evaluator_knows_nothing_of_torch(name):
    path = PACKAGE / "interpreter" / f"{name}.py"
    torch_imports = [module for module, _ in imports(path)
                     if any(in_room(module, room) for room in TORCH_ROOMS)]
    assert torch_imports == []
    assert [text for text in strings_in_code(path) if "torch" in text] == []


# The size algebra is left out: one subject, the exact arithmetic of sizes.
@pytest.mark.parametrize("path", [path for path in MODULES
                                  if not in_room(dotted(path), "conv_lint.algebra")], ids=dotted)
def test_no_room_is_the_size_the_interpreter_was(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_the_checks_see_every_room():
    """The walk finds the rooms (a renamed folder would make every check above vacuous)."""
    rooms = {dotted(path).split(".")[1] for path in MODULES if dotted(path) != "conv_lint"}
    assert {"algebra", "source", "interpreter", "layers", "rules", "fixes", "check"} <= rooms
    assert all((PACKAGE / "interpreter" / f"{name}.py").is_file() for name in EVALUATOR)
