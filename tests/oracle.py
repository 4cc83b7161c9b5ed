"""Torch as the oracle: read a fixture's annotations, run its models, explain torch's errors.

A fixture is a model file with three kinds of comments:
- ``# conv-lint: input-shape=3,32,32`` (read by the linter) or ``# oracle: input-shape=3,32,32``
  (read only by these tests) on the line(s) right above a root class;
- ``# expect: CNV101, CNV105`` at the end of a line the linter must report on: a CNV1xx code
  where torch fails, a CNV2xx code (design warning) on a line of a model that runs;
- ``# oracle: args=64, 16 | 64, 8`` beside the input shape: torch builds the root class with
  each of these values for its parameters without defaults (one root per list), which the linter
  reads as symbols (the others keep their defaults); a claim about symbols must hold for each;
- ``# oracle: dynamic`` on a class line whose forward a static checker cannot follow;
- ``# options: --conv-padding-policy=strict`` (a line of its own): the design rules' flake8
  options the linter must be run with (read by the tests, see ``options_in``).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import re
import shlex
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
BATCH = 2  # a batch of 2 makes view(-1, K) regrouping visible as a batch size other than 2

_EXPECT = re.compile(r"#\s*expect:\s*(CNV\d{3}(?:\s*,\s*CNV\d{3})*)\s*$")
_ROOT = re.compile(r"#\s*(conv-lint|oracle):\s*input-shape\s*=\s*(\d+(?:\s*,\s*\d+)*)\s*$")
_CLASS = re.compile(r"^class\s+(\w+)\s*[(:]")
_ARGS = re.compile(r"#\s*oracle:\s*args\s*=\s*(.*?)\s*$")
_DYNAMIC = re.compile(r"#\s*oracle:\s*dynamic\b")
_OPTIONS = re.compile(r"^\s*#\s*options:\s*(.*?)\s*$", re.M)


@dataclass(frozen=True)
class Root:
    cls: str
    shape: tuple[int, ...]  # per sample, batch left out
    is_directive: bool  # True: `# conv-lint:` (the linter sees it); False: `# oracle:` only
    line: int  # the class line
    args: tuple = ()  # what torch builds the class with (the linter builds it with symbols)


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES_DIR.glob("*.py"))


def parse_expectations(path: Path) -> dict[int, set[str]]:
    """{1-based line: codes} from the `# expect:` comments of ``path``."""
    return expectations_in(Path(path).read_text())


def expectations_in(source: str) -> dict[int, set[str]]:
    """{1-based line: codes} from the `# expect:` comments of ``source``."""
    found: dict[int, set[str]] = {}
    for number, text in enumerate(source.splitlines(), start=1):
        match = _EXPECT.search(text)
        if match:
            found[number] = {code.strip() for code in match.group(1).split(",")}
    return found


def error_expectations(path: Path) -> dict[int, set[str]]:
    """The CNV1xx part of the expectations: the lines where torch must fail."""
    return _only(parse_expectations(path), is_error_code)


def design_expectations(path: Path) -> dict[int, set[str]]:
    """The CNV2xx part of the expectations: design warnings, on models torch runs."""
    return _only(parse_expectations(path), lambda code: not is_error_code(code))


def is_error_code(code: str) -> bool:
    return code.startswith("CNV1")


def _only(expectations: dict[int, set[str]], keep) -> dict[int, set[str]]:
    kept = {line: {code for code in codes if keep(code)} for line, codes in expectations.items()}
    return {line: codes for line, codes in kept.items() if codes}


def options_in(source: str):
    """The ``# options: --conv-x=y ...`` lines of ``source`` as ``rules.base.Options``."""
    from conv_lint.plugin import option_name, parse_rule_options
    from conv_lint.options import Options

    fields = {option_name(field): field for field in Options.names()}
    values = {}
    for line in _OPTIONS.findall(source):
        for word in shlex.split(line):
            flag, _, value = word.partition("=")
            assert flag in fields, f"unknown option {flag!r} (known: {sorted(fields)})"
            values[fields[flag]] = value
    return parse_rule_options(values)


