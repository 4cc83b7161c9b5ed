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

from conv_lint.check.cache import Cache, fingerprints
from conv_lint.plugin import may_hold_model

PARALLEL_FROM = 8  # uncached files from which starting worker processes pays off

Result = tuple[list, Optional[str]]  # (engine findings, why the file or a class was skipped)


def analyse_source(source: str, filename: str, input_shape: Optional[tuple[int, ...]],
                   options: Any) -> tuple[list, Optional[str], dict]:
    """The flake8 plugin's analysis of one source: same prefilter, same engine call; with the
    fingerprints of the sibling files it read (its result depends on them too)."""
    if not may_hold_model(source):
        return [], None, {}
    from conv_lint import engine
    from conv_lint.source import parsing

    with parsing.reading() as read:
        analysis = engine.analyse(source, filename, input_shape, tables=False, options=options)
    read.discard(os.path.abspath(filename))
    return analysis.findings, analysis.error, fingerprints(read)


class Runner:
    """Analyses sources with one input shape and rule options, through ``cache``."""

    def __init__(self, cache: Cache, input_shape: Optional[tuple[int, ...]], options: Any,
                 workers: Optional[int] = None) -> None:
        self.cache = cache
        self.input_shape = input_shape
        self.options = options
        self.workers = workers or os.cpu_count() or 1
        self.analysed = 0  # sources the engine ran on (cache misses with a model hint)

    def analyse(self, sources: list[str], filenames: list[str]) -> list[Result]:
        """Each source's result; ``filenames`` (absolute) locate the project's sibling modules."""
        results: list[Optional[Result]] = [None] * len(sources)
        todo = []  # (index, cache key) of the sources to analyse
        for index, (source, filename) in enumerate(zip(sources, filenames)):
            if not may_hold_model(source):
                results[index] = ([], None)
                continue
            key = self.cache.key(source, filename)
            results[index] = self.cache.get(key)
            if results[index] is None:
                todo.append((index, key))
        fresh = self._run([sources[index] for index, _ in todo],
                          [filenames[index] for index, _ in todo])
        for (index, key), (findings, error, read) in zip(todo, fresh):
            self.cache.put(key, findings, error, read)
            results[index] = (findings, error)
        self.analysed += len(todo)
        return results  # type: ignore[return-value]

    def _run(self, sources: list[str], filenames: list[str]) -> list:
        shape, options = self.input_shape, self.options
        if len(sources) < PARALLEL_FROM or self.workers < 2:
            return [analyse_source(s, f, shape, options) for s, f in zip(sources, filenames)]
        workers = min(self.workers, len(sources))
        # Largest first, one at a time: the workers end together instead of one of them
        # finishing a long file alone.
        order = sorted(range(len(sources)), key=lambda index: -len(sources[index]))
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                done = list(pool.map(analyse_source, [sources[i] for i in order],
                                     [filenames[i] for i in order], repeat(shape),
                                     repeat(options)))
        except (OSError, BrokenProcessPool):  # no processes here (a sandbox): one at a time
            return [analyse_source(s, f, shape, options) for s, f in zip(sources, filenames)]
        results: list = [None] * len(sources)
        for index, result in zip(order, done):
            results[index] = result
        return results
