"""The one entry point: analyse a source file, return findings and per-model layer tables.

The flake8 plugin and the command line both call ``analyse``; it never raises.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import field
from typing import Optional, Union

from conv_lint.records import record

ShapeEntry = Union[int, str, None]


@record(frozen=True)
class Edit:
    """Replace the source text from (line, col) up to (end_line, end_col) with ``text``.

    Lines 1-based, columns 0-based, end exclusive: the span of a libcst node's position."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@record(frozen=True)
class Fix:
    """A certain, safe change that removes a finding: what it does and its non-overlapping edits."""

    description: str  # "set padding=1 (keeps the size)"
    edits: tuple[Edit, ...]


@record(frozen=True)
class Finding:
    """One reported problem, where flake8 puts it, with its fix when one is certain."""

    line: int  # 1-based
    col: int  # 0-based, as flake8 expects from a plugin
    code: str  # "CNV101"
    message: str  # without the code
    fix: Optional[Fix] = None  # offered only where the change is certain


@record
class LayerRow:
    """One row of a model's layer table (``conv-lint explain``)."""

    name: str  # as torch's named_modules() gives it: "features.3", "layer2.conv1"
    type: str  # "Conv2d"
    line: int
    output_shape: Optional[list[ShapeEntry]]  # per sample (batch left out); None if unknown
    params: Optional[int]


@record
class LostShape:
    """Where a model's forward lost a shape, and why: explain says it once per model."""

    line: int
    call: str  # "self.lstm(...)"
    reason: str  # "nn.LSTM not modelled"


@record
class ModelTable:
    """The layer table of one model class, the input it was run on, and its forward census:
    the calls forward made on tensors, how many got a known shape, where shapes were lost."""

    cls: str
    line: int
    input_shape: Optional[list[ShapeEntry]]
    layers: list[LayerRow] = field(default_factory=list)
    calls: int = 0
    known_calls: int = 0
    lost: list[LostShape] = field(default_factory=list)
    loss_reasons: list[str] = field(default_factory=list)  # one per call without a shape


@record
class Analysis:
    """What ``analyse`` found in a file: findings, layer tables, or why it was skipped."""

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
    fixes: bool = True,
) -> Analysis:
    """Analyse ``source``; never raises. ``input_shape`` is per sample, batch left out.

    ``tables=False`` skips the layer tables (and the position lookups they need): the flake8
    plugin wants findings only. ``options`` (a ``rules.Options``) configures the CNV2xx rules.
    ``fixes=False`` attaches no fixes (flake8 cannot apply them; a padding's costs a second
    analysis of the file).
    """
    from conv_lint.source.parsing import collector_paused

    try:
        with collector_paused():
            return _analyse(source, filename, input_shape, tables, options, fixes)
    except RecursionError:
        return Analysis(error="nesting too deep to analyse")
    except Exception as error:  # the host (flake8, an editor) must never see our failure
        return Analysis(error=f"internal error: {type(error).__name__}: {error}")


def _analyse(source: str, filename: str, input_shape, tables: bool, options,
             fixes: bool = True) -> Analysis:
    import libcst as cst

    from conv_lint.source import nesting
    from conv_lint.rules import Options

    options = options or Options()
    from conv_lint.source.parsing import parse, parsed_if_unchanged

    deep = nesting.too_deep(source)  # libcst would crawl, or crash the process, on these
    if deep:
        return Analysis(error=deep)
    try:  # the file may be a sibling of files linted before: its tree is cached then
        module = parsed_if_unchanged(filename, source) or parse(source)
    except cst.ParserSyntaxError as error:
        return Analysis(error=f"syntax error: {str(error).splitlines()[0]}")
    models = _run_models(module, source, filename, input_shape, tables, options)
    interpreter, analysis = models.interpreter, models.analysis
    if not interpreter.reports and not models.tables:
        return analysis
    positions = _positions(module, source, interpreter.reports, models.tables)

    def recheck(fix: Fix, node) -> bool:
        return _still_sound(source, filename, fix, node, models, input_shape, options)

    for report in interpreter.reports:
        position = positions.get(report.node)
        if position is None:
            continue  # about a sibling module's own line (a design warning): not this file's
        start = position.start
        fix = _fix_of(report, interpreter, positions, recheck) if fixes else None
        analysis.findings.append(Finding(start.line, start.column, report.code, report.text, fix))
    analysis.findings.sort(key=lambda f: (f.line, f.col, f.code))
    for name, where, rows, shape, forced, settled, figure in models.tables:
        analysis.models.append(_table(name, where, rows, shape, forced, settled, figure,
                                      positions))
    return analysis