def find_root_classes(path: Path) -> list[Root]:
    """Every class preceded by an input-shape comment (other comment lines may sit between)."""
    lines = Path(path).read_text().splitlines()
    roots = []
    for index, text in enumerate(lines):
        match = _CLASS.match(text)
        if not match:
            continue
        above, arg_lists = index - 1, [()]
        while above >= 0 and lines[above].lstrip().startswith(("#", "@")):
            listed = _ARGS.search(lines[above])
            if listed:
                arg_lists = [ast.literal_eval(f"({part},)") for part in listed.group(1).split("|")]
            directive = _ROOT.search(lines[above])
            if directive:
                shape = tuple(int(part) for part in directive.group(2).split(","))
                is_directive = directive.group(1) == "conv-lint"
                roots += [Root(match.group(1), shape, is_directive, index + 1, args)
                          for args in arg_lists]
                break
            above -= 1
    return roots


def find_roots(path: Path) -> list[tuple[str, tuple[int, ...], bool]]:
    """[(class_name, per-sample shape, is_directive)] for every root class of ``path``."""
    return [(root.cls, root.shape, root.is_directive) for root in find_root_classes(path)]


def dynamic_classes(path: Path) -> set[str]:
    """Names of the classes whose class line carries `# oracle: dynamic`."""
    names = set()
    for text in Path(path).read_text().splitlines():
        match = _CLASS.match(text)
        if match and _DYNAMIC.search(text):
            names.add(match.group(1))
    return names


