"""Expressions: literals, names, attributes, subscripts, operators, comprehensions.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`. What the evaluator does not
know of itself goes to its extensions: attributes of modules and tensors
(``_other_attribute``), a tensor's index (``_tensor_index``), operators on tensors
(``_tensor_binary``).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from conv_lint.algebra import symbols
from conv_lint.interpreter.callables import (
    READING_LIST_METHODS, DictMethod, ListMethod, Qualified, StrFormat,
)
from conv_lint.interpreter.classes import ClassInfo
from conv_lint.interpreter.frames import Frame
from conv_lint.interpreter.joins import join
from conv_lint.interpreter.pyvalues import (
    MAX_UNROLL, arith, as_sequence, bounded_text, compare, hashable, is_int, iterated,
    literal_number, truth, unary,
)
from conv_lint.interpreter.values import UNKNOWN, ClassRef, Container, ListValue, Tensor


class Expressions:
    """What an expression evaluates to, on a frame."""

    def eval(self, node: cst.BaseExpression, frame: Frame):
        self._tick()
        kind = type(node)  # the commonest first, by exact type: isinstance on libcst's ABCs is slow
        if kind is cst.Name:
            return self._lookup(node.value, frame)
        if kind is cst.Call:
            return self._call(node, frame)
        if kind is cst.Attribute:
            return self._attribute(node, frame)
        if isinstance(node, cst.Integer):
            return literal_number(node, int)
        if isinstance(node, cst.Float):
            return literal_number(node, float)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                value = node.evaluated_value
            except (ValueError, SyntaxError):  # a bad escape
                return UNKNOWN
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(node, cst.Name):
            return self._lookup(node.value, frame)
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, frame)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, frame)
        if isinstance(node, (cst.Tuple, cst.List)):
            items = self._elements(node.elements, frame)
            if items is None:
                return UNKNOWN
            return tuple(items) if isinstance(node, cst.Tuple) else ListValue(items)
        if isinstance(node, cst.Dict):
            return self._dict(node, frame)
        if isinstance(node, cst.UnaryOperation):
            return unary(type(node.operator).__name__, self.eval(node.expression, frame))
        if isinstance(node, cst.BinaryOperation):
            left = self.eval(node.left, frame)
            right = self.eval(node.right, frame)
            return self._binary(type(node.operator).__name__, left, right, node, frame)
        if isinstance(node, cst.BooleanOperation):
            return self._boolean(node, frame)
        if isinstance(node, cst.Comparison):
            return self._comparison(node, frame)
        if isinstance(node, cst.IfExp):
            test = truth(self.eval(node.test, frame))
            if test is True:
                return self.eval(node.body, frame)
            if test is False:
                return self.eval(node.orelse, frame)
            self.uncertain += 1
            try:
                return join(self.eval(node.body, frame), self.eval(node.orelse, frame))
            finally:
                self.uncertain -= 1
        if isinstance(node, cst.Subscript):
            return self._subscript(node, frame)
        if isinstance(node, cst.Call):
            return self._call(node, frame)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, frame)
        return UNKNOWN

    def _fstring(self, node: cst.FormattedString, frame: Frame):
        """f"layer{i + 1}": module names built in loops."""
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if part.format_spec or part.conversion or not isinstance(value, (int, float, str)):
                return UNKNOWN
            text.append(str(value))
        return bounded_text("".join(text))

    def _elements(self, elements, frame: Frame) -> Optional[list]:
        items = []
        for element in elements:
            value = self.eval(element.value, frame)
            if isinstance(element, cst.StarredElement):
                seq = as_sequence(iterated(value))
                if seq is None:
                    return None
                items.extend(seq)
            else:
                items.append(value)
        return items

    def _dict(self, node: cst.Dict, frame: Frame):
        result = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return UNKNOWN
            key = self.eval(element.key, frame)
            if key is UNKNOWN or not hashable(key):
                return UNKNOWN
            result[key] = self.eval(element.value, frame)
        return result

    def _attribute(self, node: cst.Attribute, frame: Frame):
        attr = node.attr.value
        base = self.eval(node.value, frame)
        if isinstance(base, Qualified):
            return self._qualified(base.name + "." + attr)
        if isinstance(base, str) and attr == "format":
            return StrFormat(base)
        if isinstance(base, ListValue) and attr not in READING_LIST_METHODS:
            return ListMethod(base, attr)
        if isinstance(base, dict):
            return DictMethod(base, attr)
        if isinstance(base, ClassRef) and isinstance(base.target, ClassInfo):
            return self._class_attr(base.target, attr)
        return self._other_attribute(base, attr)

    def _subscript_key(self, node: cst.Subscript, frame: Frame):
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        return self.eval(node.slice[0].slice.value, frame)

    def _subscript(self, node: cst.Subscript, frame: Frame):
        base = self.eval(node.value, frame)
        if isinstance(base, Tensor):
            return self._tensor_index(base, node, frame)
        if len(node.slice) != 1:
            return UNKNOWN
        part = node.slice[0].slice
        seq = base.items if isinstance(base, ListValue) else base
        if isinstance(base, Container):
            seq = [item for _, item in base.items]
        if isinstance(part, cst.Slice):
            bounds = [None if b is None else self.eval(b, frame) for b in (part.lower, part.upper)]
            step = None if part.step is None else self.eval(part.step, frame)
            if not isinstance(seq, (tuple, list)) or any(
                b is not None and not is_int(b) for b in bounds + [step]
            ):
                return UNKNOWN
            sliced = seq[bounds[0]:bounds[1]:step]
            return ListValue(list(sliced)) if isinstance(base, ListValue) else tuple(sliced)
        key = self.eval(part.value, frame)
        if isinstance(seq, (tuple, list)) and is_int(key) and -len(seq) <= key < len(seq):
            return seq[key]
        if isinstance(base, dict) and key is not UNKNOWN and hashable(key):
            return base.get(key, UNKNOWN)
        if isinstance(base, symbols.Poly) and (is_int(key) or isinstance(key, str)):
            return symbols.item(base, key)  # stage_out_channels[0] of a parameter list
        return UNKNOWN

    def _index_item(self, part, frame: Frame):
        """One item of ``x[...]``: a slice as a Python slice, else the evaluated value."""
        if isinstance(part, cst.Slice):
            bounds = [None if b is None else self.eval(b, frame)
                      for b in (part.lower, part.upper, part.step)]
            return slice(*bounds) if all(b is None or is_int(b) for b in bounds) else UNKNOWN
        if isinstance(part.value, cst.Ellipsis):
            return Ellipsis
        return self.eval(part.value, frame)

    def _boolean(self, node: cst.BooleanOperation, frame: Frame):
        left = self.eval(node.left, frame)
        outcome = truth(left)
        is_and = isinstance(node.operator, cst.And)
        if outcome is None:
            # `x.is_cuda and self.ngpu > 1` with ngpu == 1 is false whatever x is: the right
            # side decides the truth (and, as its value, stands for the left's falsy one)
            right = self.eval(node.right, frame)
            return right if truth(right) is (not is_and) else UNKNOWN
        if outcome is (not is_and):
            return left
        return self.eval(node.right, frame)

    def _comparison(self, node: cst.Comparison, frame: Frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            outcome = compare(type(target.operator).__name__, left, right)
            if outcome is UNKNOWN:
                return UNKNOWN
            result = result and outcome
            left = right
        return result

    def _binary(self, op: str, left, right, node, frame: Frame):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self._tensor_binary(op, left, right, node)
        return arith(op, left, right)

    def _comprehension(self, node, frame: Frame):
        results = []
        if not self._comprehend(node.for_in, node.elt, frame, dict(frame.env), results):
            return UNKNOWN
        return ListValue(results) if isinstance(node, cst.ListComp) else tuple(results)

    def _comprehend(self, comp: cst.CompFor, elt, frame: Frame, env: dict, results: list) -> bool:
        items = as_sequence(iterated(self.eval(comp.iter, frame.with_env(env))))
        if items is None or len(items) > MAX_UNROLL:
            self._probe(comp.target, frame.with_env(env), lambda sub: (
                self.eval(elt, sub) if comp.inner_for_in is None
                else self._comprehend(comp.inner_for_in, elt, sub, sub.env, [])))
            return False
        for item in items:
            sub = frame.with_env(dict(env))
            self._assign(comp.target, item, sub)
            keep = True
            for condition in comp.ifs:
                outcome = truth(self.eval(condition.test, sub))
                if outcome is None:
                    return False
                keep = keep and outcome
            if not keep:
                continue
            if comp.inner_for_in is not None:
                if not self._comprehend(comp.inner_for_in, elt, frame, sub.env, results):
                    return False
            else:
                results.append(self.eval(elt, sub))
        return True
