"""`[tool.conv-lint]` in `pyproject.toml`: found by walking up, read and checked key by key.

    [tool.conv-lint]
    select = ["CNV"]
    ignore = ["CNV204"]
    input-shape = "3,32,32"          # or [3, 32, 32]; token ids: 50 (or "50", [50])
    exclude = ["legacy/"]            # replaces the default excludes
    extend-exclude = ["*_pb2.py"]    # adds to them
    padding-policy = "strict"        # every design-rule option, kebab-case
    early-layers = 3

    [tool.conv-lint.per-file-ignores]
    "tests/*" = ["CNV2"]

Only a `pyproject.toml` with a `[tool.conv-lint]` table counts, as ruff does with its own.
An unknown key or a bad value raises ConfigError naming the file and the key.
"""

from __future__ import annotations

import sys
from dataclasses import field
from pathlib import Path
from typing import Any, Optional

from conv_lint.check.selection import parse_codes
from conv_lint.plugin import rule_option_fields
from conv_lint.records import record
from conv_lint.source.directives import parse_shape

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
TABLE = "conv-lint"


class ConfigError(Exception):
    """A configuration the user must fix: one line naming the file and the key."""


@record
class Config:
    """The settings of one `[tool.conv-lint]` table (None: not given there)."""

    path: Optional[Path] = None  # the pyproject.toml; None when there is none
    root: Path = field(default_factory=Path.cwd)  # its folder: base of globs and of the cache
    select: Optional[tuple[str, ...]] = None
    ignore: Optional[tuple[str, ...]] = None
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    input_shape: Optional[tuple[int, ...]] = None
    exclude: Optional[list[str]] = None
    extend_exclude: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # rule option field -> raw value


def option_key(field_name: str) -> str:
    """``padding_policy`` -> ``padding-policy`` (the config key and, with ``--``, the flag)."""
    return field_name.replace("_", "-")


def find(start: Path) -> Optional[Path]:
    """The nearest `pyproject.toml` with a `[tool.conv-lint]` table at or above ``start``."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        path = candidate / PYPROJECT
        if path.is_file() and _has_table(path):
            return path
    return None


def _has_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # cheap test first; a file that mentions the table is then parsed (and must parse)
    return f"tool.{TABLE}" in text or f'tool."{TABLE}"' in text


def load(path: Optional[Path]) -> Config:
    """The Config of ``path`` (an empty one, rooted at the working directory, for None)."""
    if path is None:
        return Config()
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    table = document.get("tool", {}).get(TABLE, {})
    config = Config(path=path, root=path.parent)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] must be a table")
    readers = _readers()
    for key, value in table.items():
        if key not in readers:
            known = ", ".join(sorted(readers))
            raise ConfigError(f"{path}: [tool.{TABLE}] unknown key {key!r} (known: {known})")
        try:
            readers[key](config, value)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"{path}: [tool.{TABLE}] {key}: {error}") from None
    return config


def _readers() -> dict:
    readers = {
        "select": lambda config, value: setattr(config, "select", parse_codes(value)),
        "ignore": lambda config, value: setattr(config, "ignore", parse_codes(value)),
        "per-file-ignores": _per_file_ignores,
        "input-shape": _input_shape,
        "exclude": lambda config, value: setattr(config, "exclude", _strings(value)),
        "extend-exclude": lambda config, value: setattr(config, "extend_exclude",
                                                        _strings(value)),
    }
    for rule_field in rule_option_fields():
        readers[option_key(rule_field.name)] = _option_reader(rule_field.name)
    return readers


def _option_reader(name: str):
    def read(config: Config, value: Any) -> None:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(f"expected a string or an integer, got {value!r}")
        config.options[name] = value  # checked with the command-line values, by field

    return read


def _per_file_ignores(config: Config, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError('expected a table like {"tests/*" = ["CNV2"]}')
    config.per_file_ignores = {str(glob): parse_codes(codes) for glob, codes in value.items()}


def _input_shape(config: Config, value: Any) -> None:
    if isinstance(value, list):
        if not all(isinstance(size, int) and not isinstance(size, bool) for size in value):
            raise ValueError(f"expected integers, got {value!r}")
        value = ",".join(str(size) for size in value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # one axis: a sequence of token ids, input-shape = 50
    if not isinstance(value, str):
        raise ValueError(f'expected "C,H,W" or [C, H, W], got {value!r}')
    config.input_shape = parse_shape(value)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of glob patterns, got {value!r}")
    return [item.strip() for item in value if item.strip()]