def load_fixture(path: Path):
    """Import a fixture from its path under a private module name."""
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(f"_fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- what torch's error messages mean, in conv-lint's codes --------------------------------
# First match wins. Messages are those of torch 2.13 on CPU (see /work/shared/FACTS.md).
TORCH_ERRORS: tuple[tuple[str, frozenset], ...] = tuple(
    (pattern, frozenset(codes.split()))
    for pattern, codes in (
        (r"input.size\(-1\) must be equal to input_size", "CNV112"),  # RNN, LSTM, GRU
        (r"input has inconsistent input_size", "CNV112"),  # their cells
        (r"was expecting embedding dimension of", "CNV112"),  # attention's query
        (r"expecting (query|key|value) weights shape", "CNV112"),  # attention's kdim, vdim
        (r"feature number of src and tgt must be equal to d_model", "CNV112"),
        (r"Expected input to be \dD or \dD", "CNV111"),  # recurrent layers and cells
        (r"query should be unbatched 2D or batched 3D", "CNV111"),
        (r"embed_dim must be divisible by num_heads", "CNV110"),
        # a batched tensor fed to a layer of one rank more: torch takes it as unbatched
        (r"expected input\[1, \d+", "CNV111"),
        (r"to have \d+ channels, but got \d+ channels", "CNV101"),
        (r"running_mean should contain \d+ elements", "CNV102"),
        (r"Expected weight to be a vector of size equal to the number of channels", "CNV102"),
        (r"Expected number of channels in input to be divisible by num_groups", "CNV102 CNV109"),
        (r"Given normalized_shape=", "CNV102"),
        (r"expected input's size at dim=1 to match num_features", "CNV102"),
        (r"mat1 and mat2 shapes cannot be multiplied", "CNV103 CNV113"),  # F.linear, or @
        (r"Expected size for first two dimensions of batch2 tensor", "CNV113"),  # bmm
        (r"size mismatch, got input \(\d+\), mat", "CNV113"),  # matrix @ vector
        (r"inconsistent tensor size, expected tensor \[\d+\] and src", "CNV113"),  # dot
        (r"einsum\(\): .*(does not broadcast|sizes don't match)", "CNV113"),
        (r"shape '\[.*\]' is invalid for input of size", "CNV104"),
        (r"Kernel size can't be greater than actual input size", "CNV105"),
        (r"Output size is too small", "CNV105"),
        (r"Only zero batch or zero channel inputs are supported", "CNV105"),  # a 0-size axis
        (r"Expected reduction dim( -?\d+)? to (have non-zero size|be specified for input.numel)",
         "CNV105"),  # amax, argmax... of an empty map
        (r"Invalid computed output size", "CNV105"),
        (r"Input and output sizes should be greater than 0", "CNV105"),
        (r"could not construct a memory descriptor", "CNV105"),  # ConvTranspose output < 1
        (r"Padding size should be less than the corresponding input dimension", "CNV105"),
        (r"input image \(.*\) smaller than kernel size", "CNV105"),  # avg_pool3d
        (r"Padding value causes wrapping around more than once", "CNV105"),  # circular
        (r"The size of tensor a \(\d+\) must match the size of tensor b", "CNV106"),
        (r"The expanded size of the tensor \(\d+\) must match the existing size", "CNV106"),
        (r"Sizes of tensors must match except in dimension", "CNV107"),
        (r"padding='same' is not supported for strided convolutions", "CNV108"),
        (r"must be divisible by groups", "CNV109"),
        (r"expected weight to be divisible by \d+ at dimension 0", "CNV109"),  # F.conv2d
        (r"must be divisible by num_groups", "CNV109"),
        (r"Invalid padding string", "CNV110"),
        (r"to match the calculated number of sliding blocks", "CNV110"),  # nn.Fold
        (r"to be divisible by the product of kernel_size", "CNV110"),  # nn.Fold
        (r"array of sliding blocks as .* must be at least one", "CNV105"),  # nn.Unfold
        (r"[Pp]adding_idx must be within num_embeddings", "CNV110"),
        (r"non-positive (stride|dilation) is not supported", "CNV110"),
        (r"output padding must be smaller than either stride or dilation", "CNV110"),
        (r"pad should be at most half of effective kernel size", "CNV110"),
        (r"padding should be at most half of kernel size", "CNV110"),  # max_pool1d's wording
        (r"pad should be smaller than or equal to half of kernel size", "CNV110"),  # 3d pools
        (r"stride should not be zero", "CNV110"),
        (r"kernel size should be greater than zero", "CNV110"),
        (r"negative padding is not supported", "CNV110"),
        (r"Trying to create tensor with negative dimension", "CNV110"),
        (r"could not create a primitive descriptor for the (de)?convolution", "CNV110"),  # k=0
        (r"Expected \d+D \(unbatched\) or \d+D \(batched\) input", "CNV111"),
        (r"expected \d+D (or \d+D )?input \(got \d+D input\)", "CNV111"),
        (r"tensor expected for input", "CNV111"),
        (r"Input dimension should be at least", "CNV111"),
        (r"Only 3D, 4D and 5D input Tensors supported", "CNV111"),
        (r"Dimension out of range", "CNV111"),
        (r"Wrong shape: expected >?=?\d+ dims", "CNV111"),  # einops: a rank the pattern rejects
        (r"Shape mismatch, (can't divide axis|\d+ != \d+)", "CNV114"),  # einops: axis lengths
        (r"(batch1|batch2) must be a 3D tensor|self must be a matrix|mat2 must be a matrix"
         r"|both arguments to matmul need to be at least 1D", "CNV111"),
    )
)


def codes_for_error(error: BaseException) -> frozenset:
    """The conv-lint codes a torch error message stands for; empty if not recognised."""
    text = str(error)
    for pattern, codes in TORCH_ERRORS:
        if re.search(pattern, text):
            return codes
    return frozenset()


def is_map_too_small(error: BaseException) -> bool:
    return codes_for_error(error) == {"CNV105"}


# --- running a root under torch ----------------------------------------------------------------
@dataclass
class Outcome:
    stage: str  # "construct", "forward" or "ok"
    error: Optional[BaseException] = None
    line: Optional[int] = None  # deepest traceback line inside the fixture file
    batch: Optional[int] = None  # batch size of the output, when it ran

    def describe(self) -> str:
        if self.error is None:
            return f"ran, output batch {self.batch}"
        first = str(self.error).splitlines()[0] if str(self.error) else ""
        return (f"{type(self.error).__name__} at {self.stage}, line {self.line}: "
                f"{first[:160]}")


def deepest_line_in(error: BaseException, path: Path) -> Optional[int]:
    """The line of the innermost traceback frame that lies in ``path``."""
    target = str(Path(path).resolve())
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    return line


def zeros_for(shape: tuple[int, ...], model: Optional[torch.nn.Module] = None) -> torch.Tensor:
    """Zeros of ``shape`` after the batch; token ids (long zeros) for a ``model`` that looks its
    input up in an embedding: torch rejects a float tensor there."""
    x = torch.zeros(BATCH, *shape)
    return x.long() if model is not None and _takes_ids(model, x) else x


_IDS_ONLY = "to have one of the following scalar types: Long, Int"  # embedding's dtype check


def _takes_ids(model: torch.nn.Module, x: torch.Tensor) -> bool:
    if not any(isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))
               for m in model.modules()):
        return False
    try:
        with torch.no_grad():
            model(x)
    except Exception as error:  # noqa: BLE001 - only the dtype check matters here
        return _IDS_ONLY in str(error)
    return False


