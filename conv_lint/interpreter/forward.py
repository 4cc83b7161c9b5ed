"""Moving shapes through forward(): modules, layers, torch functions and operators on
tensors (a tensor's own methods are ``tensor_calls``); the records of a forward run.

A mixin of :class:`~conv_lint.interpreter.file.FileInterpreter`, overriding the evaluator's
extension points for operators and calls not followed: it needs the interpreter's reports,
module names and function calls, and adds what happens to a tensor at each call.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from conv_lint import layers
from conv_lint.algebra import sizes
from conv_lint.fixes.proposals import Change
from conv_lint.interpreter.pyvalues import is_int
from conv_lint.interpreter.tensor_shapes import broadcast_batch
from conv_lint.interpreter.values import (
    UNKNOWN, Container, Layer, Module, OpaqueModule, Tensor, UserModule, plain,
)
from conv_lint.records import record

SPATIAL_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
# Layers whose rank tells the rank of an input that has none configured (not BatchNorm1d: 2D or 3D).
_RANKED = re.compile(r"^(Lazy)?(Conv|ConvTranspose|MaxPool|AvgPool|Adaptive\w+Pool|LPPool|"
                     r"BatchNorm[23]|InstanceNorm[23]|max_pool|avg_pool|adaptive_\w+pool|"
                     r"lp_pool|conv)\D*(\d)d$")


@record
class Row:
    """One line of `conv-lint explain`: a module call in forward, in execution order."""

    module: Module
    node: Any  # the module's constructor call, for its line
    name: str
    type: str
    output: Optional[tuple] = None
    params: Optional[int] = None


@record(eq=False)
class Call:
    """One layer or torch function applied in forward: what the design rules (CNV2xx) read."""

    kind: Any  # layers.LayerType
    bound: dict
    name: str  # "features.3", or "F.max_pool2d"
    node: Any  # where a warning about it points: a layer's constructor, a function's call
    layer: Optional[Layer]
    input: tuple
    output: tuple
    fed_by: Optional["Call"]  # the call whose output this one received directly, if any
    certain: bool = True  # False under an `if` the interpreter could not decide


class ShapeFlow:
    """What forward() does to tensors; mixed into the interpreter."""

    def _unfollowed_call(self, args):
        """A call not followed gives a tensor of unknown shape when it was given a tensor."""
        return unknown_result(args)

    def _tensor_binary(self, op: str, left, right, node):
        if op == "MatrixMultiply":  # a @ b (product_calls)
            return self._product("matmul", [left, right], node)
        if not (isinstance(left, Tensor) and isinstance(right, Tensor)):
            tensor, other = (left, right) if isinstance(left, Tensor) else (right, left)
            if isinstance(other, (int, float)):  # a Python scalar broadcasts to anything
                return tensor.derived()
            return Tensor(origin=tensor.origin)
        a, b = left.shape, right.shape
        if a is None or b is None:
            if a is None and b is None and left.lazy is not None and left.lazy is right.lazy:
                return left.derived()
            return Tensor(origin=left.origin)
        out, axis = broadcast_batch(a, b)
        if out is None:  # axis counts from the right: a missing axis broadcasts as 1
            x, y = (dims[axis] if -axis <= len(dims) else 1 for dims in (a, b))
            verb = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply",
                    "Divide": "divide"}.get(op, "combine")
            self.report(node, "CNV106", op=verb, left=shape_str(left.shape),
                        right=shape_str(right.shape),
                        detail=f"axis {axis} is {dim_str(x)} vs {dim_str(y)}")
            return Tensor(origin=left.origin)
        return Tensor(out, left.origin)

    def _apply_module(self, module: Module, args, kwargs, node, frame):
        if isinstance(module, Container) and module.kind_name != "Sequential":
            return UNKNOWN  # ModuleList/ModuleDict have no forward
        row = self._open_row(module, node)
        if isinstance(module, Layer):
            result = self._apply_layer(module, args, kwargs, node)
        elif isinstance(module, Container):
            result = self._apply_in_turn([item for _, item in module.items], args, kwargs,
                                         node, frame)
        elif isinstance(module, UserModule):
            forward = module.cls.method("forward") if module.cls else None
            if forward is None and module.cls is not None and module.cls.container == "Sequential":
                children = [v for k, v in module.attrs.items() if isinstance(v, Module) or k == "?"]
                result = self._apply_in_turn(children, args, kwargs, node, frame)
            elif forward is None and module.layer is not None:  # a subclass of a layer
                self.names.setdefault(id(module.layer), self.names.get(id(module), ""))
                result = self._apply_layer(module.layer, args, kwargs, node)
            elif forward is None:
                result = unknown_result(args)
            else:
                result = self._call_function(forward, [module] + list(args), dict(kwargs),
                                             self_module=module,
                                             cls=module.cls.owner("forward"),
                                             in_forward=True)
        else:  # an OpaqueModule
            result = unknown_result(args)
        if row is not None and isinstance(result, Tensor):
            row.output = result.shape
        elif row is not None and isinstance(module, Layer):  # a layer's tuple: its first tensor
            row.output = first_tensor(result).shape
        if row is not None and row.params is None:  # a lazy layer is built by its first call
            row.type, row.params = module.type_name, self.param_count(module)
        return result

    def _apply_in_turn(self, children: list, args, kwargs, node, frame):
        """nn.Sequential's forward: each child on the previous one's output; ``node``, the call,
        is where their errors point (None: each at its own constructor)."""
        result = args[0] if len(args) == 1 and not kwargs else UNKNOWN
        for child in children:
            if isinstance(child, Module):
                given, result = result, self._apply_module(child, [result], {}, node, frame)
                self._observe_call(child, [given], {}, True, result, node or child.node)
            else:
                result = unknown_result([result])
        return result

    def _open_row(self, module: Module, node) -> Optional[Row]:
        if self.rows is None:
            return None
        name = self.names.get(id(module))
        if name is None:
            return None
        row = Row(module, module.node, name, module.type_name, params=self.param_count(module))
        self.rows.append(row)
        return row

    def _apply_layer(self, layer: Layer, args, kwargs, node):
        """``node``: where its errors point (None in a module-level model: at the layer)."""
        node = layer.node if node is None else node
        tensor = args[0] if args else kwargs.get("input", UNKNOWN)
        name = self.names.get(id(layer), layer.kind.name)
        if layer.kind.call is not None:
            return self._run_structured(layer, args, kwargs, node, name)
        if not isinstance(tensor, Tensor) or layer.kind.family.extra_inputs and (
                len(args) > 1 or kwargs):  # EmbeddingBag(ids, offsets): not followed
            self._receive(layer, None)
            result = Tensor(origin=name)
        else:
            result = self._run(layer.kind, layer.bound, tensor, node, name, layer)
        # torch builds a lazy layer at its first call, from that input: an input unknown, or
        # under an undecided `if`, leaves its in-size unknown for good
        known = isinstance(tensor, Tensor) and not self.uncertain
        built = layer.kind.materialised(layer.bound, tensor.shape if known else None)
        if built is not None:
            layer.bound = built
        return result

    def _apply_function(self, kind, args, kwargs, complete, node, qualname: str):
        if not complete or not args and "input" not in kwargs:
            return unknown_result(args)
        tensor = args[0] if args else kwargs["input"]
        if not isinstance(tensor, Tensor):
            return unknown_result(args)
        given = catalogue_value(kind)
        bound = kind.bind([given(a) for a in args], {k: given(v) for k, v in kwargs.items()})
        if bound is None:
            return Tensor(origin=tensor.origin)
        return self._run(kind, bound, tensor, node, display_name(qualname), None)

    def _run(self, kind, bound: dict, tensor: Tensor, node, name: str, layer: Optional[Layer]):
        """One layer or function call on ``tensor``: report what torch's call raises, record it."""
        self._settle(tensor, kind, bound)
        if layer is not None:
            self._receive(layer, tensor.shape)
        problems = kind.check(bound)
        if layer is not None:  # a module's constructor problems were reported where it was built
            problems = [p for p in problems if not raised_at_construction(p)]
        self._report_problems(problems, node, name, tensor.origin)
        if tensor.shape is None:
            if tensor.lazy is not None and kind.elementwise:
                return tensor.derived()
            return Tensor(origin=tensor.origin if layer is None else name)
        shape, problems = kind.apply(bound, tensor.shape)
        self._report_problems(problems, node, name, tensor.origin,
                              _size_change(layer, tensor.shape) if layer is not None else None)
        if problems or shape is None:
            return Tensor(origin=tensor.origin if layer is None else name)
        call = Call(kind, bound, name, layer.node if layer is not None else node, layer,
                    tensor.shape, shape, tensor.made_by, certain=not self.uncertain)
        if self.calls is not None:
            self.calls.append(call)
        return Tensor(shape, origin=_origin_after(kind, bound, name, tensor.origin), made_by=call)

    def _run_structured(self, layer: Layer, args, kwargs, node, name: str):
        """A layer whose forward takes several tensors or gives a tuple (LSTM's
        ``(output, (h_n, c_n))``, attention's ``(output, weights)``): its family maps the
        shapes of every tensor given (layers.Shaped) to the structure torch returns."""
        first = first_tensor(list(args) + list(kwargs.values()))
        self._receive(layer, first.shape)
        at_call = [p for p in layer.kind.check(layer.bound) if not raised_at_construction(p)]
        self._report_problems(at_call, node, name, first.origin)  # RNNCell's nonlinearity
        result, problems = layer.kind.forward(layer.bound, [shaped(a) for a in args],
                                              {k: shaped(v) for k, v in kwargs.items()})
        self._report_problems(problems, node, name, first.origin,
                              _size_change(layer, first.shape) if first.shape else None)
        return UNKNOWN if problems else tensors_of(result, name)

    def _receive(self, layer: Layer, shape: Optional[tuple]) -> None:
        """Record what a layer receives, for fixes (FileInterpreter.received). Only
        while models run: the layers built then are kept alive by ``built``, so ids stay theirs."""
        if self.built is not None:
            self.received.setdefault(id(layer), []).append(shape)

    def _settle(self, tensor: Tensor, kind, bound: dict) -> None:
        """Fix an input's rank from the first layer that needs it (see values.LazyInput), and
        its channels from what that layer reads when it surely runs: any input that gets past
        it has them (one that does not fails there)."""
        lazy = tensor.lazy
        if lazy is None or lazy.settled:
            return
        match = _RANKED.match(kind.name)
        pattern_rank = None if match else kind.family.spatial_rank(bound)
        if match is None and pattern_rank is None:  # a layer of any rank (Linear, Flatten,
            # Embedding): the configured shape, if it can be its input (ids: one axis only)
            candidate = lazy.candidate
            if candidate is not None and (len(candidate) == 1 if kind.family.token_ids
                                          else not kind.elementwise):
                lazy.shape, lazy.settled = (sizes.BATCH,) + tuple(candidate), True
            return
        rank = int(match.group(3)) if match else pattern_rank
        if rank not in SPATIAL_SYMBOLS:
            return
        lazy.settled = True
        if lazy.candidate is not None and len(lazy.candidate) == rank + 1:
            lazy.shape = (sizes.BATCH,) + tuple(lazy.candidate)
        else:
            spatial = tuple(sizes.symbol(s + lazy.suffix) for s in SPATIAL_SYMBOLS[rank])
            channels = None if self.uncertain else kind.in_channels(bound)
            lazy.shape = (sizes.BATCH, channels) + spatial

    def param_count(self, module: Module, seen: Optional[set] = None) -> Optional[int]:
        seen = set() if seen is None else seen
        if id(module) in seen:
            return 0
        seen.add(id(module))
        total = 0
        if isinstance(module, Layer):
            return module.kind.params(module.bound)
        if isinstance(module, OpaqueModule):
            return None
        if isinstance(module, UserModule):
            if module.layer is not None:  # the parameters of the layer it subclasses
                total = module.layer.kind.params(module.layer.bound)
                if total is None:
                    return None
            for value in module.attrs.values():
                if isinstance(value, Parameter):
                    count = value.numel()
                    if count is None:
                        return None
                    total += count
        for _key, child in module.children():
            count = self.param_count(child, seen)
            if count is None:
                return None
            total += count
        if isinstance(module, Container) and any(
                not isinstance(item, Module) for _, item in module.items):
            return None
        return total


