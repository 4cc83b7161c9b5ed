"""The one entry point: analyse a source file, return findings and per-model layer tables.

The flake8 plugin and the command line both call ``analyse``; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

ShapeEntry = Union[int, str, None]


@dataclass(frozen=True)
class Edit:
    """Replace the source text from (line, col) up to (end_line, end_col) with ``text``.

    Lines 1-based, columns 0-based, end exclusive: the span of a libcst node's position."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    """A certain, safe change that removes a finding: what it does and its non-overlapping edits."""

    description: str  # "set padding=1 (keeps the size)"
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based
    col: int  # 0-based, as flake8 expects from a plugin
    code: str  # "CNV101"
    message: str  # without the code
    fix: Optional[Fix] = None  # offered only where the change is certain


@dataclass
class LayerRow:
    name: str  # as torch's named_modules() gives it: "features.3", "layer2.conv1"
    type: str  # "Conv2d"
    line: int
    output_shape: Optional[list[ShapeEntry]]  # per sample (batch left out); None if unknown
    params: Optional[int]


@dataclass
class ModelTable:
    cls: str
    line: int
    input_shape: Optional[list[ShapeEntry]]
    layers: list[LayerRow] = field(default_factory=list)


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    models: list[ModelTable] = field(default_factory=list)
    error: Optional[str] = None  # why the file (or a class in it) was skipped


def analyse(
    source: str,
    filename: str = "<stdin>",
    input_shape: Optional[tuple[int, ...]] = None,
    *,
    tables: bool = True,
    options=None,
) -> Analysis:
    """Analyse ``source``; never raises. ``input_shape`` is per sample, batch left out.

    ``tables=False`` skips the layer tables (and the position lookups they need): the flake8
    plugin wants findings only. ``options`` (a ``rules.Options``) configures the CNV2xx rules.
    """
    try:
        return _analyse(source, input_shape, tables, options)
    except RecursionError:
        return Analysis(error="nesting too deep to analyse")
    except Exception as error:  # the host (flake8, an editor) must never see our failure
        return Analysis(error=f"internal error: {type(error).__name__}: {error}")


def _analyse(source: str, input_shape, tables: bool, options) -> Analysis:
    import libcst as cst

    from conv_lint import directives, nesting
    from conv_lint.interpret import FileInterpreter, GiveUp
    from conv_lint.rules import ModelRun, Options

    options = options or Options()

    deep = nesting.too_deep(source)  # libcst would crawl, or crash the process, on these
    if deep:
        return Analysis(error=deep)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return Analysis(error=f"syntax error: {str(error).splitlines()[0]}")
    interpreter = FileInterpreter(module)
    class_shapes = directives.class_input_shapes(source)
    analysis = Analysis()
    runs = []
    for info in _roots(interpreter):
        shape = class_shapes.get(info.name)
        forced = shape is not None
        before = len(interpreter.reports)
        try:
            root, _output = interpreter.run_root(info, shape or input_shape, forced, tables)
        except (GiveUp, RecursionError) as error:
            del interpreter.reports[before:]
            analysis.error = f"{info.name} skipped: {error or type(error).__name__}"
            continue
        _warn(interpreter, ModelRun(info.name, [c for c in interpreter.calls if c.certain],
                                    interpreter.names), options)
        if tables:
            runs.append((info, root, list(interpreter.rows or []), shape or input_shape, forced))
    if not interpreter.reports and not runs:
        return analysis
    positions = _positions(module)
    for report in interpreter.reports:
        start = positions[report.node].start
        analysis.findings.append(Finding(start.line, start.column, report.code, report.text))
    analysis.findings.sort(key=lambda f: (f.line, f.col, f.code))
    for info, root, rows, shape, forced in runs:
        analysis.models.append(_table(info, rows, shape, forced, positions, interpreter))
    return analysis


def _warn(interpreter, run, options) -> None:
    """The design rules' warnings on one model run; a failing rule costs only its own."""
    from conv_lint.rules import RULES

    for rule in RULES:
        try:
            for node, fields in rule.check(run, options):
                interpreter.warn(node, rule.code, **fields)
        except Exception:  # noqa: BLE001 - one rule's bug must not cost the file its findings
            continue


def _roots(interpreter) -> list:
    """Module classes no other module class in the file refers to: the models, not their blocks."""
    import libcst as cst

    classes = interpreter.module_classes()
    names = {info.name for info in classes}
    used: set = set()

    class Names(cst.CSTVisitor):
        def __init__(self, owner: str) -> None:
            self.owner = owner

        def visit_Name(self, node: cst.Name) -> None:
            if node.value in names and node.value != self.owner:
                used.add(node.value)

    for info in classes:
        info.node.body.visit(Names(info.name))
    return [info for info in classes if info.name not in used]


def _positions(module):
    from libcst.metadata import MetadataWrapper, PositionProvider

    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _table(info, rows, shape, forced, positions, interpreter) -> ModelTable:
    from conv_lint import sizes

    def line_of(node) -> int:
        position = positions.get(node)
        return position.start.line if position is not None else 0

    def per_sample(full) -> Optional[list]:
        if full is None or not full or full[0] is not sizes.BATCH:
            return None
        return [sizes.describe(d) for d in full[1:]]

    input_shape = list(shape) if forced and shape else None
    if not forced:
        settled = _settled_input(interpreter)
        input_shape = per_sample(settled) if settled is not None else None
    table = ModelTable(info.name, line_of(info.node.name), input_shape)
    for row in rows:
        table.layers.append(LayerRow(row.name, row.type, line_of(row.node),
                                     per_sample(row.output), row.params))
    return table


def _settled_input(interpreter):
    lazy = getattr(interpreter, "first_input", None)
    return lazy.shape if lazy is not None and lazy.settled else None