def build(module, cls: str, args: tuple = ()) -> torch.nn.Module:
    return getattr(module, cls)(*args)


def bindings(module, root: Root) -> dict:
    """The root's constructor parameters as torch builds it: what the linter's symbols stand for."""
    signature = inspect.signature(getattr(module, root.cls).__init__)
    required = [p for p in signature.parameters.values() if p.default is p.empty]
    assert len(root.args) < len(required), f"{root.cls}: args go to parameters without defaults"
    bound = signature.bind(None, *root.args)
    bound.apply_defaults()
    return {name: value for name, value in list(bound.arguments.items())[1:]}


def concrete_shape(shape, names: dict):
    """An explain shape with its symbolic channel counts (``4*planes``) evaluated for ``names``;
    an entry that does not evaluate to an int stays as it was."""
    if not isinstance(shape, (list, tuple)):
        return shape
    out = []
    for size in shape:
        if isinstance(size, str) and names:
            try:
                value = eval(size, {"__builtins__": {}}, dict(names))  # noqa: S307 - test data
            except Exception:  # noqa: BLE001 - an input symbol (H) or another unknown
                value = size
            size = value if type(value) is int else size
        out.append(size)
    return out


def run_model(model: torch.nn.Module, shape: tuple[int, ...], path: Path) -> Outcome:
    try:
        with torch.no_grad():
            out = model(zeros_for(shape, model))
    except Exception as error:  # torch raises RuntimeError, ValueError, IndexError, ...
        return Outcome("forward", error, deepest_line_in(error, path))
    batch = out.shape[0] if isinstance(out, torch.Tensor) and out.dim() > 0 else None
    return Outcome("ok", batch=batch)


def run_root(module, root: Root, path: Path) -> Outcome:
    """Construct ``root`` with no arguments and run it on zeros of its shape."""
    try:
        model = build(module, root.cls, root.args)
    except Exception as error:
        return Outcome("construct", error, deepest_line_in(error, path))
    return run_model(model, root.shape, path)


