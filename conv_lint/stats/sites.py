"""The conv sites of a file, and how far the analysis resolved each.

A *site* is a call in the linted file that builds a conv layer: ``nn.Conv1d/2d/3d``,
``nn.ConvTranspose1d/2d/3d``, or a well-known block that builds one (``Conv2dNormActivation``,
``ConvNormAct``, ``create_conv2d``...). Every module class of the file is built (not only the
models), then each site is judged by the conv layers it built: *resolved* when every shape
argument (channels, kernel, stride, padding, dilation, groups) is concrete, *symbolic* when all
are known and some are symbols, *unresolved* otherwise, with the reason read from the source
expression of the argument that stayed unknown. A site reached several times counts once, with
its best resolution.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import field
from typing import Optional

from conv_lint.records import record

RESOLVED, SYMBOLIC, UNRESOLVED = "resolved", "symbolic", "unresolved"
_RANK = {RESOLVED: 0, SYMBOLIC: 1, UNRESOLVED: 2}
SHAPE_ARGUMENTS = ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                   "dilation", "groups")
CONV_LAYERS = frozenset(f"torch.nn.{kind}{n}d" for kind in ("Conv", "ConvTranspose")
                        for n in (1, 2, 3))

NEVER_REACHED = "never reached (class/function not built by any model in the file)"
REASONS = {  # the kinds of source expression an unknown argument came from
    "star": "*args / **kwargs passed on",
    "config": "value from a config object attribute",
    "self": "value from an attribute of self",
    "call": "value from an unknown call",
    "subscript": "value from an indexed container",
    "parameter": "value from a parameter of the enclosing function",
    "arith": "channel arithmetic not kept exact (division by a symbol, a float ratio)",
    "loop": "value from a loop variable over an unknown sequence",
    "variable": "value from a local variable",
    "inside": "argument unknown inside the block (not modelled)",
    "unbuilt": "layer not built (arguments the layer cannot take)",
}


@record
class Site:
    """One conv layer built in a file, and how far the analysis resolved it."""

    line: int
    status: str
    reason: Optional[str] = None


@record
class FileStats:
    """The conv sites of one file and the forward census of its models (or why the file was
    skipped)."""

    path: str
    sites: list[Site] = field(default_factory=list)
    error: Optional[str] = None
    calls: int = 0  # the calls the models' forward made on tensors
    known_calls: int = 0  # ... that got a known shape
    losses: Counter = field(default_factory=Counter)  # why the others got none

    def count(self, status: str) -> int:
        return sum(1 for site in self.sites if site.status == status)


def conv_sites(source: str, filename: str = "<stdin>") -> FileStats:
    """The conv sites of one file and how each was resolved; never raises."""
    try:
        return _file_stats(source, filename)
    except RecursionError:
        return FileStats(filename, error="nesting too deep to analyse")
    except Exception as error:  # noqa: BLE001 - a report, never a traceback
        return FileStats(filename, error=f"internal error: {type(error).__name__}: {error}")


def _file_stats(source: str, filename: str) -> FileStats:
    import libcst as cst

    from conv_lint.interpreter.file import FileInterpreter, GiveUp
    from conv_lint.source.parsing import parse_whole

    stats = FileStats(filename)
    try:
        module = parse_whole(source)  # every function counted, called or not
    except cst.ParserSyntaxError as error:
        stats.error = f"syntax error: {str(error).splitlines()[0]}"
        return stats
    interpreter = FileInterpreter(module, filename, record=True)
    instances = {}
    for info in interpreter.module_classes():  # blocks too, not only the models
        try:
            instances[info.name] = interpreter.run_root(info, None, False, False)[0]
        except (GiveUp, RecursionError):
            continue
    sites = _static_sites(module, interpreter)
    _run_unreached_builders(module, interpreter, instances, sites)
    built: dict = {}
    for site, visit, direct, kind, bound in interpreter.constructions:
        if site is None or not kind.name.startswith("Conv"):
            continue
        if direct and site not in sites:
            sites[site] = None  # a conv built through a variable (`conv_layer(...)`)
        if site in sites:  # a sibling's own convs are that file's sites, not this one's
            built.setdefault(site, {}).setdefault(visit, []).append(bound)
    lines, contexts = _lines_and_contexts(module, sites)
    for node in sites:
        stats.sites.append(_judge(node, built.get(node), interpreter.reached.get(node),
                                  lines.get(node, 0), contexts.get(node) or Context()))
    stats.sites.sort(key=lambda site: site.line)
    return stats


def _static_sites(module, interpreter) -> dict:
    """Calls of the file to a conv layer or a well-known conv block, found by name."""
    import libcst as cst

    from conv_lint import known

    sites: dict = {}
    imports = interpreter.home.imports

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = imports.resolve(node.func)
            if name in CONV_LAYERS or name in known.CONV_BLOCKS:
                sites[node] = None

    module.visit(Calls())
    return sites


def _run_unreached_builders(module, interpreter, instances: dict, sites: dict) -> None:
    """Functions and methods holding a site no model reached: run them on their own, with
    symbols for their parameters (the blocks of a library are built by its users)."""
    from conv_lint.interpreter.file import GiveUp

    for fn, info in _builders(module, interpreter, sites):
        instance = instances.get(info.name) if info is not None else None
        if info is not None and instance is None:
            continue  # a method of a class that could not be built
        try:
            interpreter.run_builder(fn, info, instance)
        except (GiveUp, RecursionError):
            continue


def _builders(module, interpreter, sites: dict) -> list:
    """(function, its class or None) for each top-level function or method of a module class
    that contains a site not reached yet."""
    import libcst as cst

    unreached = {site for site in sites if site not in interpreter.reached}
    found = []

    class Holds(cst.CSTVisitor):
        hit = False

        def visit_Call(self, node: cst.Call) -> None:
            self.hit = self.hit or node in unreached

    def holds(fn) -> bool:
        visitor = Holds()
        fn.visit(visitor)
        return visitor.hit

    classes = {info.node: info for info in interpreter.module_classes()}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and holds(statement):
            found.append((statement, None))
        elif isinstance(statement, cst.ClassDef) and statement in classes:
            for item in statement.body.body:
                if isinstance(item, cst.FunctionDef) and item.name.value != "forward" \
                        and holds(item):
                    found.append((item, classes[statement]))
    return found


def _judge(node, visits: Optional[dict], reached: Optional[list], line: int,
           context: "Context") -> Site:
    if visits:
        best = min((_worst(bounds) for bounds in visits.values()), key=_RANK.get)
        if best != UNRESOLVED:
            return Site(line, best)
    if not reached:
        return Site(line, UNRESOLVED, NEVER_REACHED)
    return Site(line, UNRESOLVED, REASONS[_reason(node, reached[-1], bool(visits), context)])


def _worst(bounds: list) -> str:
    return max((_status(bound) for bound in bounds), key=_RANK.get)


def _status(bound: dict) -> str:
    from conv_lint.interpreter.values import UNKNOWN, is_symbolic

    values = [bound.get(name, UNKNOWN) for name in SHAPE_ARGUMENTS]
    if any(_unknown(value) for value in values):
        return UNRESOLVED
    return SYMBOLIC if any(is_symbolic(value) for value in values) else RESOLVED


def _unknown(value) -> bool:
    from conv_lint.interpreter.values import UNKNOWN

    if isinstance(value, tuple):
        return any(_unknown(v) for v in value)
    return value is UNKNOWN


def _reason(node, visit: tuple, built: bool, context: "Context") -> str:
    """Which kind of source expression left an argument of the site unknown."""
    from conv_lint.interpreter.values import plain

    args, kwargs, complete = visit
    if not complete:
        return "star"  # a *args / **kwargs whose contents are unknown
    for expression, value in _argument_values(node, args, kwargs):
        if _unknown(plain(value)):
            return _kind_of(expression, context)
    if any(_unknown(plain(value)) for value in list(args) + list(kwargs.values())):
        return "star"  # the unknown came in through a *args / **kwargs expansion
    return "inside" if built else "unbuilt"


def _argument_values(node, args: list, kwargs: dict):
    """(source expression, value) of the call's plain arguments: keywords, and positionals up
    to the first *expansion (after it, positions no longer line up)."""
    position, aligned = 0, True
    for arg in node.args:
        if arg.star == "*":
            aligned = False
        elif arg.star == "**":
            continue
        elif arg.keyword is not None:
            if arg.keyword.value in kwargs:
                yield arg.value, kwargs[arg.keyword.value]
        elif aligned and position < len(args):
            yield arg.value, args[position]
            position += 1


def _kind_of(expression, context: "Context", depth: int = 0) -> str:
    """The kind of source an unknown value came from. A bare parameter is a symbol, hence known:
    the unknown part of ``planes * block.expansion`` is the attribute, and of ``c // r`` (both
    parameters) the arithmetic itself; a local variable is traced to what was assigned to it."""
    import libcst as cst

    if isinstance(expression, cst.BinaryOperation):
        kinds = [_kind_of(part, context, depth) for part in (expression.left, expression.right)
                 if not _plain_operand(part, context)]
        return kinds[0] if kinds else "arith"
    if isinstance(expression, cst.Attribute):
        root = expression.value
        while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
            root = root.value if not isinstance(root, cst.Call) else root.func
        return "self" if isinstance(root, cst.Name) and root.value == "self" else "config"
    if isinstance(expression, cst.Call):
        return "call"
    if isinstance(expression, cst.Subscript):
        return "subscript"
    if isinstance(expression, cst.Name):
        name = expression.value
        if name in context.loop_targets:
            return "loop"
        assigned = context.assignments.get(name)
        if assigned is not None and depth < 4:
            return _kind_of(assigned, context, depth + 1)
        return "parameter" if name in context.parameters else "variable"
    return "variable"


def _plain_operand(expression, context: "Context") -> bool:
    """A literal, or a parameter never reassigned: known (a number or a symbol)."""
    import libcst as cst

    if isinstance(expression, (cst.Integer, cst.Float)):
        return True
    return isinstance(expression, cst.Name) and expression.value in context.parameters \
        and expression.value not in context.assignments


@record
class Context:
    """What surrounds a site in its function: parameters, last assignments, loop targets."""

    parameters: set = field(default_factory=set)
    assignments: dict = field(default_factory=dict)  # name -> the value expression last assigned
    loop_targets: set = field(default_factory=set)


def _lines_and_contexts(module, sites) -> tuple[dict, dict]:
    """Each site's 1-based line, and the Context of the function it sits in."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    contexts: dict = {}

    class Names(cst.CSTVisitor):
        def __init__(self, context: Context) -> None:
            self.context = context

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.context.assignments[target.target.value] = node.value

        def visit_For(self, node: cst.For) -> None:
            for name in _names_in(node.target):
                self.context.loop_targets.add(name)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            for name in _names_in(node.target):
                self.context.loop_targets.add(name)

    class Functions(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[Context] = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            params = node.params
            every = (*params.posonly_params, *params.params, *params.kwonly_params)
            context = Context({param.name.value for param in every})
            node.body.visit(Names(context))
            self.stack.append(context)

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self.stack.pop()

        def visit_Call(self, node: cst.Call) -> None:
            if node in sites:
                contexts[node] = self.stack[-1] if self.stack else Context()

    module.visit(Functions())
    return {node: positions[node].start.line for node in sites if node in positions}, contexts


def _names_in(target) -> list:
    import libcst as cst

    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _names_in(element.value)]
    return []