# ---- helpers ----

@record(eq=False)
class Parameter:
    """A tensor of ``module.parameters()``: only its element count matters."""

    data: Any

    def numel(self) -> Optional[int]:
        shape = self.data.shape if isinstance(self.data, Tensor) else None
        if shape is None or not all(is_int(d) for d in shape):
            return None
        count = 1
        for d in shape:
            count *= d
        return count


TENSOR_FACTORIES = {"torch.zeros", "torch.ones", "torch.randn", "torch.rand", "torch.empty",
                    "torch.Tensor", "torch.FloatTensor"}


def factory_tensor(args, kwargs) -> Tensor:
    """torch.zeros(2, 3), torch.ones((2, 3)), torch.rand(size=(2, 3)): a tensor of that shape."""
    if not args and "size" in kwargs:
        args = [kwargs["size"]]
    dims = args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args)
    if all(is_int(d) and d >= 0 for d in dims):
        return Tensor(tuple(dims))
    return Tensor()


def catalogue_value(kind):
    """What the catalogue sees of an argument: its plain value (values.plain), the sizes read
    from a tensor kept for a family that reads them (cls_token.expand(x.size(0), -1, -1),
    rearrange(x, 'b (h w) c -> b c h w', h=H, w=W) with B, C, H, W = x.shape)."""
    return _sizes_kept if kind.family.reads_batch else plain