def executed_lines(module, root: Root, path: Path) -> set[int]:
    """The lines of ``path`` that run while ``root`` is built and run forward on zeros."""
    target = str(Path(path).resolve())
    lines: set[int] = set()

    def local(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def calls(frame, event, arg):
        if frame.f_code.co_filename != target:  # load_fixture imports from the resolved path
            return None
        lines.add(frame.f_lineno)
        return local

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        run_root(module, root, path)
    finally:
        sys.settrace(previous)
    return lines


def sweep_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Input shapes with every spatial axis set to one size, for "every input size" claims."""
    channels, spatial = shape[0], len(shape) - 1
    # every size over a few periods of the strides, then sparser up to a large size
    sizes = {1: [*range(16, 64), *range(64, 257, 11)],
             2: [*range(16, 41), *range(41, 97, 7)],
             3: [*range(8, 20), *range(20, 41, 5)]}[spatial]
    return [(channels,) + (size,) * spatial for size in sizes]


# --- recording what torch computes, layer by layer -------------------------------------------
@dataclass(frozen=True)
class Call:
    name: str  # as named_modules() gives it
    type: str
    shape: Optional[tuple[int, ...]]  # per sample; None when the output is not a tensor
    occurrence: int  # 0 for the first call of this module, 1 for the second, ...
    params: Optional[int]  # after the call (a lazy layer is built by it)


def forward_call_sites(model: torch.nn.Module, shape: tuple[int, ...]) -> set:
    """The call sites of one forward that give tensors, as explain's census counts them: each
    call of a module (key: its line and the module) and each torch function or tensor method
    called on tensors outside torch's own modules (key: its line and the function), operators
    and indexing left out."""
    from torch.overrides import TorchFunctionMode

    sites: set = set()
    inside_torch = [0]  # depth of calls into torch.nn's own modules

    def caller() -> tuple:
        frame = sys._getframe(2)
        while frame is not None and "/torch/" in frame.f_code.co_filename:
            frame = frame.f_back
        if frame is None:
            return "", 0, 0
        return frame.f_code.co_filename, frame.f_lineno, frame.f_lasti  # lasti: which call

    def written_as_call(name: str, filename: str, line: int) -> bool:
        """``x.add(y)`` is a call, ``x + y`` (the same function to torch) an operator."""
        text = "".join(linecache.getline(filename, n) for n in range(line, line + 3))
        spellings = {name, name.partition("_")[2]}  # torch.fft.rfft2 is torch's fft_rfft2
        return any(re.search(rf"\b{re.escape(spelling)}\s*\(", text)
                   for spelling in spellings if spelling)

    def gives_tensors(result) -> bool:
        if isinstance(result, torch.Tensor):
            return True
        return isinstance(result, tuple) and bool(result) and all(
            isinstance(item, torch.Tensor) for item in result)

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            name = getattr(func, "__name__", "")
            if not inside_torch[0] and not name.startswith("__") and gives_tensors(result) \
                    and any(isinstance(t, torch.Tensor) for a in args  # torch.cat([a, b])
                            for t in (a if isinstance(a, (tuple, list)) else [a])):
                filename, line, instruction = caller()
                if written_as_call(name, filename, line):
                    sites.add((line, name, instruction))
            return result

    def torch_layer(module) -> bool:  # a library's layer; a container only calls its children
        return type(module).__module__.split(".")[0] in ("torch", "einops") and not isinstance(
            module, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict))

    def before(module, args):
        if not inside_torch[0]:
            sites.add((caller()[1], id(module)))
        inside_torch[0] += torch_layer(module)

    def after(module, args, output):
        inside_torch[0] -= torch_layer(module)

    x = zeros_for(shape, model)  # which may run the model once: before the hooks
    handles = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
    try:
        with torch.no_grad(), Functions():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return sites


def trace_calls(model: torch.nn.Module, shape: tuple[int, ...],
                partial: bool = False) -> list[Call]:
    """Every module call of one forward, in pre-order (a container before its children).

    ``partial``: the forward is expected to fail; return the calls made before it did.
    """
    records: list[dict] = []
    open_calls: list[int] = []
    seen: dict[str, int] = {}
    handles = []

    def before(name):
        def hook(module, args):
            records.append({"name": name, "type": type(module).__name__, "shape": None,
                            "occurrence": seen.get(name, 0), "params": _params(module)})
            seen[name] = seen.get(name, 0) + 1
            open_calls.append(len(records) - 1)
        return hook

    def after(module, args, output):
        index = open_calls.pop()
        records[index]["params"] = _params(module)  # lazy layers inside it are built now
        if isinstance(output, torch.Tensor):
            records[index]["shape"] = tuple(output.shape[1:])

    x = zeros_for(shape, model)  # before the hooks: it may run the model once
    for name, module in model.named_modules():
        if name:  # the root is not a row
            handles.append(module.register_forward_pre_hook(before(name)))
            handles.append(module.register_forward_hook(after))
    try:
        with torch.no_grad():
            model(x)
    except Exception:
        if not partial:
            raise
    finally:
        for handle in handles:
            handle.remove()
    return [Call(**record) for record in records]


def _params(module: torch.nn.Module) -> Optional[int]:
    """Its parameters' elements; None while a lazy layer in it has not run."""
    parameters = list(module.parameters())
    if any(torch.nn.parameter.is_lazy(p) for p in parameters):
        return None
    return sum(p.numel() for p in parameters)


def excused_names(model: torch.nn.Module, dynamic: set[str]) -> set[str]:
    """Modules inside a `# oracle: dynamic` class (the root included): misses allowed there."""
    marked = [name for name, module in model.named_modules() if type(module).__name__ in dynamic]
    excused = set()
    for name, _ in model.named_modules():
        for prefix in marked:
            if prefix == "" or name == prefix or name.startswith(prefix + "."):
                excused.add(name)
    return excused


_MAX_POOLS = (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d)


def read_rows(layer, shape: tuple, dim: int) -> set:
    """Indices along ``dim`` of an input of ``shape`` that some output of ``layer`` depends on."""
    if isinstance(layer, _MAX_POOLS):  # a max passes one gradient per window: probe each row
        base = layer(torch.zeros(shape))
        read = set()
        for row in range(shape[dim]):
            probe = torch.zeros(shape)
            probe.select(dim, row).fill_(1.0)
            if not torch.equal(layer(probe), base):
                read.add(row)
        return read
    x = (torch.rand(shape) + 0.5).requires_grad_()
    layer(x).sum().backward()
    weight = x.grad.abs().sum(dim=[d for d in range(len(shape)) if d != dim])
    return {row for row in range(shape[dim]) if weight[row] > 0}
