"""`conv-lint check [PATH ...]`: the flake8 plugin's findings for people, hooks and review bots.

Exit status: 0 nothing shown, 1 findings shown (or, with --diff, changes to make), 2 a usage,
configuration or internal error, or a file that could not be read (one line on stderr each).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import sys
from pathlib import Path
from typing import Any, Optional

from conv_lint.check import config as config_file
from conv_lint.check import discovery, formats, selection, sources
from conv_lint.check.cache import FOLDER, Cache, salt
from conv_lint.check.diffbase import (
    ALL_LINES, DiffBaseError, changed_lines, changed_lines_of_text,
)
from conv_lint.check.patterns import PatternList
from conv_lint.check.runner import Runner
from conv_lint.fixes import split_lines
from conv_lint.plugin import ConvLintPlugin, parse_rule_options, rule_option_fields
from conv_lint.records import record
from conv_lint.source.directives import parse_shape

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
MAX_FIX_PASSES = 10  # a fix can uncover the next error of a model (torch stops at the first)


class CheckError(Exception):
    """A usage problem found after argument parsing: one line, exit 2."""


def add_parser(commands: Any) -> None:
    check = commands.add_parser("check", help="report shape errors and design warnings")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or folders to check (default: .); - reads stdin")
    check.add_argument("--format", choices=list(formats.FORMATS), default="text")
    check.add_argument("--select", metavar="CODES", help="code prefixes to report (default CNV)")
    check.add_argument("--ignore", metavar="CODES", help="code prefixes to leave out")
    check.add_argument("--exclude", metavar="GLOB", action="append", default=[],
                       help="gitignore-style pattern to leave out (repeatable, or comma list)")
    check.add_argument("--stdin-filename", metavar="PATH",
                       help="the path of the source read from stdin (for config and output)")
    check.add_argument("--input-shape", type=shape_argument, metavar="C,H,W",
                       help="per-sample input shape of models without a directive "
                            "(C,L / C,H,W / C,D,H,W; L for token ids: 50)")
    for rule_field in rule_option_fields():  # the plugin's options, without its `conv-` prefix
        check.add_argument(
            "--" + config_file.option_key(rule_field.name), dest="rule_" + rule_field.name,
            metavar="N" if type(rule_field.default) is int else "VALUE",
            help=rule_field.metadata.get("help", "design warnings (CNV2xx) option, see "
                                                 "docs/rules.md")
            + f" (default: {rule_field.default})")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff, change nothing")
    fixing.add_argument("--fix", action="store_true", help="apply the fixes to the files")
    check.add_argument("--diff-base", metavar="REF",
                       help="only findings on lines added or changed since the git REF")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("-j", "--jobs", type=jobs_argument, metavar="N",
                       help="processes analysing files (default: one per core)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="say which config and how many files were cached, on stderr")
    check.set_defaults(command=run)


def shape_argument(text: str) -> tuple[int, ...]:
    try:
        return parse_shape(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def jobs_argument(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of jobs, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    try:
        return Check(args).run()
    except (CheckError, config_file.ConfigError, DiffBaseError) as error:
        print(f"conv-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR


@record
class Target:
    """One source to check."""

    shown: str  # the path printed
    path: Path  # absolute; for stdin, the --stdin-filename (or the working directory)
    source: str = ""
    encoding: str = "utf-8"
    from_stdin: bool = False


class Check:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.paths = args.paths or ["."]
        if STDIN in self.paths and len(self.paths) > 1:
            raise CheckError("- (stdin) cannot be mixed with other paths")
        if args.stdin_filename and STDIN not in self.paths:
            self.paths = [STDIN]  # --stdin-filename alone means: read stdin (as ruff does)
        self.config = config_file.load(config_file.find(self._config_start()))
        self.select = self._codes("select") or selection.ALL
        ignore = self._codes("ignore")
        self.ignore = ignore if ignore is not None else ConvLintPlugin.default_ignore
        self.input_shape = args.input_shape or self.config.input_shape
        self.options = self._rule_options()
        folder = None if args.no_cache else self.config.root / FOLDER
        self.runner = Runner(Cache(folder, salt(self.input_shape, self.options)),
                             self.input_shape, self.options, workers=args.jobs)
        self.failed = False  # a file could not be read

    # -- settings: the command line over the config -------------------------------------------

    def _config_start(self) -> Path:
        if self.paths == [STDIN]:
            named = self.args.stdin_filename
            return Path(named).resolve().parent if named else Path.cwd()
        return Path(os.path.commonpath([str(Path(path).resolve()) for path in self.paths]))

    def _codes(self, name: str) -> Optional[tuple[str, ...]]:
        given = getattr(self.args, name)
        if given is None:
            return getattr(self.config, name)
        try:
            return selection.parse_codes(given)
        except ValueError as error:
            raise CheckError(f"--{name}: {error}") from None

    def _rule_options(self) -> Any:
        where = f"{self.config.path}: [tool.{config_file.TABLE}]"
        try:
            parse_rule_options(self.config.options,
                               name=lambda field: f"{where} {config_file.option_key(field)}")
        except ValueError as error:
            raise config_file.ConfigError(str(error)) from None
        given = {field.name: getattr(self.args, "rule_" + field.name)
                 for field in rule_option_fields()
                 if getattr(self.args, "rule_" + field.name) is not None}
        try:
            parse_rule_options(given, name=lambda field: "--" + config_file.option_key(field))
            return parse_rule_options({**self.config.options, **given})
        except ValueError as error:
            raise CheckError(str(error)) from None

    def _excludes(self) -> tuple[list[PatternList], list[PatternList]]:
        """(patterns of a folder walk, patterns that also leave out a file named explicitly)."""
        root, config = self.config.root, self.config
        chosen = [PatternList(root, config.exclude)] if config.exclude is not None else []
        chosen.append(PatternList(root, config.extend_exclude))
        globs = [glob for option in self.args.exclude for glob in option.split(",")]
        chosen.append(PatternList(Path.cwd(), globs))
        default = [] if config.exclude is not None else [PatternList(root,
                                                                     discovery.DEFAULT_EXCLUDE)]
        return default + chosen, chosen

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> int:
        targets = self._targets()
        self._read(targets)
        self._say(f"configuration: {self.config.path or 'none'}")
        reports = self._reports(targets)
        if self.args.diff:
            return self._show_diff(targets, reports)
        if self.args.fix:
            reports = self._fix(targets, reports)
        if self.args.fix and targets and targets[0].from_stdin:
            sys.stdout.write(targets[0].source)
        else:
            sys.stdout.write(formats.render(self.args.format, reports))
        self._say(f"{len(targets)} file(s): {self.runner.cache.hits} from the cache, "
                  f"{self.runner.analysed} analysed")
        if self.failed:
            return EXIT_ERROR
        return EXIT_FINDINGS if any(report.findings for report in reports) else EXIT_CLEAN

    def _targets(self) -> list[Target]:
        if self.paths == [STDIN]:
            named = self.args.stdin_filename
            path = Path(named).resolve() if named else Path.cwd() / "stdin"
            return [Target(named or STDIN, path, from_stdin=True)]
        walk_excludes, explicit_excludes = self._excludes()
        found: dict[Path, Target] = {}
        for given in self.paths:
            path = Path(given)
            if path.is_dir():
                files = discovery.python_files(path.resolve(), walk_excludes)
                for file in files:
                    shown = _shown(path / file.relative_to(path.resolve()))
                    found.setdefault(file, Target(shown, file))
            elif path.is_file():
                if not discovery.is_excluded(path.resolve(), explicit_excludes):
                    found.setdefault(path.resolve(), Target(_shown(path), path.resolve()))
            else:
                raise CheckError(f"{given}: no such file or directory")
        return sorted(found.values(), key=lambda target: target.shown)

    def _read(self, targets: list[Target]) -> None:
        for target in targets:
            try:
                if target.from_stdin:
                    target.source, target.encoding = sources.decode(sys.stdin.buffer.read())
                else:
                    target.source, target.encoding = sources.read(target.path)
            except (OSError, SyntaxError, UnicodeDecodeError) as error:
                print(f"conv-lint: error: cannot read {target.shown}: {error}", file=sys.stderr)
                self.failed = True

    def _reports(self, targets: list[Target]) -> list[formats.Report]:
        results = self.runner.analyse([target.source for target in targets],
                                      [str(target.path) for target in targets])
        lines = self._changed_lines(targets)
        reports = []
        for target, (findings, error) in zip(targets, results):
            if error and (self.args.verbose or error.startswith("syntax error")):
                self._say(f"{target.shown}: {error}", always=True)  # flake8 would say E999
            shown = self._shown_findings(target, findings, lines.get(target.path, ALL_LINES))
            reports.append(formats.Report(target.shown, target.source, shown))
        return reports

    def _changed_lines(self, targets: list[Target]) -> dict:
        if self.args.diff_base is None:
            return {}
        if self.paths == [STDIN]:  # the text read, against the named file's version in REF
            (target,) = targets
            return {target.path: changed_lines_of_text(self.args.diff_base, target.path,
                                                       target.source)}
        files = [target.path for target in targets if not target.from_stdin]
        where = files[0].parent if files else Path.cwd()
        return changed_lines(self.args.diff_base, files, where)

    def _shown_findings(self, target: Target, findings: list, lines: Optional[set]) -> list:
        ignored = tuple(code for glob, codes in self.config.per_file_ignores.items()
                        if PatternList(self.config.root, [glob]).excludes(target.path, False)
                        for code in codes)
        kept = [finding for finding in findings
                if selection.is_selected(finding.code, self.select, self.ignore + ignored)
                and (lines is ALL_LINES or finding.line in lines)]
        kept = selection.noqa_filter(target.source, kept)
        return sorted(kept, key=lambda finding: (finding.line, finding.col, finding.code))

    # -- fixes ------------------------------------------------------------------------------------

    def _fixed(self, target: Target, report: formats.Report) -> tuple[str, formats.Report]:
        """The source with the fixes of the shown findings applied until none is left."""
        from conv_lint.fixes import apply_fixes

        source = target.source
        passes = 1 if self.args.diff_base else MAX_FIX_PASSES  # changed lines move with a fix
        for _ in range(passes):
            if not any(finding.fix for finding in report.findings):
                break
            fixed = apply_fixes(source, report.findings)
            if fixed == source:
                break
            source = fixed
            [(findings, _)] = self.runner.analyse([source], [str(target.path)])
            report = report._replace(source=source, findings=self._shown_findings(
                dataclasses.replace(target, source=source), findings, ALL_LINES))
        return source, report

    def _show_diff(self, targets: list[Target], reports: list[formats.Report]) -> int:
        changed = False
        for target, report in zip(targets, reports):
            fixed, _ = self._fixed(target, report)
            if fixed != target.source:
                changed = True
                sys.stdout.writelines(difflib.unified_diff(
                    split_lines(target.source), split_lines(fixed),
                    f"a/{target.shown}", f"b/{target.shown}"))
        return EXIT_ERROR if self.failed else EXIT_FINDINGS if changed else EXIT_CLEAN

    def _fix(self, targets: list[Target], reports: list[formats.Report]) -> list[formats.Report]:
        fixed_files = 0
        for index, (target, report) in enumerate(zip(targets, reports)):
            fixed, reports[index] = self._fixed(target, report)
            if fixed == target.source:
                continue
            if not target.from_stdin:
                try:
                    sources.write(target.path, fixed, target.encoding)
                except (OSError, UnicodeEncodeError) as error:
                    print(f"conv-lint: error: cannot write {target.shown}: {error}",
                          file=sys.stderr)
                    self.failed = True
                    reports[index] = report
                    continue
            fixed_files += 1
            target.source = fixed
        if fixed_files and self.args.diff_base:  # the fixed files' changed lines moved
            reports = self._reports(targets)
        if fixed_files:
            self._say(f"fixed {fixed_files} file(s)", always=True)
        return reports

    def _say(self, text: str, always: bool = False) -> None:
        if self.args.verbose or always:
            print(f"conv-lint: {text}", file=sys.stderr)


def _shown(path: Path) -> str:
    """How a path is printed: as given (normalised), `./` dropped."""
    return os.path.normpath(str(path))