@record
class _Models:
    """What running every model of a file left: the interpreter (reports, layers built and what
    they received), the analysis so far, and per model its table inputs, output and calls."""

    interpreter: object
    analysis: Analysis
    tables: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # each model's output shape (None: unknown)
    calls: list = field(default_factory=list)  # each model's flow.Call records


def _run_models(module, source: str, filename: str, input_shape, tables: bool,
                options) -> _Models:
    from conv_lint.source import directives
    from conv_lint.interpreter.file import FileInterpreter, GiveUp
    from conv_lint.rules import ModelRun

    interpreter = FileInterpreter(module, filename)
    class_shapes = directives.class_input_shapes(source)
    models = _Models(interpreter, Analysis())
    for name, where, run in _models_of(interpreter):
        shape = class_shapes.get(name)
        forced = shape is not None
        before = len(interpreter.reports)
        try:
            output = run(shape or input_shape, forced, tables)
        except (GiveUp, RecursionError) as error:
            del interpreter.reports[before:]
            models.analysis.error = f"{name} skipped: {error or type(error).__name__}"
            continue
        models.outputs.append(output.shape if output is not None else None)
        models.calls.append(interpreter.calls)
        _warn(interpreter, ModelRun(name, [c for c in interpreter.calls if c.certain],
                                    interpreter.names), options)
        if tables:
            models.tables.append((name, where, list(interpreter.rows or []), shape or input_shape,
                                  forced, _settled_input(interpreter),
                                  interpreter.forward_figure()))
    return models


def _fix_of(report, interpreter, positions, recheck) -> Optional[Fix]:
    """The fix of a reported finding, when its proposed change is certain (fixes/proposals.py)."""
    try:
        return _certain_fix(report, interpreter, positions, recheck)
    except Exception:  # noqa: BLE001 - a fix that fails costs itself, never the findings
        return None


def _certain_fix(report, interpreter, positions, recheck) -> Optional[Fix]:
    from conv_lint.fixes import proposals

    offer = proposals.offer(report, interpreter, positions)
    if offer is None:
        return None
    change, spans = offer
    fix = Fix(change.description, tuple(Edit(*span) for span in spans))
    if change.arg in proposals.RESHAPING_ARGUMENTS and not recheck(fix, change.node):
        return None
    return fix


def _still_sound(source: str, filename: str, fix: Fix, node, original: _Models, input_shape,
                 options) -> bool:
    """Does the file with ``fix`` (of the layer built at ``node``) applied still hold together?
    A change of the map size (a padding) moves every size after it: analysed again, the file
    must gain no error, and every model using the layer must still have an output that is
    followed and no Linear or LayerNorm reading a last axis of unknown or symbolic size (a
    symbolic one says the head fits some input sizes only, and the fix would change which)."""
    import libcst as cst

    from conv_lint.fixes import apply_fixes
    from conv_lint.source.parsing import parse
    from conv_lint.layers.linear import Linear
    from conv_lint.layers.normalisation import LayerNorm

    fixed_source = apply_fixes(source, [Finding(0, 0, "", "", fix)])
    try:
        module = parse(fixed_source)
    except cst.ParserSyntaxError:
        return False
    fixed = _run_models(module, fixed_source, filename, input_shape, False, options)
    errors = [Counter(r.code for r in models.interpreter.reports if r.code.startswith("CNV1"))
              for models in (original, fixed)]
    if errors[1] - errors[0] or fixed.analysis.error != original.analysis.error \
            or len(fixed.calls) != len(original.calls):
        return False
    for before, output, calls in zip(original.calls, fixed.outputs, fixed.calls):
        if not any(call.node is node for call in before):
            continue  # a model that does not use the layer
        if output is None or not all(
                type(call.input[-1]) is int for call in calls
                if isinstance(getattr(call.kind, "family", None), (Linear, LayerNorm))):
            return False
    return True


