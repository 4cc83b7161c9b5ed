"""`conv-lint stats`: how much of a code base the analysis understood.

Two figures per file: its conv layers and how far their shape arguments were resolved
(``sites``), and the calls its models' forward made on tensors, how many got a known shape and
why the others got none (the forward census of ``conv-lint explain``). ``report`` adds them up.
"""

from __future__ import annotations

from conv_lint.stats.report import Totals, render_json, render_text
from conv_lint.stats.sites import (
    NEVER_REACHED, REASONS, RESOLVED, SYMBOLIC, UNRESOLVED, FileStats, Site, conv_sites,
)

__all__ = ["NEVER_REACHED", "REASONS", "RESOLVED", "SYMBOLIC", "UNRESOLVED", "FileStats", "Site",
           "Totals", "file_stats", "render_json", "render_text"]


def file_stats(source: str, filename: str = "<stdin>") -> FileStats:
    """Both figures of one file; never raises."""
    from conv_lint.engine import analyse

    stats = conv_sites(source, filename)
    if stats.error is None:
        for model in analyse(source, filename).models:  # on symbolic inputs: nothing configured
            stats.calls += model.calls
            stats.known_calls += model.known_calls
            stats.losses.update(model.loss_reasons)
    return stats
