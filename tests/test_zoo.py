"""The model code of torchvision 0.29.2 and timm 1.0.31: no CNV1xx, no internal error, and
`conv-lint stats` over it adds up. The sources come from tests/zoo.py (downloaded once)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

import zoo
from conv_lint import stats
from conv_lint.engine import analyse

SHAPES = (None, (3, 224, 224))


def lint(path: str) -> list[str]:
    """Problems of one zoo file: CNV1xx findings and internal errors, for both shapes."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    problems = []
    for shape in SHAPES:
        analysis = analyse(source, path, shape, tables=False)
        problems += [f"{path}:{f.line}: {f.code} {f.message} (input {shape})"
                     for f in analysis.findings if f.code < "CNV2"]
        if analysis.error and "internal error" in analysis.error:
            problems.append(f"{path}: {analysis.error} (input {shape})")
    return problems


def file_stats(path: str) -> stats.FileStats:
    with open(path, encoding="utf-8") as handle:
        return stats.file_stats(handle.read(), path)


def pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max(2, min(4, os.cpu_count() or 2)))


@pytest.fixture(scope="module")
def files() -> list[str]:
    return [str(path) for path in zoo.model_files()]


def test_no_shape_error_and_no_crash_on_the_zoo(files):
    assert len(files) > 200
    with pool() as workers:
        problems = [p for found in workers.map(lint, files, chunksize=4) for p in found]
    assert not problems, "\n".join(problems)


def test_stats_over_the_zoo_add_up(files):
    with pool() as workers:
        results = list(workers.map(file_stats, files, chunksize=4))
    errors = [f"{r.path}: {r.error}" for r in results if r.error and "internal" in r.error]
    assert not errors, "\n".join(errors)
    totals = stats.Totals(results)
    statuses = (stats.RESOLVED, stats.SYMBOLIC, stats.UNRESOLVED)
    assert totals.layers > 1000
    assert sum(totals.count(s) for s in statuses) == totals.layers
    for result in results:
        assert sum(result.count(s) for s in statuses) == len(result.sites)
    assert sum(totals.reasons().values()) == totals.count(stats.UNRESOLVED)
    last = stats.render_text(totals).splitlines()[-1]
    assert last == (f"layers={totals.layers} resolved={totals.count(stats.RESOLVED)} "
                    f"symbolic={totals.count(stats.SYMBOLIC)} "
                    f"unresolved={totals.count(stats.UNRESOLVED)}")
