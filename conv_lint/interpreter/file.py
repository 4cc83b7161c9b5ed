"""The interpreter of one source file: the Python evaluator extended with torch's semantics.

``__init__`` builds module trees, ``forward`` moves shapes through them. The rooms it is made
of, each a mixin with one job: ``evaluator`` (Python: ``definitions``, ``statements``,
``expressions``, ``calls``), ``modules`` (torch.nn modules built and read), ``forward``
(shapes through layers, functions and operators), ``tensor_calls`` (a tensor's own
attributes, methods and indexing), ``product_calls`` (matmul, einsum), ``census`` (forward's
calls counted, where shapes were lost), ``reports`` and ``models`` (running a root class, or
building code alone). The state they share is set up here.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.interpreter.census import CallCensus
from conv_lint.interpreter.evaluator import Evaluator
from conv_lint.interpreter.forward import Row, ShapeFlow
from conv_lint.interpreter.frames import GiveUp
from conv_lint.interpreter.models import ModelRunner
from conv_lint.interpreter.modules import ModuleSemantics
from conv_lint.interpreter.product_calls import ProductCalls
from conv_lint.interpreter.reports import Report, Reporting
from conv_lint.interpreter.scopes import Resolver, Scope
from conv_lint.interpreter.tensor_calls import TensorCalls
from conv_lint.interpreter.values import LazyInput
from conv_lint.source.imports import ImportMap
from conv_lint.source.project import Project

__all__ = ["FileInterpreter", "GiveUp"]


class FileInterpreter(ModelRunner, Reporting, CallCensus, ModuleSemantics, TensorCalls,
                      ProductCalls,
                      ShapeFlow, Evaluator):
    """Everything the interpreter knows about one source file."""

    def __init__(self, module: cst.Module, filename: str = "<stdin>", *,
                 record: bool = False) -> None:
        self.module = module
        project = Project(filename)
        self.home = Scope(module, ImportMap(module, project.package), project.package or "")
        self.scope = self.home  # the module whose code runs now: its names are the globals
        self.home_site: Optional[cst.Call] = None  # the linted file's call that led elsewhere
        self.home_visit = 0  # counts the linted file's calls: tells visits of a site apart
        # For `conv-lint stats` (None: not recorded): each layer built, as (site, visit, direct,
        # kind, bound), the site being the linted file's call that led to it (direct: the call
        # itself); and each call of the file reached, with its evaluated arguments.
        self.constructions: Optional[list] = [] if record else None
        self.reached: Optional[dict] = {} if record else None
        self._scope_of: dict[int, Scope] = {}  # id(FunctionDef) -> the module defining it
        self.resolver = Resolver(project, self._build_scope, self._read_global)
        self.reports: list[Report] = []
        self._reported: dict = {}  # (id(node), code) -> its Report
        # What fixes must know: the layers each constructor call built while a model was run,
        # and every input shape each layer received (None when unknown).
        self.built: Optional[dict] = None  # id(call node) -> [Layer]; None outside the models
        self.received: dict = {}  # id(Layer) -> [shape]
        self.rows: Optional[list[Row]] = None
        self.names: dict[int, str] = {}
        self.steps = 0
        self.depth = 0
        self.first_input: Optional[LazyInput] = None
        self.uncertain = 0  # depth of branches run without knowing their condition
        self.calls: Optional[list] = None  # flow.Call records of the forward being run
        self.census: Optional[list] = None  # census.CallVisit of the forward being run
        self.failed = False  # the model being run has hit an error already
        self._collect(self.home)
        self._run_calling_lines(self.home)
