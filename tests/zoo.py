"""The model zoo: the sources of torchvision 0.29.2 and timm 1.0.31, read but never installed.

``sources()`` finds them unpacked at /tmp/zoo/x, or downloads the two wheels once with
``pip download --no-deps`` into a cache directory (CONV_LINT_ZOO, else the temp dir) and unpacks
their Python files. ``load_real(module)`` imports one module of them under torch, with shims for
what their package __init__ files would drag in (PIL, huggingface): the real block code runs.
"""

from __future__ import annotations

import collections.abc
import importlib
import itertools
import os
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

import pytest

VERSIONS = {"torchvision": "0.29.2", "timm": "1.0.31"}
MODEL_DIRS = ("torchvision/models", "timm/models", "timm/layers")
SHORTCUT = Path("/tmp/zoo/x")


def sources() -> Path:
    """The directory holding torchvision/ and timm/ (the test fails if they cannot be had:
    pip reaches PyPI wherever the suite runs)."""
    if all((SHORTCUT / name / "__init__.py").is_file() for name in VERSIONS):
        return SHORTCUT
    cache = Path(os.environ.get("CONV_LINT_ZOO") or Path(tempfile.gettempdir()) / "conv-lint-zoo")
    target = cache / "src"
    done = target / ".complete"
    if done.is_file():
        return target
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    wanted = [f"{name}=={version}" for name, version in VERSIONS.items()]
    # Sources read, never installed: a machine's cap on what pip installs (a constraint file
    # in its config) must not refuse them.
    result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                             "-d", str(wheels), *wanted], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PIP_CONSTRAINT": os.devnull})
    if result.returncode != 0:
        pytest.fail(f"zoo sources unavailable: pip download failed: {result.stderr[-300:]}")
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py") and member.split("/")[0] in VERSIONS:
                    archive.extract(member, target)
    done.write_text("ok\n")
    return target


def model_files() -> list[Path]:
    root = sources()
    return sorted(path for folder in MODEL_DIRS for path in (root / folder).rglob("*.py"))


def load_real(module: str):
    """Import ``module`` (e.g. "timm.layers.conv_bn_act") from the zoo sources under torch."""
    root = sources()
    for name in ("torchvision", "torchvision.ops", "timm", "timm.layers", "timm.models"):
        if name not in sys.modules:
            package = types.ModuleType(name)  # its __init__ is not run: only what we import
            package.__path__ = [str(root.joinpath(*name.split(".")))]
            sys.modules[name] = package
    if "torchvision.utils" not in sys.modules:  # the real one imports PIL
        utils = types.ModuleType("torchvision.utils")
        utils._log_api_usage_once = lambda obj: None
        utils._make_ntuple = lambda x, n: tuple(x) if isinstance(
            x, collections.abc.Iterable) else tuple(itertools.repeat(x, n))
        sys.modules["torchvision.utils"] = utils
    return importlib.import_module(module)
