"""What a tensor's own attributes, methods and indexing give in forward (``x.shape``,
``x.view(...)``, ``x.max(1)``, ``x[:, 0]``), and torch.cat / torch.stack of tensors.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`, overriding the evaluator's
extension points for tensor attributes and indexing; a method of the catalogue goes through
it like a layer (``layers.METHODS``).
"""

from __future__ import annotations

from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.interpreter.forward import catalogue_value, dim_str, shape_str
from conv_lint.interpreter.product_calls import PRODUCT_METHODS
from conv_lint.interpreter.products import stacked
from conv_lint.interpreter.pyvalues import MAX_UNROLL, as_sequence, is_int
from conv_lint.interpreter.tensor_shapes import (
    cat_conflict, concatenated, index_shape, piece_sizes, proven_unequal_size, regroup_detail,
    view_rest,
)
from conv_lint.interpreter.values import UNKNOWN, Tensor, plain
from conv_lint.records import record

_SHAPE_PRESERVING_METHODS = {
    "contiguous", "clone", "detach", "float", "double", "half", "bfloat16", "to", "cuda", "cpu",
    "type_as", "requires_grad_", "abs", "exp", "log", "neg", "sqrt", "clamp", "clamp_", "relu_",
    "sigmoid_", "tanh_", "mul_", "add_", "div_", "sub_", "masked_fill", "pow",
}


# x.expand_as(y), x.reshape_as(y), x.view_as(y): y's shape (timm's StdConv2d reshapes its
# standardised weight back with reshape_as(self.weight))
_AS_OTHER = frozenset({"expand_as", "reshape_as", "view_as"})


class NamedTensors(tuple):
    """What torch.max(x, dim), min, topk and sort give: (values, indices), also by name."""

    names = ("values", "indices")


# Methods (and torch functions) whose result is a tuple of tensors: see TensorCalls._tuple_result.
TUPLE_RESULTS = frozenset({"max", "min", "topk", "sort", "chunk", "split", "unbind"})
_TUPLE_SIGNATURES = {"max": ("dim", "keepdim"), "min": ("dim", "keepdim"),
                     "topk": ("k", "dim", "largest", "sorted"), "sort": ("dim", "descending"),
                     "chunk": ("chunks", "dim"), "split": ("split_size_or_sections", "dim"),
                     "unbind": ("dim",)}


@record(eq=False)
class TensorMethod:
    """``x.view`` before it is called."""

    tensor: Tensor
    name: str