def _warn(interpreter, run, options) -> None:
    """The design rules' warnings on one model run; a failing rule costs only its own."""
    from conv_lint.rules import RULES

    for rule in RULES:
        try:
            for node, fields in run.warnings(rule, options):
                report = interpreter.warn(node, rule.code, **fields)
                change = rule.change(run, node, fields)
                if change is not None:
                    report.changes.append(change)
        except Exception:  # noqa: BLE001 - one rule's bug must not cost the file its findings
            continue


def _models_of(interpreter) -> list:
    """(name, the node its table's line is read from, run(shape, forced, tables) -> output)
    for each model of the file: its root classes, then its module-level Sequentials."""
    found = []
    for info in _roots(interpreter):
        def run(shape, forced, tables, info=info):
            return interpreter.run_root(info, shape, forced, tables)[1]
        found.append((info.name, info.node.name, run))
    for name, container in interpreter.module_level_models():
        def run(shape, forced, tables, name=name, container=container):
            return interpreter.run_container(name, container, shape, forced, tables)
        found.append((name, container.node, run))
    return found


def _roots(interpreter) -> list:
    """Module classes no other module class in the file refers to: the models, not their blocks."""
    from conv_lint.source.walk import names_in

    classes = interpreter.module_classes()
    names = {info.name for info in classes}
    used: set = set()
    for info in classes:
        used |= (names_in(info.node.body) & names) - {info.name}
    return [info for info in classes if info.name not in used]


def _positions(module, source, reports, runs) -> dict:
    """The ranges of the nodes findings and table rows point at; any other node's (the
    arguments a fix edits) only when asked for."""
    nodes = [report.node for report in reports]
    for _name, where, rows, *_, figure in runs:
        nodes.append(where)
        nodes.extend(row.node for row in rows)
        nodes.extend(lost.node for lost in figure.lost)
    return _Ranges(module, source, nodes)


class _Ranges(dict):
    """Node -> CodeRange, filled for the nodes given first, then one lookup at a time."""

    def __init__(self, module, source, nodes) -> None:
        from conv_lint.source.skim import ranges

        super().__init__(ranges(module, nodes, source))
        self.module, self.source = module, source

    def __missing__(self, node):
        from conv_lint.source.skim import ranges

        self.update(ranges(self.module, [node], self.source))
        if not dict.__contains__(self, node):
            raise KeyError(node)
        return dict.__getitem__(self, node)


def _table(name, where, rows, shape, forced, settled, figure, positions) -> ModelTable:
    from conv_lint.algebra import sizes

    def line_of(node) -> int:
        position = positions.get(node)
        return position.start.line if position is not None else 0

    def per_sample(full) -> Optional[list]:
        if full is None or not full or full[0] is not sizes.BATCH:
            return None
        return [sizes.describe(d) for d in full[1:]]

    input_shape = list(shape) if forced and shape else None
    if not forced:
        input_shape = per_sample(settled) if settled is not None else None
    table = ModelTable(name, line_of(where), input_shape, calls=figure.calls,
                       known_calls=figure.known, loss_reasons=figure.reasons)
    table.lost = [LostShape(line_of(lost.node), lost.call, lost.reason) for lost in figure.lost]
    for row in rows:
        table.layers.append(LayerRow(row.name, row.type, line_of(row.node),
                                     per_sample(row.output), row.params))
    return table


def _settled_input(interpreter):
    lazy = getattr(interpreter, "first_input", None)
    return lazy.shape if lazy is not None and lazy.settled else None
