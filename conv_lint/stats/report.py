"""Totals of `conv-lint stats` over many files, as text and JSON."""

from __future__ import annotations

from collections import Counter

from conv_lint.records import record
from conv_lint.stats.sites import RESOLVED, SYMBOLIC, UNRESOLVED, FileStats


@record
class Totals:
    """The sites of many files, counted by status."""

    files: list[FileStats]

    def count(self, status: str) -> int:
        return sum(stats.count(status) for stats in self.files)

    @property
    def calls(self) -> int:
        return sum(stats.calls for stats in self.files)

    @property
    def known_calls(self) -> int:
        return sum(stats.known_calls for stats in self.files)

    def losses(self) -> Counter:
        total: Counter = Counter()
        for stats in self.files:
            total.update(stats.losses)
        return total

    @property
    def layers(self) -> int:
        return sum(len(stats.sites) for stats in self.files)

    def reasons(self) -> Counter:
        return Counter(site.reason for stats in self.files for site in stats.sites
                       if site.status == UNRESOLVED)

    def summary(self) -> str:
        return (f"layers={self.layers} resolved={self.count(RESOLVED)} "
                f"symbolic={self.count(SYMBOLIC)} unresolved={self.count(UNRESOLVED)} "
                f"calls={self.calls} known={self.known_calls}")


def render_text(totals: Totals, top: int = 8) -> str:
    lines = []
    for stats in totals.files:
        if stats.error:
            lines.append(f"{stats.path}: skipped ({stats.error})")
        elif stats.sites or stats.calls:
            lines.append(f"{stats.path}: layers={len(stats.sites)} resolved="
                         f"{stats.count(RESOLVED)} symbolic={stats.count(SYMBOLIC)} "
                         f"unresolved={stats.count(UNRESOLVED)} calls={stats.calls} "
                         f"known={stats.known_calls}")
    reasons = totals.reasons().most_common(top)
    if reasons:
        lines.append("")
        lines.append("unresolved, by reason:")
        lines.extend(f"  {count:6d}  {reason}" for reason, count in reasons)
    losses = totals.losses().most_common(top)
    if losses:
        lines.append("")
        lines.append("forward calls without a shape, by reason:")
        lines.extend(f"  {count:6d}  {reason}" for reason, count in losses)
    if totals.layers:
        understood = totals.count(RESOLVED) + totals.count(SYMBOLIC)
        lines.append(f"understood: {100 * understood / totals.layers:.1f}% of conv layers")
    if totals.calls:
        lines.append(f"forward: {100 * totals.known_calls / totals.calls:.1f}% of calls with a "
                     f"known shape")
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
            "calls": stats.calls, "known": stats.known_calls, "losses": dict(stats.losses),
        } for stats in totals.files],
        "layers": totals.layers, "resolved": totals.count(RESOLVED),
        "symbolic": totals.count(SYMBOLIC), "unresolved": totals.count(UNRESOLVED),
        "reasons": dict(totals.reasons().most_common()),
        "calls": totals.calls, "known": totals.known_calls,
        "losses": dict(totals.losses().most_common()),
    }