class TensorCalls:
    """Tensors' own attributes, methods and indexing."""

    def _tensor_attribute(self, tensor: Tensor, attr: str):
        """``x.shape``, ``x.ndim``, ``x.data``, ``x.mT``, else a method of the tensor waiting
        for its call."""
        shape = tensor.shape
        if attr == "shape" and shape is not None:
            return tuple(shape)
        if attr == "ndim" and shape is not None:
            return len(shape)
        if attr == "data":
            return tensor
        if attr == "mT":  # the last two axes swapped (fewer than two: torch raises, no claim)
            if shape is None or len(shape) < 2:
                return Tensor(origin=tensor.origin)
            return Tensor(shape[:-2] + (shape[-1], shape[-2]), origin=tensor.origin)
        return TensorMethod(tensor, attr)

    def _tensor_index(self, tensor: Tensor, node, frame):
        items = [self._index_item(element.slice, frame) for element in node.slice]
        return Tensor(index_shape(tensor.shape, items), origin=tensor.origin)

    def _tensor_method(self, method: TensorMethod, args, kwargs, complete, node):
        tensor, name = method.tensor, method.name
        shape = tensor.shape
        if name == "size":
            if shape is None or not complete:
                return UNKNOWN
            if not args and not kwargs:
                return tuple(shape)
            index = args[0] if args else kwargs.get("dim", UNKNOWN)
            return shape[index] if is_int(index) and -len(shape) <= index < len(shape) else UNKNOWN
        if name == "dim":
            return len(shape) if shape is not None else UNKNOWN
        if name in _AS_OTHER and len(args) == 1 and isinstance(args[0], Tensor) and not kwargs:
            if name == "expand_as" and shape is not None:
                return self._tensor_binary("Multiply", tensor, args[0], node).derived()
            return Tensor(args[0].shape, origin=tensor.origin)  # wherever torch runs
        if name in ("view", "reshape"):
            return self._view(tensor, name, args, complete, node)
        if name in _SHAPE_PRESERVING_METHODS:
            return tensor.derived()
        if name in TUPLE_RESULTS:
            return self._tuple_result(tensor, name, args, kwargs, complete, node)
        if name in PRODUCT_METHODS:
            return self._product_method(tensor, name, args, kwargs, complete, node)
        kind = layers.METHODS.get(name)
        if kind is None or not complete:
            return Tensor(origin=tensor.origin)
        given = catalogue_value(kind)
        bound = kind.bind([plain(tensor)] + [given(a) for a in args],
                          {k: plain(v) for k, v in kwargs.items()})
        if bound is None or shape is None:
            return Tensor(origin=tensor.origin)
        out, problems = kind.apply(bound, shape)
        self._report_problems(problems, node, f".{name}()", tensor.origin)
        return Tensor(out if not problems else None, origin=tensor.origin)

    def _tuple_result(self, tensor: Tensor, name: str, args, kwargs, complete: bool, node):
        """x.max(dim) / min -> (values, indices); x.topk(k, dim), x.sort(dim) likewise;
        x.chunk(n, dim), x.split(size, dim), x.unbind(dim) -> a tuple of tensors. torch's errors
        here (a dim out of range, k too large) are not claimed: the result is unknown."""
        other = args[0] if args else kwargs.get("other")
        if name in ("max", "min") and isinstance(other, Tensor):  # elementwise, as maximum
            return self._tensor_binary("Combine", tensor, other, node)
        shape, names = tensor.shape, _TUPLE_SIGNATURES[name]
        if not complete or shape is None or len(args) > len(names) or set(kwargs) - set(names):
            return UNKNOWN
        bound = {k: plain(v) for k, v in dict(zip(names, args), **kwargs).items()}
        default = 0 if name in ("chunk", "split", "unbind") else -1
        dim = bound.get("dim", None if name in ("max", "min") else default)
        if dim is None:  # x.max(): the largest element, a 0-d tensor (torch raises if empty)
            return Tensor(()) if name in ("max", "min") and 0 not in shape else UNKNOWN
        if not is_int(dim) or not -len(shape) <= dim < len(shape):
            return UNKNOWN
        axis, n = dim % len(shape), shape[dim]
        if name in ("max", "min", "topk", "sort"):
            if name == "topk":
                k = bound.get("k")
                if not is_int(k) or k < 0 or not is_int(n) or k > n:
                    return UNKNOWN
                out = shape[:axis] + (k,) + shape[axis + 1:]
            elif name == "sort":
                out = shape
            else:
                if n == 0 or bound.get("keepdim", False) not in (True, False):
                    return UNKNOWN
                out = shape[:axis] + ((1,) if bound.get("keepdim") else ()) + shape[axis + 1:]
            return NamedTensors((Tensor(out, origin=tensor.origin), Tensor(out)))
        if name == "unbind":
            sizes_along = [None] * n if is_int(n) and n <= MAX_UNROLL else None
        else:
            how = "chunk" if name == "chunk" else "split"
            sizes_along = piece_sizes(n, how, bound.get("chunks" if how == "chunk"
                                                        else "split_size_or_sections"))
        if sizes_along is None:
            return UNKNOWN
        return tuple(Tensor(shape[:axis] + (() if size is None else (size,)) + shape[axis + 1:],
                            origin=tensor.origin) for size in sizes_along)

    def _view(self, tensor: Tensor, name: str, args, complete: bool, node):
        if len(args) == 1 and isinstance(args[0], (tuple, list)):
            args = list(args[0])
        shape = tensor.shape
        if not complete or shape is None or not args or not shape or shape[0] is not sizes.BATCH:
            return Tensor(origin=tensor.origin)
        per_sample = sizes.product(shape[1:])
        first, rest = args[0], args[1:]
        if first is sizes.BATCH:  # x.view(x.size(0), ...)
            return Tensor(view_rest(per_sample, rest), origin=tensor.origin)
        if first == -1 and rest and all(is_int(r) and r > 0 for r in rest):
            wanted = 1
            for r in rest:
                wanted *= r
            if proven_unequal_size(per_sample, wanted):
                call = f"{name}(-1, {', '.join(str(r) for r in rest)})"
                self.report(node, "CNV104", call=call, got=dim_str(per_sample),
                            detail=regroup_detail(per_sample, wanted))
                return Tensor(origin=tensor.origin)
            if sizes.proven_equal(per_sample, wanted) or per_sample == wanted:
                return Tensor((sizes.BATCH,) + tuple(rest), origin=tensor.origin)
        return Tensor(origin=tensor.origin)

    def _cat(self, name: str, args, kwargs, node):
        tensors = as_sequence(args[0]) if args else as_sequence(kwargs.get("tensors"))
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if tensors is None or not tensors or not all(isinstance(t, Tensor) for t in tensors):
            return Tensor()
        if name == "torch.cat" and len(tensors) == 1 and tensors[0].lazy is not None:
            return tensors[0].derived()  # DenseNet's cat([x]) of an input not yet sized: x itself
        shapes = [t.shape for t in tensors]
        if any(s is None for s in shapes) or not is_int(dim):
            return Tensor(origin="torch.cat")
        if name == "torch.stack":  # unequal shapes raise: not claimed
            return Tensor(stacked(shapes, dim), origin=tensors[0].origin)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= dim < rank:
            return Tensor(origin="torch.cat")
        axis = dim % rank
        for other in range(rank):
            if other == axis:
                continue
            column = [s[other] for s in shapes]
            for later in column[1:]:
                if cat_conflict(column[0], later):
                    self.report(node, "CNV107", dim=dim,
                                shapes=" and ".join(shape_str(s) for s in shapes),
                                detail=f"axis {other} differs ({dim_str(column[0])} vs "
                                       f"{dim_str(later)})")
                    return Tensor(origin="torch.cat")
        out = list(shapes[0])
        total = [s[axis] for s in shapes]
        out[axis] = concatenated(total)
        for other in range(rank):
            if other != axis and any(s[other] != out[other] for s in shapes):
                out[other] = None if not all(
                    sizes.proven_equal(out[other], s[other]) for s in shapes) else out[other]
        return Tensor(tuple(out), origin="torch.cat")


def modelled_method(name: str) -> bool:
    """Does the analysis have a shape rule for the tensor method ``name``?"""
    return (name in ("size", "dim", "expand_as", "view", "reshape", "view_as", "reshape_as")
            or name in _SHAPE_PRESERVING_METHODS or name in TUPLE_RESULTS
            or name in PRODUCT_METHODS or name in layers.METHODS)
