"""Reading and writing checked files as Python does: coding cookie, BOM and line endings kept."""

from __future__ import annotations

import io
import os
import re
import tempfile
import tokenize
from pathlib import Path


# Lines as Python counts them (\n, \r\n or \r): str.splitlines would also break at form feeds
# and other separators inside a line, and shift every line number after them.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(source: str) -> list[str]:
    """The lines of ``source`` with their endings, numbered as the engine numbers them."""
    return _LINE.findall(source)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a Python file's bytes; newlines are kept as they are.

    Raises SyntaxError (bad coding cookie) or UnicodeDecodeError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def read(path: Path) -> tuple[str, str]:
    return decode(path.read_bytes())


def write(path: Path, text: str, encoding: str) -> None:
    """Replace ``path`` atomically, keeping its permission bits."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode(encoding))
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
