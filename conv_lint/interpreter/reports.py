"""Reports: the findings of an analysis before they have a place in the source.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`. Errors follow torch: the
first one of a model ends its reports; none is made under a branch whose condition is unknown,
or in another module's code unless the linted file's call that led there is known.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Optional

import libcst as cst

from conv_lint.codes import message
from conv_lint.records import record


@record
class Report:
    """A finding before it has a place: the node it is about, its code and text."""

    node: cst.CSTNode
    code: str
    text: str
    changes: list = field(default_factory=list)  # fixes.proposals.Change, one per layer


class Reporting:
    """Making reports: ``reports`` in order, one per node and code."""

    def report(self, node: cst.CSTNode, code: str, **fields: Any) -> Optional[Report]:
        """Report an error (CNV1xx); the Report made, or None when it is not reported."""
        if self.uncertain:
            return None  # a branch we cannot tell is taken: its guard may be what makes it valid
        if self.failed:
            return None  # torch stops at the first error of a model; so do we, per model
        if self.scope is not self.home:  # raised in a sibling's code: where this file led there
            node = self.home_site
            if node is None:
                return None
        key = (id(node), code)
        if key in self._reported:
            return None
        text = message(code, **fields)
        self._reported[key] = report = Report(node, code, text[len(code) + 1:])
        self.reports.append(report)
        self.failed = True
        return report

    def warn(self, node: cst.CSTNode, code: str, **fields: Any) -> Report:
        """A design warning (CNV2xx): unlike errors, every one is kept. One Report per node and
        code (a loop may build several layers with one call): the first one's."""
        key = (id(node), code)
        if key not in self._reported:
            text = message(code, **fields)
            self._reported[key] = Report(node, code, text[len(code) + 1:])
            self.reports.append(self._reported[key])
        return self._reported[key]

    def _report_problems(self, problems, node, layer_name: str, source: str,
                         change=None) -> None:
        """Report ``problems``; ``change(problem)`` proposes the fix of one (or None)."""
        for problem in problems:
            fields = dict(problem.fields)
            fields.setdefault("layer", layer_name)
            fields.setdefault("source", f" (from {source})" if source else "")
            try:
                report = self.report(node, problem.code, **fields)
            except (KeyError, IndexError, ValueError):
                continue  # a template field the problem did not provide: better silent than wrong
            proposal = change(problem) if report is not None and change is not None else None
            if proposal is not None:
                report.changes.append(proposal)