def _sizes_kept(value):
    if value is sizes.BATCH or isinstance(value, (sizes.Expr, sizes.Product)):
        return value
    return plain(value)


def shaped(value):
    """What a layer's forward sees of an argument: a tensor by its shape (tuples looked into),
    other values as the catalogue sees them."""
    if isinstance(value, Tensor):
        return layers.Shaped(value.shape)
    if isinstance(value, tuple):
        return tuple(shaped(v) for v in value)
    return plain(value)


def tensors_of(result, origin: str):
    """A layer's structured result (layers.Shaped, None, UNKNOWN or tuples of them) as values."""
    if isinstance(result, layers.Shaped):
        return Tensor(result.shape, origin=origin)
    if isinstance(result, tuple):
        return tuple(tensors_of(r, origin) for r in result)
    return result


def first_tensor(value) -> Tensor:
    """The first tensor of a value (a tensor, or a tuple or list of values): what a table row
    shows and messages name as the source; an unknown tensor if there is none."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = first_tensor(item)
            if found.shape is not None or found.origin:
                return found
    return Tensor()


def unknown_result(args):
    """A call we do not know: a tensor of unknown shape if it was given a tensor."""
    if any(isinstance(a, Tensor) for a in args):
        return Tensor()
    return UNKNOWN


def _size_change(layer: Layer, shape: tuple):
    """The fix a forward-time problem of ``layer`` asks for: its size argument set to what it
    receives (Family.demands), when that is known."""
    def change(problem) -> Optional[Change]:
        wanted = layer.kind.demands(layer.bound, shape).get(problem.arg)
        return None if wanted is None else Change(layer.node, layer.kind, problem.arg, wanted,
                                                  layer)
    return change


def raised_at_construction(problem) -> bool:
    return getattr(problem, "when", "init") == "init"


def _origin_after(kind, bound: dict, name: str, previous: str) -> str:
    """The layer the output's channel count comes from, for messages: pools and norms keep it."""
    if kind.elementwise or kind.out_channels(bound) is None:
        return previous
    return name


def display_name(qualname: str) -> str:
    if qualname.startswith("torch.nn.functional."):
        return "F." + qualname.rsplit(".", 1)[1]
    return qualname


def dim_str(dim) -> str:
    if dim is None:
        return "?"
    return str(sizes.describe(dim))


def shape_str(shape) -> str:
    if shape is None:
        return "(?)"
    return "(" + ", ".join(dim_str(d) for d in shape) + ")"
