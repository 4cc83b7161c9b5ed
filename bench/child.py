"""What the benchmark runs in a child process, inside the venv being measured.

    python bench/child.py parse  --jobs N FILE...   bare libcst.parse_module over the files
    python bench/child.py prefilter FILE...         the plugin on files without a model (JSON)
    python bench/child.py perline --repeat R FILE...  engine and parse cost per file (JSON)

``parse`` spreads the files over processes as ``conv-lint check --jobs N`` does (largest
first, one at a time). Only the standard library and conv_lint are imported
here (conv_lint from the venv running this script, not from the source tree).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def parse_one(path: str) -> int:
    import libcst

    try:
        libcst.parse_module(_read(path))
    except libcst.ParserSyntaxError:
        pass
    return 0


def _over_files(work, files: list[str], jobs: int) -> int:
    if jobs <= 1:
        return sum(map(work, files))
    import multiprocessing

    # Largest files first, one at a time: two workers end together.
    files = sorted(files, key=lambda f: -len(_read(f)))
    with multiprocessing.Pool(jobs) as pool:
        return sum(pool.imap_unordered(work, files, chunksize=1))


def prefilter(files: list[str]) -> dict:
    """Per-file cost of the plugin on files it must skip, and what it imported doing so."""
    from conv_lint.plugin import ConvLintPlugin

    texts = [(path, _read(path).splitlines(keepends=True)) for path in files]
    batches = []
    for _ in range(15):
        start = time.process_time()
        for _ in range(20):
            for path, lines in texts:
                findings = list(ConvLintPlugin(None, lines, path).run())
                assert not findings
        batches.append((time.process_time() - start) / (20 * len(texts)))
    return {
        "seconds_per_file": statistics.median(batches),
        "bytes_per_file": statistics.mean(sum(map(len, lines)) for _, lines in texts),
        "libcst_imported": "libcst" in sys.modules,
        "engine_imported": "conv_lint.engine" in sys.modules,
    }


def perline(files: list[str], repeat: int) -> list[dict]:
    """Median seconds of analyse() and of the parse inside it per file, after one warm-up
    each. The file is analysed under a name that is no path (``<...>``): the engine parses it
    afresh each time instead of reusing the tree it cached for a path (the generated files
    import nothing of their own). The parse is the engine's own (``parsing.parse``: top-level
    functions left for later, the cycle collector paused), so the difference is the rest."""
    from conv_lint.engine import analyse
    from conv_lint.source.parsing import parse

    results = []
    for path in files:
        source = _read(path)
        name = f"<{path}>"
        analyse(source, name, tables=False)
        parse(source)
        engine, parsing = [], []
        lines = source.count("\n")
        for _ in range(max(repeat, 3000 // max(lines, 1))):  # a small file: more rounds
            start = time.process_time()
            analyse(source, name, tables=False)
            engine.append(time.process_time() - start)
            start = time.process_time()
            parse(source)
            parsing.append(time.process_time() - start)
        results.append({"file": path, "lines": lines, "engine": statistics.median(engine),
                        "parse": statistics.median(parsing),
                        # the difference within each round: steadier than of the two medians
                        "own": statistics.median(e - p for e, p in zip(engine, parsing))})
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="child.py")
    parser.add_argument("what", choices=("parse", "prefilter", "perline"))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.what == "parse":
        _over_files(parse_one, args.files, args.jobs)
    elif args.what == "prefilter":
        print(json.dumps(prefilter(args.files)))
    else:
        print(json.dumps(perline(args.files, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
