"""Products of tensors in forward: ``a @ b``, matmul / mm / bmm (torch functions and tensor
methods), addmm, baddbmm and einsum; their shape rules are ``products``.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`: forward's ``@`` operator,
tensor_calls' methods and modules' torch functions hand their products here.
"""

from __future__ import annotations

from conv_lint.interpreter import products
from conv_lint.interpreter.pyvalues import as_sequence
from conv_lint.interpreter.values import Tensor

# name -> (the rule, the parameter names after the tensors' own): torch 2.13's signatures
_RULES = {"matmul": products.matmul, "mm": products.mm, "bmm": products.bmm}
_SECOND = {"matmul": "other", "mm": "mat2", "bmm": "mat2"}
PRODUCT_METHODS = frozenset(_RULES)
PRODUCT_FUNCTIONS = frozenset({"torch.matmul", "torch.mm", "torch.bmm", "torch.einsum",
                               "torch.addmm", "torch.baddbmm"})
_ADDED = {"torch.addmm": ("mm", ("input", "mat1", "mat2")),
          "torch.baddbmm": ("bmm", ("input", "batch1", "batch2"))}
_SCALES = frozenset({"beta", "alpha"})  # scalars of addmm / baddbmm: no shape


class ProductCalls:
    """Matrix products and einsum of tensors."""

    def _product(self, name: str, operands: list, node, shown: str = ""):
        """``name`` ("matmul", "mm", "bmm") of two operands; a tensor of unknown shape when
        either is not a tensor of known shape."""
        if len(operands) != 2 or not all(isinstance(t, Tensor) for t in operands):
            return _unknown(operands)
        left, right = operands
        if left.shape is None or right.shape is None:
            return Tensor(origin=left.origin)
        shape, problem = _RULES[name](tuple(left.shape), tuple(right.shape), shown or name)
        return self._product_outcome(shape, problem, node, left.origin)

    def _product_outcome(self, shape, problem, node, origin: str):
        if problem is not None:
            self._report_problems([problem], node, problem.fields.get("op", ""), origin)
        return Tensor(shape if problem is None else None, origin=origin)

    def _product_method(self, tensor: Tensor, name: str, args, kwargs, complete: bool, node):
        """x.matmul(y), x.mm(y), x.bmm(y)."""
        given = dict(zip((_SECOND[name],), args), **kwargs)
        if not complete or len(args) > 1 or set(given) != {_SECOND[name]}:
            return Tensor(origin=tensor.origin)
        return self._product(name, [tensor, given[_SECOND[name]]], node)

    def _product_function(self, name: str, args, kwargs, complete: bool, node):
        """torch.matmul / mm / bmm / addmm / baddbmm / einsum."""
        if not complete:
            return _unknown(list(args) + list(kwargs.values()))
        short = name.rsplit(".", 1)[1]
        if short in _RULES:
            given = dict(zip(("input", _SECOND[short]), args), **kwargs)
            if len(args) > 2 or set(given) != {"input", _SECOND[short]}:
                return _unknown(list(args))
            return self._product(short, [given["input"], given[_SECOND[short]]], node)
        if name == "torch.einsum":
            return self._einsum(args, kwargs, node)
        rule, names = _ADDED[name]
        given = dict(zip(names, args), **kwargs)
        tensors = [given.get(n) for n in names]
        if len(args) > 3 or set(given) - set(names) - _SCALES or not all(
                isinstance(t, Tensor) and t.shape is not None for t in tensors):
            return _unknown(tensors)
        bias, first, second = (tuple(t.shape) for t in tensors)
        shape, problem = products.added(_RULES[rule](first, second, short), bias, short)
        return self._product_outcome(shape, problem, node, tensors[1].origin)

    def _einsum(self, args, kwargs, node):
        """torch.einsum(equation, *operands) or torch.einsum(equation, [operands])."""
        if kwargs or not args or not isinstance(args[0], str):
            return _unknown(list(args))
        operands = list(args[1:])
        if len(operands) == 1 and not isinstance(operands[0], Tensor):
            operands = as_sequence(operands[0]) or []
        if not operands or not all(isinstance(t, Tensor) for t in operands):
            return _unknown(operands)
        if any(t.shape is None for t in operands):
            return Tensor(origin=operands[0].origin)
        shape, problem = products.einsum(args[0], [tuple(t.shape) for t in operands])
        return self._product_outcome(shape, problem, node, operands[0].origin)


def _unknown(values):
    """A tensor of unknown shape (a product of something that is not a tensor still is one
    when torch runs it on tensors)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    return Tensor(origin=tensors[0].origin if tensors else "")
