"""`conv-lint stats`: how much of the conv code the analysis understood.

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
from dataclasses import dataclass, field
from typing import Optional

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
    "variable": "value from a local or loop variable",
    "import": "value imported from outside the project",
    "inside": "argument unknown inside the block (not modelled)",
    "unbuilt": "layer not built (arguments the layer cannot take)",
}


@dataclass
class Site:
    line: int
    status: str
    reason: Optional[str] = None


@dataclass
class FileStats:
    path: str
    sites: list[Site] = field(default_factory=list)
    error: Optional[str] = None

    def count(self, status: str) -> int:
        return sum(1 for site in self.sites if site.status == status)


def file_stats(source: str, filename: str = "<stdin>") -> FileStats:
    """The conv sites of one file and how each was resolved; never raises."""
    try:
        return _file_stats(source, filename)
    except RecursionError:
        return FileStats(filename, error="nesting too deep to analyse")
    except Exception as error:  # noqa: BLE001 - a report, never a traceback
        return FileStats(filename, error=f"internal error: {type(error).__name__}: {error}")


def _file_stats(source: str, filename: str) -> FileStats:
    import libcst as cst

    from conv_lint.interpret import FileInterpreter, GiveUp
    from conv_lint.project import parsed_if_unchanged

    stats = FileStats(filename)
    try:
        module = parsed_if_unchanged(filename, source) or cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        stats.error = f"syntax error: {str(error).splitlines()[0]}"
        return stats
    interpreter = FileInterpreter(module, filename, record=True)
    for info in interpreter.module_classes():  # blocks too, not only the models
        try:
            interpreter.run_root(info, None, False, False)
        except (GiveUp, RecursionError):
            continue
    sites = _static_sites(module, interpreter)
    built: dict = {}
    for site, visit, direct, kind, bound in interpreter.constructions:
        if site is None or not kind.name.startswith("Conv"):
            continue
        if direct and site not in sites:
            sites[site] = None  # a conv built through a variable (`conv_layer(...)`)
        if site in sites:  # a sibling's own convs are that file's sites, not this one's
            built.setdefault(site, {}).setdefault(visit, []).append(bound)
    lines, parameters = _lines_and_parameters(module, sites)
    for node in sites:
        stats.sites.append(_judge(node, built.get(node), interpreter.reached.get(node),
                                  lines.get(node, 0), parameters.get(node, set())))
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


def _judge(node, visits: Optional[dict], reached: Optional[list], line: int,
           parameters: set) -> Site:
    if visits:
        best = min((_worst(bounds) for bounds in visits.values()), key=_RANK.get)
        if best != UNRESOLVED:
            return Site(line, best)
    if not reached:
        return Site(line, UNRESOLVED, NEVER_REACHED)
    return Site(line, UNRESOLVED, REASONS[_reason(node, reached[-1], bool(visits), parameters)])


def _worst(bounds: list) -> str:
    return max((_status(bound) for bound in bounds), key=_RANK.get)


def _status(bound: dict) -> str:
    from conv_lint.values import UNKNOWN, is_symbolic

    values = [bound.get(name, UNKNOWN) for name in SHAPE_ARGUMENTS]
    if any(_unknown(value) for value in values):
        return UNRESOLVED
    return SYMBOLIC if any(is_symbolic(value) for value in values) else RESOLVED


def _unknown(value) -> bool:
    from conv_lint.values import UNKNOWN

    if isinstance(value, tuple):
        return any(_unknown(v) for v in value)
    return value is UNKNOWN


def _reason(node, visit: tuple, built: bool, parameters: set) -> str:
    """Which kind of source expression left an argument of the site unknown."""
    from conv_lint.values import plain

    args, kwargs, complete = visit
    if not complete or any(arg.star for arg in node.args):
        return "star"
    values = list(args) + list(kwargs.values())  # in the order of the call's arguments
    for arg, value in zip(node.args, values):
        if _unknown(plain(value)):
            return _kind_of(arg.value, parameters)
    return "inside" if built else "unbuilt"


def _kind_of(expression, parameters: set) -> str:
    import libcst as cst

    if isinstance(expression, cst.BinaryOperation):
        for part in (expression.left, expression.right):
            if not isinstance(part, (cst.Integer, cst.Float)):
                return _kind_of(part, parameters)
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
        return "parameter" if expression.value in parameters else "variable"
    return "variable"


def _lines_and_parameters(module, sites) -> tuple[dict, dict]:
    """Each site's 1-based line, and the parameter names of the function it sits in."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    parameters: dict = {}

    class Functions(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[set] = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            params = node.params
            names = {p.name.value for p in (*params.posonly_params, *params.params,
                                             *params.kwonly_params)}
            self.stack.append(names)

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self.stack.pop()

        def visit_Call(self, node: cst.Call) -> None:
            if node in sites and self.stack:
                parameters[node] = self.stack[-1]

    module.visit(Functions())
    return {node: positions[node].start.line for node in sites if node in positions}, parameters


# ---- totals and output ----------------------------------------------------------------------------

@dataclass
class Totals:
    files: list[FileStats]

    def count(self, status: str) -> int:
        return sum(stats.count(status) for stats in self.files)

    @property
    def layers(self) -> int:
        return sum(len(stats.sites) for stats in self.files)

    def reasons(self) -> Counter:
        return Counter(site.reason for stats in self.files for site in stats.sites
                       if site.status == UNRESOLVED)

    def summary(self) -> str:
        return (f"layers={self.layers} resolved={self.count(RESOLVED)} "
                f"symbolic={self.count(SYMBOLIC)} unresolved={self.count(UNRESOLVED)}")


def render_text(totals: Totals, top: int = 8) -> str:
    lines = []
    for stats in totals.files:
        if stats.error:
            lines.append(f"{stats.path}: skipped ({stats.error})")
        elif stats.sites:
            lines.append(f"{stats.path}: layers={len(stats.sites)} resolved="
                         f"{stats.count(RESOLVED)} symbolic={stats.count(SYMBOLIC)} "
                         f"unresolved={stats.count(UNRESOLVED)}")
    reasons = totals.reasons().most_common(top)
    if reasons:
        lines.append("")
        lines.append("unresolved, by reason:")
        lines.extend(f"  {count:6d}  {reason}" for reason, count in reasons)
    if totals.layers:
        understood = totals.count(RESOLVED) + totals.count(SYMBOLIC)
        lines.append(f"understood: {100 * understood / totals.layers:.1f}% of conv layers")
    lines.append(totals.summary())
    return "\n".join(lines)


def render_json(totals: Totals) -> dict:
    return {
        "files": [{
            "path": stats.path, "error": stats.error,
            "layers": len(stats.sites), "resolved": stats.count(RESOLVED),
            "symbolic": stats.count(SYMBOLIC), "unresolved": stats.count(UNRESOLVED),
            "sites": [{"line": site.line, "status": site.status, "reason": site.reason}
                      for site in stats.sites],
        } for stats in totals.files],
        "layers": totals.layers, "resolved": totals.count(RESOLVED),
        "symbolic": totals.count(SYMBOLIC), "unresolved": totals.count(UNRESOLVED),
        "reasons": dict(totals.reasons().most_common()),
    }
