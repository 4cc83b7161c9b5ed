"""Every design warning (CNV2xx) conv-lint gives on torchvision's and timm's model sources.

    python scripts/zoo_warnings.py [--from DIR] [--coverage] [-- FLAKE8 OPTIONS...]

Downloads the pinned wheels (``pip download --no-deps``) into a temporary directory, unpacks
them, runs ``flake8 --select CNV2`` (config files ignored, so every CNV2xx code is on) over
their model packages and prints each warning as ``path:line:col: CODE message``, paths inside
the wheels. ``--from DIR`` reads a directory where both wheels are already unpacked instead.
Options after ``--`` go to flake8 (``-- --conv-padding-policy=strict``). ``--coverage`` also
says how much of the zoos conv-lint follows: the conv calls whose output shape it knows (the
design rules see only those), and the files it skipped.
docs/zoo-warnings.md lists this output with a verdict for each warning.

Exit status: 0 when flake8 ran (warnings or not), else flake8's or pip's status.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Optional, Sequence

WHEELS = ("torchvision==0.29.2", "timm==1.0.31")
MODEL_DIRS = ("torchvision/models", "timm/models", "timm/layers")
_WARNING = re.compile(r"^\S+:\d+:\d+: (CNV2\d\d) ")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.source is not None:
        return run(Path(args.source), args)
    with tempfile.TemporaryDirectory(prefix="zoo-") as temp:
        root = Path(temp)
        status = download(root / "wheels")
        if status:
            return status
        unpack(root / "wheels", root / "site")
        return run(root / "site", args)


def run(site: Path, args: argparse.Namespace) -> int:
    status = lint(site, args.flake8_args)
    if status == 0 and args.coverage:
        print(coverage(site, _input_shape(args.flake8_args)), file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="a directory where the pinned wheels are already unpacked")
    parser.add_argument("--coverage", action="store_true",
                        help="also print how many conv calls conv-lint follows")
    parser.add_argument("flake8_args", nargs="*", metavar="FLAKE8_OPTION",
                        help="options passed on to flake8 (after --)")
    return parser


def download(directory: Path) -> int:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "--dest", str(directory), *WHEELS]
    # Sources read, never installed: a machine's cap on installs (a pip constraint) must not
    # refuse them.
    return subprocess.run(command, env={**os.environ, "PIP_CONSTRAINT": os.devnull}).returncode


def unpack(wheels: Path, site: Path) -> None:
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)


def lint(site: Path, flake8_args: Sequence[str]) -> int:
    missing = [name for name in MODEL_DIRS if not (site / name).is_dir()]
    if missing:
        print(f"zoo_warnings: {site} has no {', '.join(missing)}", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "flake8", "--isolated", "--select", "CNV2",
               *flake8_args, *MODEL_DIRS]
    result = subprocess.run(command, cwd=site, capture_output=True, text=True)
    if result.returncode not in (0, 1) or result.stderr.strip():
        sys.stderr.write(result.stderr)
        return result.returncode or 2
    lines = sorted(result.stdout.splitlines(), key=_position)
    for line in lines:
        print(line)
    counts = collections.Counter(match.group(1) for match in map(_WARNING.match, lines) if match)
    summary = ", ".join(f"{code}: {count}" for code, count in sorted(counts.items())) or "none"
    print(f"{len(lines)} warning(s) ({summary})", file=sys.stderr)
    return 0


def coverage(site: Path, input_shape: Optional[tuple]) -> str:
    """How much of the zoos conv-lint follows, as one line."""
    from conv_lint.engine import analyse

    convs = known = models = 0
    skipped = []
    for name in MODEL_DIRS:
        for path in sorted((site / name).rglob("*.py")):
            analysis = analyse(path.read_text(), str(path), input_shape)
            if analysis.error and analysis.error.startswith("internal error"):
                skipped.append(f"{path.relative_to(site)} ({analysis.error})")
            for model in analysis.models:
                rows = [row for row in model.layers if row.type.startswith("Conv")]
                convs += len(rows)
                known += sum(row.output_shape is not None for row in rows)
                models += any(row.output_shape is not None for row in rows)
    text = (f"conv calls with a known output shape: {known} of {convs}, in {models} model "
            f"classes; {len(skipped)} file(s) skipped by an internal error")
    return "\n  ".join([text] + skipped)


def _input_shape(flake8_args: Sequence[str]) -> Optional[tuple]:
    from conv_lint.source.directives import parse_shape

    for index, arg in enumerate(flake8_args):
        if arg.startswith("--conv-input-shape="):
            return parse_shape(arg.split("=", 1)[1])
        if arg == "--conv-input-shape" and index + 1 < len(flake8_args):
            return parse_shape(flake8_args[index + 1])
    return None


def _position(line: str) -> tuple:
    path, number, column, _ = (line.split(":", 3) + ["0", "0", ""])[:4]
    return (path, int(number) if number.isdigit() else 0, int(column) if column.isdigit() else 0)


if __name__ == "__main__":
    sys.exit(main())
