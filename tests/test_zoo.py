"""The model code of torchvision 0.29.2 and timm 1.0.31: no CNV1xx, no internal error, and
`conv-lint stats` over it adds up. The sources come from tests/zoo.py (downloaded once)."""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import zoo
from conv_lint import stats
from conv_lint.engine import analyse

SHAPES = (None, (3, 224, 224))


def examine(path: str) -> tuple[list[str], stats.FileStats]:
    """One zoo file, in one worker (its tree and its siblings' parsed once): the problems of
    linting it for both shapes (CNV1xx findings, internal errors), and its stats."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    problems = []
    for shape in SHAPES:
        analysis = analyse(source, path, shape, tables=False)
        problems += [f"{path}:{f.line}: {f.code} {f.message} (input {shape})"
                     for f in analysis.findings if f.code < "CNV2"]
        if analysis.error and "internal error" in analysis.error:
            problems.append(f"{path}: {analysis.error} (input {shape})")
    return problems, stats.file_stats(source, path)


@pytest.fixture(scope="module")
def examined() -> list[tuple[list[str], stats.FileStats]]:
    files = [str(path) for path in zoo.model_files()]
    assert len(files) > 200
    with ProcessPoolExecutor(max(2, min(4, os.cpu_count() or 2))) as workers:
        return list(workers.map(examine, files, chunksize=4))


def test_no_shape_error_and_no_crash_on_the_zoo(examined):
    problems = [problem for found, _ in examined for problem in found]
    assert not problems, "\n".join(problems)


def test_stats_over_the_zoo_add_up(examined):
    results = [result for _, result in examined]
    errors = [f"{r.path}: {r.error}" for r in results if r.error and "internal" in r.error]
    assert not errors, "\n".join(errors)
    totals = stats.Totals(results)
    assert totals.layers > 600
    statuses = (stats.RESOLVED, stats.SYMBOLIC, stats.UNRESOLVED)
    assert sum(totals.count(s) for s in statuses) == totals.layers
    for result in results:
        assert sum(result.count(s) for s in statuses) == len(result.sites)
    assert sum(totals.reasons().values()) == totals.count(stats.UNRESOLVED)
    last = stats.render_text(totals).splitlines()[-1]
    assert 0 < totals.known_calls <= totals.calls
    assert sum(totals.losses().values()) == totals.calls - totals.known_calls
    assert last == (f"layers={totals.layers} resolved={totals.count(stats.RESOLVED)} "
                    f"symbolic={totals.count(stats.SYMBOLIC)} "
                    f"unresolved={totals.count(stats.UNRESOLVED)} "
                    f"calls={totals.calls} known={totals.known_calls}")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    written = re.search(r"^## `conv-lint stats`\n.*?```text\n(layers=.*?)\n```", readme,
                        re.DOTALL | re.MULTILINE)
    assert written and written.group(1) == last, "README's zoo figures are not what stats gives"
