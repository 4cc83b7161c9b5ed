"""The `conv-lint` command: a thin door onto ``conv_lint.engine``.

    conv-lint check [PATH ...] [--format ...] [--fix | --diff] ...   (conv_lint/check/)
    conv-lint explain FILE [--class NAME] [--input-shape C,H,W] [--format text|json]
    conv-lint stats PATH... [--format text|json] [--jobs N]
    conv-lint codes
    conv-lint --version

Exit status: 0 done, 2 usage error or a file that cannot be read or parsed (check: 1 when it
reports something). Every error is one line on stderr; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tokenize
from typing import Any, Optional, Sequence

from conv_lint import __version__
from conv_lint.check import command as check_command
from conv_lint.codes import CODES

EXIT_OK, EXIT_ERROR = 0, 2
_UNKNOWN = "?"
_TOTAL = "Params of the listed layers"


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) and never exit from inside."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def entry() -> None:
    """The ``conv-lint`` command: main(), then out at once. A run keeps every tree it parsed
    (a sibling module is read by many files); tearing that heap down at exit, the collector's
    last pass over it above all, costs a fifth of a run over torchvision's models. mypy exits
    the same way."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # `conv-lint ... | head`: nothing more to say
        pass
    os._exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return args.command(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else EXIT_OK
    except BrokenPipeError:  # `conv-lint explain big.py | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit flush
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug of ours: still one line, never a traceback
        print(f"conv-lint: internal error: {error!r}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conv-lint", description="Static shape checker for PyTorch models.")
    parser.add_argument("--version", action="version", version=f"conv-lint {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    check_command.add_parser(commands)

    explain = commands.add_parser("explain", help="print the layer table of each model class")
    explain.add_argument("file", metavar="FILE", help="a Python source file")
    explain.add_argument("--class", dest="cls", metavar="NAME", help="only this model class")
    explain.add_argument(
        "--input-shape", type=check_command.shape_argument, metavar="C,H,W",
        help="per-sample input shape for classes without a `# conv-lint: input-shape=` directive "
             "or a jaxtyping annotation on forward's input",
    )
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.set_defaults(command=_explain)

    stats = commands.add_parser(
        "stats", help="how many conv layers the analysis resolved, per file and in total")
    stats.add_argument("paths", nargs="+", metavar="PATH", help="Python files or directories")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    stats.add_argument("--jobs", type=check_command.jobs_argument, default=1, metavar="N",
                       help="files analysed in parallel (default 1)")
    stats.set_defaults(command=_stats)

    codes = commands.add_parser("codes", help="list the codes conv-lint reports")
    codes.set_defaults(command=_codes)
    return parser


# -- conv-lint explain -------------------------------------------------------------------------

def _explain(args: argparse.Namespace) -> int:
    source = _read_source(args.file)
    from conv_lint import engine  # libcst comes with it: only for commands that parse

    analysis = engine.analyse(source, args.file, args.input_shape)
    if analysis.error:  # a class (or the file) the engine could not follow: say so, go on
        print(f"conv-lint: note: {args.file}: {analysis.error}", file=sys.stderr)
    models = analysis.models
    if args.cls is not None:
        models = [model for model in models if model.cls == args.cls]
        if not models:
            found = ", ".join(model.cls for model in analysis.models) or "none"
            raise UsageError(
                f"conv-lint: error: no model class {args.cls!r} in {args.file} (found: {found})"
            )
    if args.format == "json":
        print(json.dumps(models_json(models), indent=2))
    elif models:
        print("\n\n".join(render_text(model, args.file) for model in models))
    else:
        print(f"{args.file}: no model class analysed")
    return EXIT_OK


def _read_source(path: str) -> str:
    """The file's text, decoded as Python does (coding cookie, BOM); UsageError if unusable."""
    try:
        with tokenize.open(path) as handle:
            source = handle.read()
        ast.parse(source, filename=path)
    except OSError as error:
        raise UsageError(f"conv-lint: error: cannot read {path}: {error.strerror or error}")
    except SyntaxError as error:  # also a bad coding cookie
        where = f"{path}:{error.lineno}:{error.offset}" if error.lineno else path
        raise UsageError(f"conv-lint: error: {where}: SyntaxError: {error.msg}")
    except (UnicodeDecodeError, ValueError) as error:  # ValueError: source with null bytes
        raise UsageError(f"conv-lint: error: cannot read {path}: {error}")
    return source


def models_json(models: Sequence[Any]) -> dict[str, Any]:
    """The `--format json` document for ``engine.ModelTable``s."""
    return {
        "models": [
            {
                "class": model.cls,
                "line": model.line,
                "input_shape": model.input_shape,
                "layers": [
                    {
                        "name": row.name,
                        "type": row.type,
                        "line": row.line,
                        "output_shape": row.output_shape,
                        "params": row.params,
                    }
                    for row in model.layers
                ],
                "forward": {
                    "calls": model.calls,
                    "known": model.known_calls,
                    "lost": [{"line": lost.line, "call": lost.call, "reason": lost.reason}
                             for lost in model.lost],
                },
            }
            for model in models
        ]
    }


_HEADINGS = ("Layer (name)", "Type", "Output shape", "Params", "Line")
_RIGHT_ALIGNED = {"Params", "Line"}


def render_text(model: Any, path: str) -> str:
    """One model as a torchinfo-like table; shapes lead with N, the batch axis."""
    rows = [
        (row.name, row.type, _shape_text(row.output_shape), _params_text(row.params), str(row.line))
        for row in model.layers
    ]
    widths = [max(len(cell) for cell in column) for column in zip(_HEADINGS, *rows)]
    rule_width = sum(widths) + 2 * (len(widths) - 1)

    def line(cells: Sequence[str]) -> str:
        aligned = (
            cell.rjust(width) if heading in _RIGHT_ALIGNED else cell.ljust(width)
            for cell, width, heading in zip(cells, widths, _HEADINGS)
        )
        return "  ".join(aligned).rstrip()

    header = f"{model.cls} ({path}:{model.line}), input {_shape_text(model.input_shape)}"
    table = [header, "=" * rule_width, line(_HEADINGS), "=" * rule_width]
    table += [line(row) for row in rows] or ["(no layers)"]
    table += ["=" * rule_width, _total_text(model.layers)]
    if model.calls:
        table.append(_forward_text(model))
        table += [f"  line {lost.line}: {lost.call}: {lost.reason}"
                  for lost in model.lost[:_LOSSES]]
        if len(model.lost) > _LOSSES:
            table.append(f"  and {len(model.lost) - _LOSSES} more")
    return "\n".join(table)


_LOSSES = 5  # where shapes were lost, listed per model


def _forward_text(model: Any) -> str:
    """How much of forward the analysis followed, and (listed below it) where it lost shapes."""
    text = f"Forward: {model.known_calls} of {model.calls} calls with a known shape"
    return text + ("; shapes lost at:" if model.lost else "")


def _shape_text(shape: Optional[Sequence[Any]]) -> str:
    if shape is None:
        return _UNKNOWN
    sizes = [_UNKNOWN if size is None else str(size) for size in shape]
    return "[" + ", ".join(["N"] + sizes) + "]"


def _params_text(params: Optional[int]) -> str:
    if params is None:
        return _UNKNOWN
    return f"{params:,}" if params else "--"  # torchinfo's mark for a layer without parameters


def _total_text(rows: Sequence[Any]) -> str:
    """Parameters of the listed leaf modules (a container's row repeats its children's).

    Only the listed layers: a module never called in forward, or a model's own nn.Parameter,
    has no row, so this is torch's total only when every parameter sits in a listed layer.
    """
    names = {row.name for row in rows}
    leaves = {row.name: row.params for row in rows  # a module called twice is counted once
              if not any(other.startswith(row.name + ".") for other in names)}
    known = sum(params for params in leaves.values() if params is not None)
    unknown = sorted(name for name, params in leaves.items() if params is None)
    if unknown:
        return f"{_TOTAL}: unknown ({', '.join(unknown)} unknown; the others: {known:,})"
    return f"{_TOTAL}: {known:,}"


# -- conv-lint stats ---------------------------------------------------------------------------

def _stats(args: argparse.Namespace) -> int:
    from conv_lint import stats

    files = _python_files(args.paths)
    if args.jobs > 1 and len(files) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_file_stats, files, chunksize=4))
    else:
        results = [_file_stats(path) for path in files]
    totals = stats.Totals(results)
    if args.format == "json":
        print(json.dumps(stats.render_json(totals), indent=2))
    else:
        print(stats.render_text(totals))
    return EXIT_OK


def _python_files(paths: Sequence[str]) -> list[str]:
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                files += [os.path.join(folder, name) for name in sorted(names)
                          if name.endswith(".py")]
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise UsageError(f"conv-lint: error: cannot read {path}: no such file or directory")
    return files


def _file_stats(path: str):
    from conv_lint import stats

    try:
        source = _read_source(path)
    except UsageError as error:
        return stats.FileStats(path, error=str(error).split(": error: ", 1)[-1])
    return stats.file_stats(source, path)


# -- conv-lint codes ---------------------------------------------------------------------------

def _codes(args: argparse.Namespace) -> int:
    width = max(len(code.name) for code in CODES.values())
    for code in CODES.values():
        print(f"{code.code}  {code.name.ljust(width)}  {code.summary}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
