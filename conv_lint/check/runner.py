"""Running the engine on many sources: cache first, then the rest (on every core when many).

A fully cached run never imports the engine's parser: libcst is imported by ``engine.analyse``
only, and only for a source that is neither cached nor free of the words `torch` and `nn`.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from typing import Any, Optional

from conv_lint.check.cache import Cache
from conv_lint.plugin import may_hold_model

PARALLEL_FROM = 8  # uncached files from which starting worker processes pays off

Result = tuple[list, Optional[str]]  # (engine findings, why the file or a class was skipped)


def analyse_source(source: str, input_shape: Optional[tuple[int, ...]], options: Any) -> Result:
    """The flake8 plugin's analysis of one source: same prefilter, same engine call."""
    if not may_hold_model(source):
        return [], None
    from conv_lint import engine

    analysis = engine.analyse(source, input_shape=input_shape, tables=False, options=options)
    return analysis.findings, analysis.error


class Runner:
    """Analyses sources with one input shape and rule options, through ``cache``."""

    def __init__(self, cache: Cache, input_shape: Optional[tuple[int, ...]], options: Any,
                 workers: Optional[int] = None) -> None:
        self.cache = cache
        self.input_shape = input_shape
        self.options = options
        self.workers = workers or os.cpu_count() or 1
        self.analysed = 0  # sources the engine ran on (cache misses with a model hint)

    def analyse(self, sources: list[str]) -> list[Result]:
        results: list[Optional[Result]] = [None] * len(sources)
        todo = []  # (index, cache key) of the sources to analyse
        for index, source in enumerate(sources):
            if not may_hold_model(source):
                results[index] = ([], None)
                continue
            key = self.cache.key(source)
            results[index] = self.cache.get(key)
            if results[index] is None:
                todo.append((index, key))
        fresh = self._run([sources[index] for index, _ in todo])
        for (index, key), result in zip(todo, fresh):
            self.cache.put(key, *result)
            results[index] = result
        self.analysed += len(todo)
        return results  # type: ignore[return-value]

    def _run(self, sources: list[str]) -> list[Result]:
        if len(sources) < PARALLEL_FROM or self.workers < 2:
            return [analyse_source(source, self.input_shape, self.options) for source in sources]
        workers = min(self.workers, len(sources))
        chunk = max(1, len(sources) // (4 * workers))
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(analyse_source, sources, repeat(self.input_shape),
                                     repeat(self.options), chunksize=chunk))
        except (OSError, BrokenProcessPool):  # no processes here (a sandbox): one at a time
            return [analyse_source(source, self.input_shape, self.options)
                    for source in sources]
